/*
 * x86_64 CPU primitives: port I/O, control registers, MSRs, TLB control.
 * Host unit tests build with MICA_HOST and supply these as fakes, so code
 * such as the page-table module runs unchanged against simulated memory.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include "types.h"

#define CR0_WP   (1ULL << 16)
#define CR4_PGE  (1ULL << 7)
#define MSR_EFER 0xC0000080u
#define EFER_NXE (1ULL << 11)

/* QEMU's isa-debug-exit device: writing v makes QEMU exit with (v << 1) | 1. */
#define QEMU_EXIT_PORT    0xf4
#define QEMU_EXIT_SUCCESS 0x10 /* QEMU's exit status 33 */
#define QEMU_EXIT_FAILURE 0x11 /* QEMU's exit status 35 */

#ifdef MICA_HOST
uint64_t cpu_read_cr3(void);
void cpu_write_cr3(uint64_t v);
uint64_t cpu_read_cr4(void);
void cpu_write_cr4(uint64_t v);
void cpu_invlpg(vaddr_t va);
#else
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t cpu_read_cr0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void cpu_write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint64_t cpu_read_cr2(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t cpu_read_cr3(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

static inline void cpu_write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t cpu_read_cr4(void)
{
	uint64_t v;
	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline void cpu_write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static inline uint64_t cpu_rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

static inline void cpu_invlpg(vaddr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

/* Stop this CPU for good: interrupts off, halt forever. */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Leave QEMU with a status (QEMU_EXIT_*); on hardware, halt instead. */
static inline __attribute__((noreturn)) void cpu_qemu_exit(uint8_t code)
{
	outb(QEMU_EXIT_PORT, code);
	cpu_halt_forever();
}
#endif /* MICA_HOST */

#endif /* ARCH_CPU_H */
