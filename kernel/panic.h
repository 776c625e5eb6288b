/* Stopping the kernel: PANIC for bugs, boot_fail for machines Mica can't use. */
#ifndef KERNEL_PANIC_H
#define KERNEL_PANIC_H

#include "types.h"

void panic_begin(void);
void panic_backtrace(uint64_t rbp);
__attribute__((noreturn)) void panic_end(void);
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn)) void boot_fail(const char *reason);

#endif /* KERNEL_PANIC_H */
