/* System-call handlers that live beside their subsystems, and the shared argument helpers. */
#ifndef KERNEL_SYSCALL_H
#define KERNEL_SYSCALL_H

#include <mica/syscall.h>
#include "handle.h"
#include "syscall_abi.h"

typedef int64_t (*syscall_fn)(const struct syscall_args *s);

/* The handlers by number (syscall.c); NULL for none. */
extern syscall_fn syscall_table[MICA_SYS_COUNT];

int syscall_handle(uint64_t arg, uint32_t type, uint32_t need_rights, const struct handle **out);

int64_t mem_aspace_create(const struct syscall_args *s);
int64_t mem_aspace_destroy(const struct syscall_args *s);
int64_t mem_map(const struct syscall_args *s);
int64_t mem_unmap(const struct syscall_args *s);
int64_t mem_grant(const struct syscall_args *s);
int64_t mem_donate(const struct syscall_args *s);
int64_t mem_stats_call(const struct syscall_args *s);

#endif /* KERNEL_SYSCALL_H */
