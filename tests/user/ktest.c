/*
 * ktest: the kernel-core system tests, run as the first user task (GRUB's
 * first module) with idle=exit. Each test prints "TEST <id> PASS" or
 * "TEST <id> FAIL <reason>"; tests/system/test_kernel.py reads them and the
 * kernel's own lines (thread exits and kills, frame counts).
 */
#include <libipc/syscall.h>
#include <mica/layout.h>

/* ---- tiny output helpers (the user runtime comes with a later issue) ---- */

static unsigned long slen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}

static void say(const char *s)
{
	mica_debug_write(s, slen(s));
}

static void say_num(long v)
{
	char buf[24];
	int i = sizeof(buf);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[--i] = '-';
	say(&buf[i]);
}

static void result(const char *id, const char *fail, long detail)
{
	say("TEST ");
	say(id);
	if (!fail) {
		say(" PASS\n");
		return;
	}
	say(" FAIL ");
	say(fail);
	say(" ");
	say_num(detail);
	say("\n");
}

/* ---- entry ---- */

int main(void);

__asm__(".section .text.start\n"
        ".global _start\n"
        "_start:\n"
        "	andq $-16, %rsp\n"
        "	call main\n"
        "	movq %rax, %rdi\n"
        "	movq $1, %rax\n" /* MICA_SYS_THREAD_EXIT */
        "	syscall\n"
        "	ud2\n"
        ".text\n");

/*
 * regs_check(nr): load a pattern into every register a system call must
 * preserve, make system call nr, and return how many registers changed.
 */
long regs_check(long nr);
__asm__(".global regs_check\n"
        "regs_check:\n"
        "	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "	movq %rdi, %rax\n"
        "	movabsq $0x1111111111111111, %rbx\n"
        "	movabsq $0x2222222222222222, %rbp\n"
        "	movabsq $0x3333333333333333, %rdi\n"
        "	movabsq $0x4444444444444444, %rsi\n"
        "	movabsq $0x5555555555555555, %rdx\n"
        "	movabsq $0x6666666666666666, %r8\n"
        "	movabsq $0x7777777777777777, %r9\n"
        "	movabsq $0x8888888888888888, %r10\n"
        "	movabsq $0x9999999999999999, %r12\n"
        "	movabsq $0xaaaaaaaaaaaaaaaa, %r13\n"
        "	movabsq $0xbbbbbbbbbbbbbbbb, %r14\n"
        "	movabsq $0xcccccccccccccccc, %r15\n"
        "	syscall\n"
        "	xorl %eax, %eax\n"
        "	movabsq $0x1111111111111111, %rcx; cmpq %rcx, %rbx; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x2222222222222222, %rcx; cmpq %rcx, %rbp; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x3333333333333333, %rcx; cmpq %rcx, %rdi; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x4444444444444444, %rcx; cmpq %rcx, %rsi; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x5555555555555555, %rcx; cmpq %rcx, %rdx; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x6666666666666666, %rcx; cmpq %rcx, %r8; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x7777777777777777, %rcx; cmpq %rcx, %r9; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x8888888888888888, %rcx; cmpq %rcx, %r10; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0x9999999999999999, %rcx; cmpq %rcx, %r12; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0xaaaaaaaaaaaaaaaa, %rcx; cmpq %rcx, %r13; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0xbbbbbbbbbbbbbbbb, %rcx; cmpq %rcx, %r14; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	movabsq $0xcccccccccccccccc, %rcx; cmpq %rcx, %r15; setne %cl; movzbl %cl, %ecx; "
        "addq %rcx, %rax\n"
        "	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "	ret\n");

/* ---- the tests ---- */

static void test_debug_write(void)
{
	long n = mica_debug_write("hello from user mode\n", 21);

	result("syscall.debug_write", n == 21 ? 0 : "returned", n);
}

static void test_bad_pointers(void)
{
	static char page_end[4096] __attribute__((aligned(4096)));
	long r;

	if ((r = mica_debug_write((void *)0, 5)) != MICA_EFAULT)
		return result("syscall.bad_pointer", "null gave", r);
	if ((r = mica_debug_write((void *)MICA_KERNEL_VBASE + 0x100000, 5)) != MICA_EFAULT)
		return result("syscall.bad_pointer", "kernel address gave", r);
	if ((r = mica_debug_write((void *)0x10000000, 1)) != MICA_EFAULT)
		return result("syscall.bad_pointer", "unmapped address gave", r);
	if ((r = mica_debug_write((void *)0x00007ffffffff800, 4096)) != MICA_EFAULT)
		return result("syscall.bad_pointer", "range past the user half gave", r);
	if ((r = mica_debug_write(page_end, MICA_DEBUG_WRITE_MAX + 1)) != MICA_EINVAL)
		return result("syscall.bad_pointer", "oversized length gave", r);
	/* Nothing is mapped above the boot stack: a range running past it faults. */
	if ((r = mica_debug_write((void *)(MICA_BOOT_STACK_TOP - 100), 200)) != MICA_EFAULT)
		return result("syscall.bad_pointer", "range past the stack top gave", r);
	result("syscall.bad_pointer", 0, 0);
}

static void test_bad_number(void)
{
	long r = mica_syscall4(MICA_SYS_COUNT, 0, 0, 0, 0);

	if (r != MICA_ENOSYS)
		return result("syscall.bad_number", "MICA_SYS_COUNT gave", r);
	r = mica_syscall4(~0UL, 0, 0, 0, 0);
	result("syscall.bad_number", r == MICA_ENOSYS ? 0 : "~0 gave", r);
}

static void test_regs_preserved(void)
{
	long bad = regs_check(MICA_SYS_YIELD);

	if (bad)
		return result("syscall.regs_preserved", "registers changed by yield:", bad);
	bad = regs_check(9999); /* the error path returns the same way */
	result("syscall.regs_preserved", bad ? "registers changed by a bad call:" : 0, bad);
}

/* Threads for the scheduler tests: spin, counting, until told to stop. */
static volatile unsigned long spins[2];
static volatile int stop;
static char stacks[4][8192] __attribute__((aligned(16)));

static void spinner(uint64_t i)
{
	while (!stop)
		spins[i]++;
	mica_thread_exit(100 + (long)i);
}

static void test_preemption(void)
{
	/* Two threads at the caller's priority; the caller never yields. */
	for (int i = 0; i < 2; i++) {
		long id = mica_thread_create(spinner, stacks[i + 1], (uint64_t)i, 16);
		if (id < 0)
			return result("sched.preemption", "thread_create gave", id);
	}
	unsigned long waited = 0;
	while ((spins[0] < 1000 || spins[1] < 1000) && waited < 4000000000UL)
		waited++;
	stop = 1;
	if (spins[0] < 1000 || spins[1] < 1000)
		return result("sched.preemption", "a spinner never ran; spins:",
		              (long)(spins[0] < spins[1] ? spins[0] : spins[1]));
	result("sched.preemption", 0, 0);
}

static void faulter(uint64_t kind)
{
	if (kind == 0)
		__asm__ volatile("ud2");
	else if (kind == 1)
		*(volatile int *)MICA_KERNEL_VBASE = 1; /* kernel memory */
	else if (kind == 2)
		(void)*(volatile int *)0x10000000; /* unmapped */
	else
		__asm__ volatile("cli"); /* privileged: #GP */
	mica_thread_exit(-99);           /* not reached */
}

static void test_faults_kill_only_the_thread(void)
{
	for (uint64_t k = 0; k < 4; k++) {
		long id = mica_thread_create(faulter, stacks[3], k, 16);

		if (id < 0)
			return result("fault.kill_thread", "thread_create gave", id);
		for (int i = 0; i < 10; i++)
			mica_yield(); /* let it run and die */
	}
	result("fault.kill_thread", 0, 0);
}

static void test_bad_thread_create(void)
{
	long r;

	if ((r = mica_thread_create(spinner, stacks[1], 0, MICA_PRIO_MAX + 1)) != MICA_EINVAL)
		return result("sched.bad_create", "priority 32 gave", r);
	if ((r = mica_thread_create((void (*)(uint64_t))MICA_KERNEL_VBASE, stacks[1], 0, 16)) !=
	    MICA_ERANGE)
		return result("sched.bad_create", "kernel entry gave", r);
	if ((r = mica_thread_create(spinner, (void *)0x1000, 0, 16)) != MICA_ERANGE)
		return result("sched.bad_create", "stack below the user base gave", r);
	result("sched.bad_create", 0, 0);
}

int main(void)
{
	say("ktest: start\n");
	test_debug_write();
	test_bad_pointers();
	test_bad_number();
	test_regs_preserved();
	test_bad_thread_create();
	test_preemption();
	test_faults_kill_only_the_thread();
	say("ktest: done\n");
	return 0;
}
