/* The IPC fast path for call and reply_recv (fastpath.c). */
#ifndef KERNEL_FASTPATH_H
#define KERNEL_FASTPATH_H

#include <stdbool.h>
#include "syscall_abi.h"

int64_t fastpath_call(const struct syscall_args *s);
int64_t fastpath_reply_recv(const struct syscall_args *s);

#endif /* KERNEL_FASTPATH_H */
