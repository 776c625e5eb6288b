/*
 * Provoked kernel faults, chosen with fault=KIND on the command line. The
 * system tests use them to prove that each kind ends in the PANIC dump and
 * a failure exit, that the kernel image really is W^X, and that a thread's
 * kernel stack overflowing into its canary is caught (fault=kstack).
 */
#include <mica/error.h>
#include <mica/layout.h>
#include <mica/thread.h>
#include "cpu.h"
#include "crash.h"
#include "frame.h"
#include "kprintf.h"
#include "lib/string.h"
#include "panic.h"
#include "phys.h"
#include "pt.h"
#include "sched.h"
#include "thread.h"
#include "vm.h"

static volatile int depth_limit = 1 << 30;

/* Recurse until the boot stack runs into its guard page. */
static int overflow(int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth > depth_limit)
		return 0;
	return overflow(depth + 1) + pad[0];
}

/*
 * fault=kstack: a kernel thread recurses until its frames lie below its
 * stack's canary (crash_run), then blocks; the switch away finds the
 * canary overwritten. The limit is global and the frame only a return
 * address, a frame pointer and the pad, so the frames leave no hole for
 * the canary to survive in.
 */
static volatile uintptr_t kstack_limit;

__attribute__((noinline)) static uint64_t kstack_deep(void)
{
	volatile uint64_t pad[4];

	for (int i = 0; i < 4; i++)
		pad[i] = 0x4f564552464c4f57ULL; /* "WOLFREVO" */
	if ((uintptr_t)pad > kstack_limit)
		return kstack_deep() + pad[0];
	return pad[0];
}

static void kstack_overflow(void)
{
	struct thread *t = sched_current();

	/* A little past the canary, into the FPU area below it (far from the object). */
	kstack_limit = (uintptr_t)thread_canary(t) - 64;
	(void)kstack_deep();
	sched_block();
	panic("fault=kstack: the overflowed thread was resumed");
}

#define CRASH_USER_VA 0x10000000ULL /* a user page mapped by fault=smap and fault=smep */

/*
 * Map one user-accessible page (holding a `ret`) at CRASH_USER_VA in the
 * kernel's own tables, for the kernel to touch as if it followed a user
 * pointer: with SMAP (SMEP) the read (the call) must fault.
 */
static void *user_page(void)
{
	paddr_t pa;

	if (frame_alloc(&pa) != MICA_OK)
		panic("crash: no frame for the user page");
	*(volatile uint8_t *)phys_to_virt(pa) = 0xC3;
	if (pt_map(cpu_read_cr3() & ~0xFFFULL, CRASH_USER_VA, pa, 1, PT_USER | PT_EXEC) != MICA_OK)
		panic("crash: cannot map the user page");
	return (void *)CRASH_USER_VA;
}

static const char ret_insn = (char)0xC3; /* in .rodata; executed by fault=xdata */
static char data_byte = (char)0xC3;      /* in .data; executed by fault=xdata */

/* Provoke the fault `kind`; an unknown kind is reported and ignored. */
void crash_run(const char *kind)
{
	kprintf("crash: provoking fault=%s\n", kind);
	if (strcmp(kind, "pf") == 0) {
		*(volatile uint64_t *)0xdeadb000ULL = 1; /* unmapped user-half page */
	} else if (strcmp(kind, "gp") == 0) {
		(void)*(volatile uint64_t *)0x8000000000000000ULL; /* non-canonical */
	} else if (strcmp(kind, "ud") == 0) {
		__asm__ volatile("ud2");
	} else if (strcmp(kind, "de") == 0) {
		__asm__ volatile("xorl %%ecx, %%ecx\n\tdivl %%ecx" : : : "eax", "ecx", "edx");
	} else if (strcmp(kind, "stack") == 0) {
		kprintf("crash: %d\n", overflow(0));
	} else if (strcmp(kind, "kstack") == 0) {
		struct thread *t;

		if (thread_create_kernel(kstack_overflow, MICA_PRIO_MAX, &t) != MICA_OK)
			panic("crash: no memory for the fault=kstack thread");
		sched_add(t);
		sched_start();
	} else if (strcmp(kind, "wrodata") == 0) {
		*(volatile char *)&ret_insn = 0; /* read-only data */
	} else if (strcmp(kind, "xdata") == 0) {
		((void (*)(void))(uintptr_t)&data_byte)(); /* no-execute data */
	} else if (strcmp(kind, "wtext") == 0) {
		*(volatile char *)__text_start = 0; /* read-only text */
	} else if (strcmp(kind, "xstack") == 0) {
		volatile char code[16] = {(char)0xC3};
		((void (*)(void))(uintptr_t)code)(); /* no-execute stack */
	} else if (strcmp(kind, "wdirect") == 0) {
		/* The direct map's alias of the kernel text is read-only too. */
		*(volatile char *)phys_to_virt(kimage_to_phys(__text_start)) = 0;
	} else if (strcmp(kind, "smap") == 0) {
		(void)*(volatile uint8_t *)user_page(); /* a user page read in ring 0 */
	} else if (strcmp(kind, "smep") == 0) {
		((void (*)(void))user_page())(); /* a user page executed in ring 0 */
	} else if (strcmp(kind, "panic") == 0) {
		panic("provoked by fault=panic");
	} else {
		kprintf("crash: unknown fault kind '%s' ignored\n", kind);
		return;
	}
	panic("fault=%s did not fault", kind);
}
