/* Time: the tick count, the clock user space reads, and the timer queue. */
#ifndef KERNEL_TIMER_H
#define KERNEL_TIMER_H

#include "thread.h"

uint64_t timer_ticks(void);
uint64_t timer_clock_ns(void);
uint64_t timer_deadline(uint64_t timeout_ns);
void timer_arm(struct thread *t, uint64_t deadline);
void timer_cancel(struct thread *t);
void timer_tick(void);

#endif /* KERNEL_TIMER_H */
