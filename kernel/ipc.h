/* Endpoints and synchronous IPC (include/mica/ipc.h states the ABI). */
#ifndef KERNEL_IPC_H
#define KERNEL_IPC_H

#include "kobj.h"
#include "syscall_abi.h"
#include "thread.h"

/* An endpoint: threads queue on it to send or to receive, in FIFO order. */
struct endpoint {
	struct kobj obj;
	struct thread *senders, *senders_tail;
	struct thread *receivers, *receivers_tail;
	bool closed; /* no receive handle left: nobody can receive here again */
};

enum ipc_state {
	IPC_NONE,
	IPC_SENDING,     /* queued on ipc_ep->senders */
	IPC_RECEIVING,   /* queued on ipc_ep->receivers */
	IPC_AWAIT_REPLY, /* message taken by `replier`, waiting for its reply */
	IPC_NOTIFY_WAIT, /* in notify_wait on ntf_wait (notify.c) */
};

int endpoint_create(struct endpoint **out);
void endpoint_release(struct endpoint *ep);
void endpoint_hold(struct endpoint *ep);
void endpoint_drop(struct endpoint *ep);
void endpoint_unreferenced(struct endpoint *ep);
void ipc_detach(struct thread *t);
void ipc_notify(struct thread *t, struct endpoint *ep, uint64_t badge);
int64_t ipc_fault_call(struct thread *t, struct endpoint *ep, uint64_t badge);
int64_t ipc_send(const struct syscall_args *s, bool block, bool call);
int64_t ipc_recv(const struct syscall_args *s, bool block);
int64_t ipc_reply_recv(const struct syscall_args *s);
void ipc_expire(struct thread *t);
void ipc_wake(struct thread *t, int64_t result);
bool ipc_deliver_bits(struct thread *t, uint64_t bits);
int64_t ipc_sleep(uint64_t ns);

#endif /* KERNEL_IPC_H */
