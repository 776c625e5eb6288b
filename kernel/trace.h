/*
 * The kernel trace buffer (trace.c, docs/TRACING.md): a ring of events with
 * time stamps. Each trace point is one call to an inline below, which tests
 * one global word and, when tracing is off (the default), does nothing
 * else: one test of memory and one predicted-not-taken branch. System calls
 * have no trace point: while they (or messages) are traced, trace.c points
 * every entry of syscall_table at its recorder, which also sends call and
 * reply_recv by the general path (ipc.c, whose transfer() has the message
 * trace point) instead of fastpath.c; untraced, the table is the plain one.
 */
#ifndef KERNEL_TRACE_H
#define KERNEL_TRACE_H

#include <mica/trace.h>
#include "types.h"

struct syscall_args;
struct thread;

/* Bit (1 << type) set: events of that type are recorded (0: tracing off). */
extern uint32_t trace_mask;

void trace_init(void);
int64_t trace_sys_control(const struct syscall_args *s);
void trace_dump_at_exit(void);
int trace_parse_events(const char *s, size_t n, uint32_t *mask);

void trace_rec_ipc(const struct thread *from, const struct thread *to) __attribute__((cold));
void trace_rec_switch(const struct thread *from, const struct thread *to) __attribute__((cold));
void trace_rec_fault(uint64_t vector, uint64_t addr, uint64_t rip) __attribute__((cold));
void trace_rec_irq(unsigned line) __attribute__((cold));

#ifdef MICA_HOST
#define TRACE_ON(type) false /* host tests: the trace points compile to nothing */
#else
#define TRACE_ON(type) __builtin_expect((trace_mask & MICA_TRACE_EV(type)) != 0, 0)
#endif

/* A message now in `to`'s registers, from `from` (label and badge read there). */
static inline void trace_ipc(const struct thread *from, const struct thread *to)
{
	if (TRACE_ON(MICA_TRACE_IPC))
		trace_rec_ipc(from, to);
}

/* The CPU goes from thread `from` to thread `to` (already the current one). */
static inline void trace_switch(const struct thread *from, const struct thread *to)
{
	if (TRACE_ON(MICA_TRACE_SWITCH))
		trace_rec_switch(from, to);
}

/* A fault of the running thread, given to its pager or handler. */
static inline void trace_fault(uint64_t vector, uint64_t addr, uint64_t rip)
{
	if (TRACE_ON(MICA_TRACE_FAULT))
		trace_rec_fault(vector, addr, rip);
}

/* Interrupt line `line` fired. */
static inline void trace_irq(unsigned line)
{
	if (TRACE_ON(MICA_TRACE_IRQ))
		trace_rec_irq(line);
}

#endif /* KERNEL_TRACE_H */
