/*
 * The user CPU state a thread owns besides its general registers: the
 * x87/MMX/SSE (and AVX) registers, and the data segment selectors DS, ES,
 * FS, GS. Nothing of one thread's state ever reaches another thread.
 *
 * FPU: every thread has its own save area, in its block (thread.h). The
 * switch is eager, not lazy (no CR0.TS and #NM trap): when a user thread
 * is switched in, its state is loaded at once, so its registers can never
 * hold another thread's values, even speculatively (the lazy scheme leaked
 * them: "LazyFP"), and no trap is taken in the middle of user code. The
 * save is deferred: the registers belong to ctx_fpu_owner until another user
 * thread needs them, so a switch to the idle thread and back, or a kernel
 * thread, costs nothing. XSAVE/XRSTOR where CPUID has them (XCR0 = x87,
 * SSE and AVX if present, nothing larger, so the area is 576 or 832
 * bytes), FXSAVE/FXRSTOR otherwise (512 bytes). The kernel itself never
 * touches these registers (-mgeneral-regs-only).
 *
 * Segments: in long mode the kernel does not use DS, ES, FS or GS (GS's
 * base is swapped by swapgs, never loaded through the selector), but user
 * code can load any null or user selector into them, and they stay loaded
 * across system calls and interrupts. So each user thread's selectors are
 * saved when it is switched out and put back (if they differ) when it is
 * switched in; a new thread starts with all four null. The GS base of
 * user code is always 0, and the FS base is the address of the thread's
 * IPC buffer (ipcbuf.c; 0 without one), which only the kernel sets:
 * CR4.FSGSBASE stays off (wrfsbase is #UD). The base is written (MSR
 * FS_BASE) at every switch to a thread that has a buffer, and to one
 * without when the last base written was not 0: a thread can change its
 * own base only by loading FS, which makes it 0 (or leaves it, on AMD's
 * null loads), so "both 0" is the one case where the write can be
 * skipped whatever the thread before did. The kernel itself never reads
 * the FS base: it knows each thread's buffer from the thread.
 */
#include <mica/layout.h>
#include "cpu.h"
#include "ctx.h"
#include "lib/string.h"
#include "panic.h"
#include "thread.h"

#define CR0_MP           (1ULL << 1) /* WAIT obeys TS */
#define CR0_EM           (1ULL << 2) /* x87 emulation: off */
#define CR0_TS           (1ULL << 3) /* task switched: off (no lazy switch) */
#define CR0_NE           (1ULL << 5) /* x87 errors as #MF, not the legacy IRQ 13 */
#define CR4_OSFXSR       (1ULL << 9)
#define CR4_OSXMMEXCPT   (1ULL << 10)
#define CR4_OSXSAVE      (1ULL << 18)
#define XCR0_X87         (1ULL << 0)
#define XCR0_SSE         (1ULL << 1)
#define XCR0_AVX         (1ULL << 2)
#define CPUID1_EDX_FXSR  (1u << 24)
#define CPUID1_EDX_SSE   (1u << 25)
#define CPUID1_ECX_XSAVE (1u << 26)
#define CPUID1_ECX_AVX   (1u << 28)

/* ipcfast.asm's xsave/xrstor give the mask in EAX only (EDX is a message word). */
_Static_assert(((XCR0_X87 | XCR0_SSE | XCR0_AVX) >> 32) == 0, "XCR0 fits in EAX");
/* The state after FNINIT, with SSE exceptions masked (the ABI's defaults). */
#define FCW_DEFAULT   0x037F
#define MXCSR_DEFAULT 0x1F80
#define FXSAVE_MXCSR  24 /* offset of MXCSR in the legacy area */

/* Not static: ipcfast.asm's switch reads them and keeps ctx_fpu_owner as ctx_switch does. */
bool ctx_use_xsave;
uint64_t ctx_xcr0;
static uint32_t area_size;
struct thread *ctx_fpu_owner; /* whose state the FPU registers hold, or NULL */
/* The FS base last written (0 at reset); ipcfast.asm's switch keeps it too. */
uint64_t ctx_fs_base_written;

#define MSR_FS_BASE 0xC0000100u

/* The running thread's FS base is now `base` (its IPC buffer: ipcbuf.c, and the switch below). */
void ctx_fs_base_set(uint64_t base)
{
	cpu_wrmsr(MSR_FS_BASE, base);
	ctx_fs_base_written = base;
}

/*
 * Enable the FPU and SSE for user code (CR0, CR4, XCR0) and size the save
 * area. Every x86_64 CPU has FXSAVE and SSE.
 */
void ctx_init(void)
{
	uint32_t r[4], d[4];

	cpu_cpuid(1, 0, r);
	if (!(r[3] & CPUID1_EDX_FXSR) || !(r[3] & CPUID1_EDX_SSE))
		panic("cpu: no FXSAVE or SSE");
	cpu_write_cr0((cpu_read_cr0() & ~(CR0_EM | CR0_TS)) | CR0_MP | CR0_NE);
	uint64_t cr4 = cpu_read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
	area_size = 512;
	if (r[2] & CPUID1_ECX_XSAVE) {
		cpu_write_cr4(cr4 | CR4_OSXSAVE);
		cpu_cpuid(0xD, 0, d); /* EAX: the XCR0 bits this CPU supports */
		ctx_xcr0 = XCR0_X87 | XCR0_SSE;
		if ((r[2] & CPUID1_ECX_AVX) && (d[0] & XCR0_AVX))
			ctx_xcr0 |= XCR0_AVX;
		cpu_xsetbv(0, ctx_xcr0);
		cpu_cpuid(0xD, 0, d); /* EBX: the area XCR0 now needs */
		area_size = d[1];
		ctx_use_xsave = true;
	} else {
		cpu_write_cr4(cr4);
	}
	if (area_size > CTX_FPU_MAX)
		panic("cpu: an FPU area of %u bytes does not fit a thread's block", area_size);
}

/* How the FPU state is switched, for the boot line: "xsave avx", "xsave" or "fxsave". */
const char *ctx_describe(void)
{
	if (!ctx_use_xsave)
		return "fxsave";
	return (ctx_xcr0 & XCR0_AVX) ? "xsave avx" : "xsave";
}

/* Bytes of a thread's FPU save area. */
uint32_t ctx_fpu_size(void)
{
	return area_size;
}

/*
 * A new thread's state: the FPU as FNINIT leaves it (x87 stack empty,
 * exceptions masked, MXCSR default, every register zero) and null
 * selectors. XRSTOR loads the components whose XSTATE_BV bit is clear
 * (here all of them) in their initial state, and MXCSR from the area.
 */
void ctx_thread_init(struct thread *t)
{
	uint8_t *a = thread_fpu(t);

	memset(a, 0, area_size);
	*(uint16_t *)a = FCW_DEFAULT;
	*(uint32_t *)(a + FXSAVE_MXCSR) = MXCSR_DEFAULT;
	t->segs = 0;
}

/* Save the owner's FPU registers to `save` (if not NULL), load them from `load`. */
static void fpu_swap(void *save, const void *load)
{
	uint32_t lo = (uint32_t)ctx_xcr0, hi = (uint32_t)(ctx_xcr0 >> 32);

	if (ctx_use_xsave) {
		if (save)
			__asm__ volatile("xsave64 (%0)" : : "r"(save), "a"(lo), "d"(hi) : "memory");
		__asm__ volatile("xrstor64 (%0)" : : "r"(load), "a"(lo), "d"(hi) : "memory");
	} else {
		if (save)
			__asm__ volatile("fxsave64 (%0)" : : "r"(save) : "memory");
		__asm__ volatile("fxrstor64 (%0)" : : "r"(load) : "memory");
	}
}

/*
 * Store the four selectors now loaded into *to, packed as ctx_segs_t (DS
 * in the low 16 bits, then ES, FS, GS): four 16-bit stores, no shifting.
 */
static inline void segs_save(ctx_segs_t *to)
{
	uint16_t *w = (uint16_t *)to;

	__asm__ volatile("mov %%ds, %0\n\t"
	                 "mov %%es, %1\n\t"
	                 "mov %%fs, %2\n\t"
	                 "mov %%gs, %3"
	                 : "=m"(w[0]), "=m"(w[1]), "=m"(w[2]), "=m"(w[3]));
}

/*
 * Load the selectors that differ. Loading GS would set the base GS points
 * at now, the kernel's per-CPU area, so it is loaded between two swapgs:
 * into the user's (inactive) GS, whose base it sets to 0. Interrupts are
 * off in the kernel; only an NMI could see the user base in between, and
 * an NMI is fatal here anyway.
 */
__attribute__((noinline)) static void segs_write(ctx_segs_t now, ctx_segs_t want)
{
	uint16_t ds = (uint16_t)want, es = (uint16_t)(want >> 16), fs = (uint16_t)(want >> 32),
	         gs = (uint16_t)(want >> 48);

	if ((uint16_t)now != ds)
		__asm__ volatile("mov %0, %%ds" : : "r"(ds));
	if ((uint16_t)(now >> 16) != es)
		__asm__ volatile("mov %0, %%es" : : "r"(es));
	if ((uint16_t)(now >> 32) != fs)
		__asm__ volatile("mov %0, %%fs" : : "r"(fs));
	if ((uint16_t)(now >> 48) != gs)
		__asm__ volatile("swapgs\n\tmov %0, %%gs\n\tswapgs" : : "r"(gs) : "memory");
}

/*
 * The scheduler switches from prev to next (sched.c switch_to, before the
 * stacks change). Kernel threads (no address space) have no user state
 * and leave the registers as they are. prev's selectors are saved even if
 * it is a kernel thread (never loaded back for it): they are then the
 * registers' values, which the comparison with next's needs. ipcfast.asm
 * (ipcfast_switch) does the same for two user threads with the same
 * selectors: a register added here is switched there too.
 */
void ctx_switch(struct thread *prev, struct thread *next)
{
	segs_save(&prev->segs);
	if (!next->as)
		return;
	if (prev->segs != next->segs)
		segs_write(prev->segs, next->segs);
	/*
	 * ---- FS base: the thread's IPC buffer (ipcbuf.c) ----
	 * After the selectors (loading FS resets the base). A switch written
	 * elsewhere (assembly) must do the same: write next->ipcbuf to MSR
	 * FS_BASE unless both it and fs_base_written are 0.
	 */
	if (next->ipcbuf | ctx_fs_base_written)
		ctx_fs_base_set(next->ipcbuf);
	struct thread *owner = ctx_fpu_owner;
	if (owner != next) {
		fpu_swap(owner ? thread_fpu(owner) : NULL, thread_fpu(next));
		ctx_fpu_owner = next;
	}
}

/* t has ended: its FPU state is not needed any more (and must not be saved late). */
void ctx_forget(struct thread *t)
{
	if (ctx_fpu_owner == t)
		ctx_fpu_owner = NULL;
}
