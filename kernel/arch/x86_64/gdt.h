/* Segments: the GDT and the TSS with its interrupt stacks. */
#ifndef ARCH_GDT_H
#define ARCH_GDT_H

#include "types.h"

/* Selectors. The order suits syscall/sysret (STAR) for the user ones. */
#define GDT_KERNEL_CODE 0x08
#define GDT_KERNEL_DATA 0x10
#define GDT_USER_DATA   0x18
#define GDT_USER_CODE   0x20
#define GDT_TSS         0x28

/* Interrupt stack table slots (TSS.IST1..7), for faults that must not use
 * a possibly broken current stack. */
#define IST_DOUBLE_FAULT  1
#define IST_NMI           2
#define IST_MACHINE_CHECK 3
#define IST_COUNT         3

/* Offset of RSP0 in the TSS (gdt_tss): the kernel stack for entries from user mode. */
#define GDT_TSS_RSP0 4

void gdt_init(void);
void gdt_set_rsp0(uint64_t top);
void gdt_io_allow(uint32_t first, uint32_t count, bool allow);

#endif /* ARCH_GDT_H */
