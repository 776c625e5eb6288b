/*
 * RFLAGS from user mode (docs/ABI.md): whatever flags a thread sets, the
 * kernel runs with its own, and every way back to user mode (sysret after
 * a system call, iretq after a switch, a timer preemption, a resumed
 * fault, a new thread's first return) gives the thread back only the flags
 * it may keep (arithmetic, TF, DF, AC, ID), with IF on and NT, IOPL, RF
 * cleared. Before the fix, NT set before a system call made the next iretq
 * in the kernel a task return: a #GP panic.
 */
#include "ktest.h"

#define F_CF    (1UL << 0)
#define F_RES1  (1UL << 1)
#define F_PF    (1UL << 2)
#define F_AF    (1UL << 4)
#define F_ZF    (1UL << 6)
#define F_SF    (1UL << 7)
#define F_TF    (1UL << 8)
#define F_IF    (1UL << 9)
#define F_DF    (1UL << 10)
#define F_OF    (1UL << 11)
#define F_IOPL  (3UL << 12)
#define F_NT    (1UL << 14)
#define F_AC    (1UL << 18)
#define F_ID    (1UL << 21)
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)
#define F_USER  (F_ARITH | F_TF | F_DF | F_OF | F_AC | F_ID) /* what a thread may keep */
#define F_BASE  (F_IF | F_RES1)

/* What the thread should see back after setting `set`. */
static uint64_t sane(uint64_t set)
{
	return (set & F_USER) | F_BASE;
}

/*
 * flags_syscall(set, nr, a0, a1): load RFLAGS = set, make system call nr
 * with a0, a1 right after, and return RFLAGS as the call left them (the
 * caller's own flags are restored); the call's result goes to flags_ret. The popfq is right before
 * the syscall so that TF set here traps after the syscall, not before it.
 */
uint64_t flags_syscall(uint64_t set, uint64_t nr, uint64_t a0, uint64_t a1);
/* flags_hold(set, n): load RFLAGS = set, spin n times (loop changes no flag), return RFLAGS. */
uint64_t flags_hold(uint64_t set, uint64_t n);
/* flags_touch(set, addr): load RFLAGS = set, read addr (it may fault), return RFLAGS. */
uint64_t flags_touch(uint64_t set, uint64_t addr);
/* flags_first: a thread entry that passes its very first RFLAGS to fresh_thread. */
void flags_first(uint64_t arg);
__asm__(".global flags_syscall, flags_hold, flags_touch, flags_first\n"
        "flags_syscall:\n"
        "	pushfq\n"
        "	movq %rsi, %rax\n"
        "	movq %rdi, %r8\n"
        "	movq %rdx, %rdi\n"
        "	movq %rcx, %rsi\n"
        "	pushq %r8\n"
        "	popfq\n"
        "	syscall\n"
        "	pushfq\n"
        "	movq %rax, flags_ret(%rip)\n"
        "	popq %rax\n"
        "	popfq\n"
        "	ret\n"
        "flags_hold:\n"
        "	pushfq\n"
        "	movq %rsi, %rcx\n"
        "	pushq %rdi\n"
        "	popfq\n"
        "1:	loop 1b\n"
        "	pushfq\n"
        "	popq %rax\n"
        "	popfq\n"
        "	ret\n"
        "flags_touch:\n"
        "	pushfq\n"
        "	pushq %rdi\n"
        "	popfq\n"
        "	movq (%rsi), %rax\n"
        "	pushfq\n"
        "	popq %rax\n"
        "	popfq\n"
        "	ret\n"
        "flags_first:\n"
        "	pushfq\n"
        "	popq %rdi\n"
        "	andq $-16, %rsp\n"
        "	call fresh_thread\n"
        "	ud2\n");

uint64_t flags_ret;
static char st[5][4096] __attribute__((aligned(16))); /* one stack per helper thread */
static volatile int stop, held_done;
static volatile long hold_rounds, hold_bad;
static volatile uint64_t first_flags;

static long start(void (*entry)(uint64_t), int stack, uint64_t arg, mica_handle_t pager,
                  mica_handle_t sup)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = (uint64_t)(st[stack] + sizeof(st[stack])),
	                               .arg = arg,
	                               .priority = 16,
	                               .pager = pager,
	                               .supervisor = sup};

	return mica_thread_create(self_as, &p);
}

/* Each case: flags a thread sets before a system call (popfq at CPL 3 ignores IOPL). */
static const uint64_t cases[] = {
    F_ARITH, F_DF, F_AC, F_ID, F_NT, F_IOPL, F_NT | F_AC | F_DF | F_CF | F_ID, F_CF | F_ZF,
};
#define NCASES (sizeof(cases) / sizeof(cases[0]))

/* syscall -> sysret: the flags come back sanitised, the kernel survives NT. */
static void test_sysret(void)
{
	for (unsigned i = 0; i < NCASES; i++) {
		uint64_t got = flags_syscall(F_BASE | cases[i], MICA_SYS_YIELD, 0, 0);

		if (got != sane(cases[i]))
			return result("cpu.flags_sysret", "flags after yield, case", (long)i);
	}
	result("cpu.flags_sysret", 0, 0);
}

/* Spin with the flags of one case in turn, counting rounds whose flags changed. */
static void holder(uint64_t arg)
{
	(void)arg;
	for (unsigned i = 0; !stop; i = (i + 1) % NCASES) {
		uint64_t set = F_BASE | (cases[i] & F_USER);

		if (flags_hold(set, 200000) != set)
			hold_bad++;
		hold_rounds++;
	}
	held_done = 1;
	mica_thread_exit(0);
}

/* A new thread's first RFLAGS, before any instruction of its own changed them. */
void fresh_thread(uint64_t flags);
void fresh_thread(uint64_t flags)
{
	first_flags = flags;
	mica_thread_exit(0);
}

/*
 * The thread switch: this thread sets every case's flags and yields to a
 * thread the timer preempted (it resumes through iretq), and creates a
 * thread (its first return is an iretq) with them. The holder keeps its own
 * flags over its preemptions.
 */
static void test_switch(void)
{
	long h = start(holder, 0, 0, MICA_HANDLE_NONE, MICA_HANDLE_NONE);

	if (h < 0)
		return result("cpu.flags_switch", "thread_create gave", h);
	for (int round = 0; round < 6; round++) {
		for (unsigned i = 0; i < NCASES; i++) {
			uint64_t got = flags_syscall(F_BASE | cases[i], MICA_SYS_YIELD, 0, 0);

			if (got != sane(cases[i]))
				return result("cpu.flags_switch", "flags after a switch, case",
				              (long)i);
		}
	}
	struct mica_thread_params p = {.entry = (uint64_t)flags_first,
	                               .stack_top = (uint64_t)(st[1] + sizeof(st[1])),
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};
	uint64_t set = F_BASE | F_NT | F_AC | F_DF | F_CF | F_ID;
	uint64_t got = flags_syscall(set, MICA_SYS_THREAD_CREATE, (uint64_t)self_as, (uint64_t)&p);
	long fresh = (long)flags_ret;
	for (int i = 0; i < 20 && !first_flags; i++)
		(void)flags_syscall(set, MICA_SYS_YIELD, 0, 0);
	stop = 1;
	for (int i = 0; i < 1000 && !held_done; i++)
		mica_yield();
	mica_handle_close((mica_handle_t)h);
	if (fresh >= 0)
		mica_handle_close((mica_handle_t)fresh);
	if (got != sane(set))
		return result("cpu.flags_switch", "flags after thread_create", (long)got);
	if (first_flags != F_BASE)
		return result("cpu.flags_switch", "a new thread's first RFLAGS", (long)first_flags);
	if (hold_rounds < 6 || hold_bad)
		return result("cpu.flags_switch", "holder rounds with changed flags", hold_bad);
	result("cpu.flags_switch", 0, 0);
}

/* ---- a page fault resumed by a pager ---- */

#define TOUCH_VA 0x31000000UL

static volatile long pager_faults;

/* Map a frame at each fault and resume, until told to stop (a kill). */
static void flags_pager(uint64_t e)
{
	struct mica_msg m = {0};
	uint64_t badge;
	long r = mica_recv((mica_handle_t)e, &m, 0, &badge);

	while (r == 0 && m.label == MICA_LABEL_FAULT) {
		pager_faults++;
		(void)mica_map(self_as, m.w[0] & ~0xFFFUL, frame_take(1), 1,
		               MICA_MAP_READ | MICA_MAP_WRITE);
		m.label = MICA_FAULT_RESUME;
		r = mica_reply_recv((mica_handle_t)e, &m, 0, &badge);
	}
	mica_thread_exit(1);
}

static volatile long touch_bad = -1;

/* Fault on a fresh page for each case; each resume must give back the sane flags. */
static void toucher(uint64_t arg)
{
	(void)arg;
	long bad = 0;
	for (unsigned i = 0; i < NCASES; i++)
		if (flags_touch(F_BASE | cases[i], TOUCH_VA + i * MICA_PAGE_SIZE) != sane(cases[i]))
			bad |= 1L << i;
	touch_bad = bad;
	mica_thread_exit(0);
}

static void test_fault_resume(void)
{
	long pe = mica_endpoint_create();
	long ph = start(flags_pager, 2, (uint64_t)pe, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	long th = start(toucher, 3, 0, (mica_handle_t)pe, MICA_HANDLE_NONE);

	if (pe < 0 || ph < 0 || th < 0)
		return result("cpu.flags_fault", "setup gave", pe < 0 ? pe : ph < 0 ? ph : th);
	for (int i = 0; i < 200 && touch_bad < 0; i++)
		mica_yield();
	mica_thread_kill((mica_handle_t)ph, 0);
	mica_unmap(self_as, TOUCH_VA, NCASES, 0);
	mica_handle_close((mica_handle_t)ph);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)pe);
	if (pager_faults != (long)NCASES)
		return result("cpu.flags_fault", "faults the pager saw", pager_faults);
	if (touch_bad)
		return result("cpu.flags_fault", "cases with wrong flags after resume (mask)",
		              touch_bad);
	result("cpu.flags_fault", 0, 0);
}

/*
 * TF: a thread may single-step itself; the trap is its own. TF set right
 * before a system call traps in user mode after the call returns (the
 * kernel runs with TF clear), and kills only that thread.
 */
static void stepper(uint64_t arg)
{
	(void)arg;
	(void)flags_syscall(F_BASE | F_TF, MICA_SYS_YIELD, 0, 0);
	mica_thread_exit(0); /* not reached: #DB first */
}

static void test_trap_flag(void)
{
	struct mica_msg m = {0};
	uint64_t badge;
	long sup = mica_endpoint_create();
	long th = start(stepper, 4, 0, MICA_HANDLE_NONE, (mica_handle_t)sup);

	if (sup < 0 || th < 0)
		return result("cpu.flags_trap", "setup gave", sup < 0 ? sup : th);
	long r = mica_recv((mica_handle_t)sup, &m, 0, &badge);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)sup);
	if (r != 0 || m.w[1] != MICA_EXIT_FAULT || m.w[2] != 1)
		return result("cpu.flags_trap", "exit notice reason/code", r ? r : (long)m.w[2]);
	result("cpu.flags_trap", 0, 0);
}

void test_cpu_flags(void)
{
	test_sysret();
	test_switch();
	test_fault_resume();
	test_trap_flag();
}
