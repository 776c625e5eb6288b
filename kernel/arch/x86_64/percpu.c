/*
 * Per-CPU setup (one CPU for now): the GS-based per-CPU area, and the
 * MSRs of the syscall instruction.
 */
#include "cpu.h"
#include "ctx.h"
#include "gdt.h"
#include "kprintf.h"
#include "percpu.h"

#define MSR_STAR           0xC0000081u
#define MSR_LSTAR          0xC0000082u
#define MSR_FMASK          0xC0000084u
#define MSR_GS_BASE        0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define EFER_SCE           (1ULL << 0)

#define CPUID7_EBX_SMEP (1u << 7)
#define CPUID7_EBX_SMAP (1u << 20)

extern char syscall_entry[];
static struct cpu boot_cpu;

/*
 * SMEP and SMAP, where the CPU has them: ring 0 can then neither execute
 * nor touch a user-accessible page, so a kernel bug that follows a user
 * pointer faults at once instead of running or leaking user data. The
 * kernel reaches user memory only through usercopy.c, which copies through
 * the direct map (never through the user address), so no stac/clac is
 * needed anywhere: RFLAGS.AC stays clear in ring 0 (entry.asm, isr.asm).
 */
static void protect_init(void)
{
	uint32_t r[4];

	cpu_cpuid(0, 0, r);
	if (r[0] < 7)
		return;
	cpu_cpuid(7, 0, r);
	uint64_t cr4 = cpu_read_cr4();
	if (r[1] & CPUID7_EBX_SMEP)
		cr4 |= CR4_SMEP;
	if (r[1] & CPUID7_EBX_SMAP)
		cr4 |= CR4_SMAP;
	cpu_write_cr4(cr4);
}

/*
 * Point GS at this CPU's area and enable syscall: the kernel is entered at
 * syscall_entry with CS = GDT_KERNEL_CODE and every RFLAGS bit but the
 * fixed bit 1 cleared (interrupts, single-stepping, nested task, alignment
 * checks, direction, IOPL, ...): nothing user code chose survives the entry.
 */
void percpu_init(void)
{
	boot_cpu.self = &boot_cpu;
	cpu_wrmsr(MSR_GS_BASE, (uint64_t)&boot_cpu);
	cpu_wrmsr(MSR_KERNEL_GS_BASE, 0);

	cpu_wrmsr(MSR_EFER, cpu_rdmsr(MSR_EFER) | EFER_SCE);
	/* sysret loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8. */
	cpu_wrmsr(MSR_STAR,
	          ((uint64_t)(GDT_USER_DATA - 8) << 48) | ((uint64_t)GDT_KERNEL_CODE << 32));
	cpu_wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	cpu_wrmsr(MSR_FMASK, RFLAGS_ALL & ~RFLAGS_KERNEL);

	protect_init();
	ctx_init();
	kprintf("cpu:%s%s %s, fpu area %u bytes\n", (cpu_read_cr4() & CR4_SMEP) ? " smep" : "",
	        (cpu_read_cr4() & CR4_SMAP) ? " smap" : "", ctx_describe(), ctx_fpu_size());
}
