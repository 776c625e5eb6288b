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
};

enum ipc_state {
	IPC_NONE,
	IPC_SENDING,     /* queued on ipc_ep->senders */
	IPC_RECEIVING,   /* queued on ipc_ep->receivers */
	IPC_AWAIT_REPLY, /* message taken by `replier`, waiting for its reply */
};

int endpoint_create(struct endpoint **out);
void endpoint_release(struct endpoint *ep);
void ipc_thread_dead(struct thread *t);
int64_t ipc_send(const struct syscall_args *s, bool block, bool call);
int64_t ipc_recv(const struct syscall_args *s, bool block);
int64_t ipc_reply_recv(const struct syscall_args *s);

#endif /* KERNEL_IPC_H */
