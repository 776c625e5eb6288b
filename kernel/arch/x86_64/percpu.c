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

extern char syscall_entry[];
static struct cpu boot_cpu;

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

	ctx_init();
	kprintf("cpu: %s, fpu area %u bytes\n", ctx_describe(), ctx_fpu_size());
}

/* The kernel stack used on the next entry from user mode (syscall and interrupts). */
void percpu_set_kernel_stack(uint64_t top)
{
	boot_cpu.kernel_rsp = top;
	gdt_set_rsp0(top);
}
