/* The kernel's own address space: the direct map and the kernel image. */
#ifndef KERNEL_VM_H
#define KERNEL_VM_H

#include "memmap.h"
#include "types.h"

/* Symbols from linker.ld and boot.asm. */
extern char __kernel_phys_start[], __kernel_phys_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
extern char boot_stack_guard[], boot_stack[], boot_stack_top[];

/* The physical address of a kernel-image symbol. */
static inline paddr_t kimage_to_phys(const void *p)
{
	return (paddr_t)p - MICA_KERNEL_VBASE;
}

void vm_init(const struct memmap *m);
paddr_t vm_kernel_root(void);

#endif /* KERNEL_VM_H */
