/* Notifications: a word of bits, signalled without blocking (include/mica/notify.h). */
#ifndef KERNEL_NOTIFY_H
#define KERNEL_NOTIFY_H

#include "kobj.h"
#include "syscall_abi.h"
#include "thread.h"

struct notification {
	struct kobj obj; /* references: handles, a bound thread, interrupts */
	uint64_t word;   /* bits signalled and not yet taken */
	struct thread *waiters,
	    *waiters_tail;    /* blocked in notify_wait, FIFO, linked by ipc_next */
	struct thread *bound; /* the thread whose receive it is bound to, or NULL */
};

void notify_signal(struct notification *n, uint64_t bits);
uint64_t notify_take_bound(struct thread *t);
void notify_detach(struct thread *t);
/* t leaves its notification's wait queue (its timeout passed; or it ends). */
void notify_unwait(struct thread *t);
void notify_release(struct notification *n);

int64_t notify_sys_create(const struct syscall_args *s);
int64_t notify_sys_signal(const struct syscall_args *s);
int64_t notify_sys_wait(const struct syscall_args *s);
int64_t notify_sys_poll(const struct syscall_args *s);
int64_t notify_sys_bind(const struct syscall_args *s);

#endif /* KERNEL_NOTIFY_H */
