/* The IPC fast path for call and reply_recv (fastpath.c). */
#ifndef KERNEL_FASTPATH_H
#define KERNEL_FASTPATH_H

#include <stdbool.h>
#include "syscall_abi.h"

int64_t fastpath_call(const struct syscall_args *s);
int64_t fastpath_reply_recv(const struct syscall_args *s);

/*
 * syscall_table's handlers for call and reply_recv: the assembly fast
 * path (arch/x86_64/ipcfast.asm), which goes on to the two above when it
 * cannot take the call. Host tests have only the C ones.
 */
#ifdef MICA_HOST
#define FASTPATH_CALL       fastpath_call
#define FASTPATH_REPLY_RECV fastpath_reply_recv
#else
int64_t ipcfast_call(const struct syscall_args *s);
int64_t ipcfast_reply_recv(const struct syscall_args *s);
#define FASTPATH_CALL       ipcfast_call
#define FASTPATH_REPLY_RECV ipcfast_reply_recv
#endif

#endif /* KERNEL_FASTPATH_H */
