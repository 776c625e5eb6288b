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
#define CR4_SMEP (1ULL << 20)
#define CR4_SMAP (1ULL << 21)
#define MSR_EFER 0xC0000080u

/*
 * RFLAGS (SDM vol. 1, 3.4.3). The kernel always runs with RFLAGS_KERNEL
 * (interrupts off, nothing else); user code keeps only RFLAGS_USER_MASK,
 * with IF always on (docs/ABI.md). entry.asm has the same numbers.
 */
#define RFLAGS_CF     (1ULL << 0)
#define RFLAGS_RES1   (1ULL << 1) /* always one */
#define RFLAGS_PF     (1ULL << 2)
#define RFLAGS_AF     (1ULL << 4)
#define RFLAGS_ZF     (1ULL << 6)
#define RFLAGS_SF     (1ULL << 7)
#define RFLAGS_TF     (1ULL << 8)
#define RFLAGS_IF     (1ULL << 9)
#define RFLAGS_DF     (1ULL << 10)
#define RFLAGS_OF     (1ULL << 11)
#define RFLAGS_IOPL   (3ULL << 12)
#define RFLAGS_NT     (1ULL << 14)
#define RFLAGS_RF     (1ULL << 16)
#define RFLAGS_VM     (1ULL << 17)
#define RFLAGS_AC     (1ULL << 18)
#define RFLAGS_VIF    (1ULL << 19)
#define RFLAGS_VIP    (1ULL << 20)
#define RFLAGS_ID     (1ULL << 21)
#define RFLAGS_ALL    0x3F7FD7ULL /* every defined bit */
#define RFLAGS_KERNEL RFLAGS_RES1
#define RFLAGS_USER_MASK                                                                           \
	(RFLAGS_CF | RFLAGS_PF | RFLAGS_AF | RFLAGS_ZF | RFLAGS_SF | RFLAGS_TF | RFLAGS_DF |       \
	 RFLAGS_OF | RFLAGS_AC | RFLAGS_ID)
#define RFLAGS_USER_SET (RFLAGS_IF | RFLAGS_RES1)

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

/* CPUID leaf/subleaf: r[0..3] = EAX, EBX, ECX, EDX. */
static inline void cpu_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid"
	                 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
	                 : "a"(leaf), "c"(sub));
}

/* Write extended control register n (XCR0: the XSAVE components enabled). */
static inline void cpu_xsetbv(uint32_t n, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(n), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
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
