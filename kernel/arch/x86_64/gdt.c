/*
 * GDT and TSS. Long mode ignores segment bases and limits except for the
 * TSS, which holds the interrupt stack table: a double fault (for example
 * a kernel stack overflow), an NMI or a machine check switch to stacks of
 * their own, so they are reported instead of escalating to a triple fault.
 */
#include <mica/device.h>
#include <stddef.h>
#include "gdt.h"
#include "lib/string.h"
#include "types.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
	/* The I/O permission bitmap: a set bit forbids user mode the port
	 * (IOPL stays 0); the byte after it must be all ones (SDM 3A 20.5.2). */
	uint8_t iomap[MICA_IOPORT_COUNT / 8 + 1];
} __attribute__((packed));

struct gdt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define IST_STACK_SIZE 8192

static uint8_t ist_stack[IST_COUNT][IST_STACK_SIZE] __attribute__((aligned(16)));
/* Not static: ipcfast.asm sets rsp[0] at offset GDT_TSS_RSP0 (checked below). */
struct tss gdt_tss;
_Static_assert(offsetof(struct tss, rsp) == GDT_TSS_RSP0, "ipcfast.asm's GDT_TSS_RSP0");

/* Null, kernel code and data, user data and code, then the 16-byte TSS. */
static uint64_t gdt[7] = {
    0,
    0x00AF9A000000FFFFULL, /* kernel code: present, DPL 0, long mode */
    0x00CF92000000FFFFULL, /* kernel data */
    0x00CFF2000000FFFFULL, /* user data: DPL 3 */
    0x00AFFA000000FFFFULL, /* user code: DPL 3, long mode */
    0,                     /* TSS, filled in by gdt_init */
    0,
};

/* The stack the CPU switches to on an interrupt or exception from user mode. */
void gdt_set_rsp0(uint64_t top)
{
	gdt_tss.rsp[0] = top;
}

/* Allow (or forbid again) user-mode in/out on ports [first, first + count) (ioport.c). */
void gdt_io_allow(uint32_t first, uint32_t count, bool allow)
{
	for (uint32_t p = first; p < first + count && p < MICA_IOPORT_COUNT; p++) {
		if (allow)
			gdt_tss.iomap[p / 8] &= (uint8_t) ~(1u << (p % 8));
		else
			gdt_tss.iomap[p / 8] |= (uint8_t)(1u << (p % 8));
	}
}

/* Load the kernel's GDT and TSS and reload every segment register. */
void gdt_init(void)
{
	uint64_t base = (uint64_t)&gdt_tss, limit = sizeof(gdt_tss) - 1;

	for (int i = 0; i < IST_COUNT; i++)
		gdt_tss.ist[i] = (uint64_t)&ist_stack[i][IST_STACK_SIZE];
	gdt_tss.iomap_base = offsetof(struct tss, iomap);
	memset(gdt_tss.iomap, 0xFF, sizeof(gdt_tss.iomap)); /* every port forbidden */

	/* A 64-bit available TSS descriptor (type 9), present. */
	gdt[GDT_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ULL << 40) |
	                   ((limit >> 16 & 0xF) << 48) | ((base >> 24 & 0xFF) << 56);
	gdt[GDT_TSS / 8 + 1] = base >> 32;

	struct gdt_ptr p = {sizeof(gdt) - 1, (uint64_t)gdt};
	__asm__ volatile("lgdt %0\n\t"
	                 "pushq %1\n\t"
	                 "leaq 1f(%%rip), %%rax\n\t"
	                 "pushq %%rax\n\t"
	                 "lretq\n"
	                 "1:\n\t"
	                 "movw %w2, %%ds\n\t"
	                 "movw %w2, %%es\n\t"
	                 "movw %w2, %%ss\n\t"
	                 "xorl %%eax, %%eax\n\t"
	                 "movw %%ax, %%fs\n\t"
	                 "movw %%ax, %%gs\n\t"
	                 "ltr %w3"
	                 :
	                 : "m"(p), "i"(GDT_KERNEL_CODE), "r"(GDT_KERNEL_DATA), "r"(GDT_TSS)
	                 : "rax", "memory");
}
