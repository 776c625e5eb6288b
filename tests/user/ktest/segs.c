/*
 * Data segment selectors per thread (docs/ABI.md): a thread that loads
 * user or null selectors into DS, ES, FS and GS keeps them over yields and
 * preemption, another thread never sees them (it keeps the null selectors
 * it started with), and the kernel, which takes its GS base from swapgs,
 * is not disturbed by a user GS. wrfsbase and friends stay disabled.
 */
#include "ktest.h"

#define SEL_UDATA 0x1b /* GDT entry 3, RPL 3 */
#define SEL_UCODE 0x23 /* GDT entry 4 (readable code), RPL 3 */

static char st[3][4096] __attribute__((aligned(16)));
static volatile long seg_bad[2], seg_done[2];

struct segs {
	uint16_t ds, es, fs, gs;
};

static struct segs segs_now(void)
{
	struct segs s;

	__asm__ volatile("mov %%ds, %0" : "=r"(s.ds));
	__asm__ volatile("mov %%es, %0" : "=r"(s.es));
	__asm__ volatile("mov %%fs, %0" : "=r"(s.fs));
	__asm__ volatile("mov %%gs, %0" : "=r"(s.gs));
	return s;
}

static int segs_differ(struct segs a, struct segs b)
{
	return a.ds != b.ds || a.es != b.es || a.fs != b.fs || a.gs != b.gs;
}

/* Spin n times without a system call (loop: preempted, not yielding). */
static void spin(uint64_t n)
{
	__asm__ volatile("1: loop 1b" : "+c"(n));
}

/*
 * Thread 0 loads odd selectors (a user code segment in ES, a null selector
 * with RPL 3 in FS); thread 1 keeps the null ones it started with. Both
 * check theirs after each yield and each spin the timer preempts.
 */
static void seg_worker(uint64_t i)
{
	struct segs want = {0, 0, 0, 0};
	long bad = 0;

	if (segs_differ(segs_now(), want))
		bad = 1000; /* a new thread starts with null selectors */
	if (i == 0) {
		want = (struct segs){SEL_UDATA, SEL_UCODE, 3, SEL_UDATA};
		__asm__ volatile("mov %0, %%ds\n\tmov %1, %%es\n\tmov %2, %%fs\n\tmov %3, %%gs"
		                 :
		                 : "r"(want.ds), "r"(want.es), "r"(want.fs), "r"(want.gs));
	}
	for (int r = 0; r < 60; r++) {
		if (r < 40)
			mica_yield();
		else
			spin(2000000);
		if (segs_differ(segs_now(), want))
			bad++;
	}
	seg_bad[i] = bad;
	seg_done[i] = 1;
	mica_thread_exit(0);
}

static long start(void (*entry)(uint64_t), int stack, uint64_t arg, mica_handle_t sup)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = (uint64_t)(st[stack] + sizeof(st[stack])),
	                               .arg = arg,
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = sup};

	return mica_thread_create(self_as, &p);
}

static void test_selectors(void)
{
	long h[2];

	for (int i = 0; i < 2; i++)
		if ((h[i] = start(seg_worker, i, (uint64_t)i, MICA_HANDLE_NONE)) < 0)
			return result("cpu.segs_per_thread", "thread_create gave", h[i]);
	for (long n = 0; n < 100000 && !(seg_done[0] && seg_done[1]); n++)
		mica_yield();
	for (int i = 0; i < 2; i++)
		mica_handle_close((mica_handle_t)h[i]);
	if (!seg_done[0] || !seg_done[1])
		return result("cpu.segs_per_thread", "a worker did not finish", 0);
	if (seg_bad[0])
		return result("cpu.segs_per_thread", "the loader lost its selectors, rounds",
		              seg_bad[0]);
	if (seg_bad[1])
		return result("cpu.segs_per_thread", "the other thread saw them, rounds",
		              seg_bad[1]);
	struct segs mine = segs_now();
	if (mine.ds > 3 || mine.es > 3 || mine.fs > 3 || mine.gs > 3)
		return result("cpu.segs_per_thread", "ktest's own DS now", mine.ds);
	result("cpu.segs_per_thread", 0, 0);
}

/* rdfsbase: #UD while CR4.FSGSBASE is off, so no thread can set a base the kernel would not save.
 */
static void base_reader(uint64_t arg)
{
	uint64_t v;

	(void)arg;
	__asm__ volatile("rdfsbase %0" : "=r"(v));
	mica_thread_exit(0); /* not reached */
}

static void test_fsgsbase_off(void)
{
	struct mica_msg m = {0};
	uint64_t badge;
	long sup = mica_endpoint_create();
	long th = start(base_reader, 2, 0, (mica_handle_t)sup);

	if (sup < 0 || th < 0)
		return result("cpu.fsgsbase_off", "setup gave", sup < 0 ? sup : th);
	long r = mica_recv((mica_handle_t)sup, &m, 0, &badge);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)sup);
	if (r != 0 || m.w[1] != MICA_EXIT_FAULT || m.w[2] != 6)
		return result("cpu.fsgsbase_off", "exit notice reason/code", r ? r : (long)m.w[2]);
	result("cpu.fsgsbase_off", 0, 0);
}

void test_segs(void)
{
	test_selectors();
	test_fsgsbase_off();
}
