/*
 * ktest: the kernel-core system tests, run as the first user task (GRUB's
 * first module) with idle=exit. Each test prints "TEST <id> PASS" or
 * "TEST <id> FAIL <reason>"; tests/system/test_kernel.py reads them and the
 * kernel's own lines (thread exits and kills, frame counts). This file:
 * the helpers, system calls, scheduling and IPC; mem.c the memory
 * interface; thread.c thread handles, exit notices and faults.
 */
#include "ktest.h"

/* ---- tiny output helpers (the user runtime comes with a later issue) ---- */

const struct mica_bootinfo *bootinfo;
mica_handle_t self_as;
char stacks[KTEST_STACKS][8192] __attribute__((aligned(16)));

long spawn(void (*entry)(uint64_t), int stack, uint64_t arg, mica_handle_t pager,
           mica_handle_t supervisor)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = (uint64_t)STACK_TOP(stack),
	                               .arg = arg,
	                               .priority = 16,
	                               .pager = pager,
	                               .supervisor = supervisor};

	return mica_thread_create(self_as, &p);
}

void yield_n(int n)
{
	for (int i = 0; i < n; i++)
		mica_yield();
}

/* The first free range of the pool, taken from the bottom. */
static uint64_t take_next, take_left;

uint64_t frame_take(uint64_t n)
{
	if (n > take_left)
		return 0;
	uint64_t pa = take_next;
	take_next += n * MICA_PAGE_SIZE;
	take_left -= n;
	return pa;
}

/* ---- entry ---- */

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
	/* Nothing is mapped above the boot-info page: a range running past it faults. */
	if ((r = mica_debug_write((void *)(MICA_BOOTINFO_ADDR + MICA_PAGE_SIZE - 100), 200)) !=
	    MICA_EFAULT)
		return result("syscall.bad_pointer", "range past the boot info gave", r);
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
		long id = spawn(spinner, i + 1, (uint64_t)i, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
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
		long id = spawn(faulter, 3, k, MICA_HANDLE_NONE, MICA_HANDLE_NONE);

		if (id < 0)
			return result("fault.kill_thread", "thread_create gave", id);
		for (int i = 0; i < 10; i++)
			mica_yield(); /* let it run and die */
	}
	result("fault.kill_thread", 0, 0);
}

/* ---- IPC ---- */

#define LABEL_DIE   0xdead /* asks the echo server to exit without replying */
#define LABEL_AGAIN 0xa9a1 /* asks it to receive again without replying */
#define LABEL_TRY   0x7e57 /* asks it to try_recv elsewhere first, then reply */

static char srv_buf[MICA_MSG_BUF_MAX];

/*
 * The echo server: replies with label = the sender's badge, words 0-6 each
 * plus one, word 7 plus one (or, if a handle came with the message, the
 * result of try_send on it), and the received buffer reversed.
 */
static void echo_server(uint64_t ep)
{
	struct mica_msg m;
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE,
	                           .recv_buf = (uint64_t)srv_buf,
	                           .recv_cap = sizeof(srv_buf)};
	uint64_t badge;
	long r = mica_recv((mica_handle_t)ep, &m, &x, &badge);

	while (r == 0) {
		if (m.label == LABEL_DIE)
			mica_thread_exit(7);
		if (m.label == LABEL_TRY) {
			/* A failed try_recv must not abandon the caller we owe. */
			long idle = mica_endpoint_create();
			struct mica_msg other;

			m.w[0] = (uint64_t)mica_try_recv((mica_handle_t)idle, &other, 0, 0);
			mica_handle_close((mica_handle_t)idle);
			r = mica_reply_recv((mica_handle_t)ep, &m, &x, &badge);
			continue;
		}
		if (m.label == LABEL_AGAIN) {
			/* Abandon this caller: receive again without replying. */
			r = mica_recv((mica_handle_t)ep, &m, &x, &badge);
			continue;
		}
		uint32_t n = x.recv_len < x.recv_cap ? x.recv_len : x.recv_cap;
		for (uint32_t i = 0; i < n / 2; i++) {
			char c = srv_buf[i];
			srv_buf[i] = srv_buf[n - 1 - i];
			srv_buf[n - 1 - i] = c;
		}
		for (int i = 0; i < MICA_MSG_WORDS; i++)
			m.w[i]++;
		if (x.recv_handle != MICA_HANDLE_NONE) {
			struct mica_msg probe = {0};

			m.w[7] = (uint64_t)mica_try_send(x.recv_handle, &probe, 0);
			mica_handle_close(x.recv_handle);
		}
		m.label = badge;
		x.send_buf = (uint64_t)srv_buf;
		x.send_len = n;
		r = mica_reply_recv((mica_handle_t)ep, &m, &x, &badge);
	}
	mica_thread_exit(r);
}

static mica_handle_t ep;

static void test_ipc_words_and_badges(void)
{
	const uint64_t w[MICA_MSG_WORDS] = {
	    0, 1, ~0ULL, 1ULL << 63, 0x0123456789abcdefULL, 42, 0xfffffffffffffffeULL, 7};
	struct mica_msg m = {.label = 5};
	long r;

	long minted = mica_handle_mint(ep, MICA_RIGHT_SEND, 0x1234);
	if (minted < 0)
		return result("ipc.words_badges", "mint gave", minted);
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		m.w[i] = w[i];
	if ((r = mica_call((mica_handle_t)minted, &m, 0)) != 0)
		return result("ipc.words_badges", "call gave", r);
	if (m.label != 0x1234)
		return result("ipc.words_badges", "badge seen by the server:", (long)m.label);
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		if (m.w[i] != w[i] + 1)
			return result("ipc.words_badges", "word wrong:", i);
	/* The unbadged handle: badge 0. */
	if ((r = mica_call(ep, &m, 0)) != 0 || m.label != 0)
		return result("ipc.words_badges", "unbadged call gave", r ? r : (long)m.label);
	mica_handle_close((mica_handle_t)minted);
	result("ipc.words_badges", 0, 0);
}

static char out_buf[MICA_MSG_BUF_MAX], in_buf[MICA_MSG_BUF_MAX + 1];

static void test_ipc_buffers(void)
{
	struct mica_msg m = {.label = 1};
	struct mica_ipc_extra x = {.send_buf = (uint64_t)out_buf,
	                           .send_len = MICA_MSG_BUF_MAX,
	                           .send_handle = MICA_HANDLE_NONE,
	                           .recv_buf = (uint64_t)in_buf,
	                           .recv_cap = MICA_MSG_BUF_MAX};
	long r;

	for (int i = 0; i < MICA_MSG_BUF_MAX; i++)
		out_buf[i] = (char)(i * 7 + 3);
	if ((r = mica_call(ep, &m, &x)) != 0)
		return result("ipc.buffers", "call gave", r);
	if (x.recv_len != MICA_MSG_BUF_MAX)
		return result("ipc.buffers", "recv_len", x.recv_len);
	for (int i = 0; i < MICA_MSG_BUF_MAX; i++)
		if (in_buf[i] != out_buf[MICA_MSG_BUF_MAX - 1 - i])
			return result("ipc.buffers", "byte wrong at", i);
	/* A smaller receive buffer: cut to its size, the full length reported. */
	in_buf[100] = 'Z';
	x.recv_cap = 100;
	x.send_len = 300;
	if ((r = mica_call(ep, &m, &x)) != 0)
		return result("ipc.buffers", "second call gave", r);
	if (x.recv_len != 300 || in_buf[100] != 'Z' || in_buf[0] != out_buf[299])
		return result("ipc.buffers", "truncation wrong, recv_len", x.recv_len);
	result("ipc.buffers", 0, 0);
}

/*
 * The buffer goes straight from the sender's memory to the receiver's: in
 * one address space the two may overlap, and must arrive as memmove would
 * move them. The reply comes from srv_buf into srv_buf + 16: a forward
 * copy eight bytes at a time would repeat the first 16 bytes.
 */
static void test_ipc_buffer_overlap(void)
{
	struct mica_msg m = {.label = 1};
	struct mica_ipc_extra x = {.send_buf = (uint64_t)out_buf,
	                           .send_len = 200,
	                           .send_handle = MICA_HANDLE_NONE,
	                           .recv_buf = (uint64_t)(srv_buf + 16),
	                           .recv_cap = 200};
	long r;

	for (int i = 0; i < 200; i++)
		out_buf[i] = (char)(i * 13 + 1);
	if ((r = mica_call(ep, &m, &x)) != 0)
		return result("ipc.buffer_overlap", "call gave", r);
	if (x.recv_len != 200)
		return result("ipc.buffer_overlap", "recv_len", x.recv_len);
	for (int i = 0; i < 200; i++)
		if (srv_buf[16 + i] != out_buf[199 - i])
			return result("ipc.buffer_overlap", "byte wrong at", i);
	result("ipc.buffer_overlap", 0, 0);
}

/*
 * The kernel keeps each thread's translations of its IPC pages across
 * calls (docs/PERFORMANCE.md): once a page is unmapped they must go. The
 * descriptor and the receive buffer lie in a page at RVA (frame fa); after
 * a call it is unmapped and another frame (fb) mapped there: the next
 * reply must land in fb, read the descriptor from fb, and leave fa as it
 * was. With nothing mapped there, the call is refused (EFAULT).
 */
#define RVA  0x10300000UL /* free in ktest's address space */
#define RVA2 0x10301000UL
#define RVA3 0x10302000UL /* keeps RVA's page table: unmaps of RVA take the short path */

static long remap_call(uint8_t seed)
{
	struct mica_ipc_extra *x = (struct mica_ipc_extra *)(RVA + 2048);
	struct mica_msg m = {.label = 1};

	for (int i = 0; i < 64; i++)
		out_buf[i] = (char)(seed + i);
	*x = (struct mica_ipc_extra){.send_buf = (uint64_t)out_buf,
	                             .send_len = 64,
	                             .send_handle = MICA_HANDLE_NONE,
	                             .recv_buf = RVA,
	                             .recv_cap = 64};
	long r = mica_call(ep, &m, x);
	if (r != 0)
		return r;
	if (x->recv_len != 64)
		return 1000 + x->recv_len;
	for (int i = 0; i < 64; i++)
		if (((uint8_t *)RVA)[i] != (uint8_t)(seed + 63 - i))
			return 2000 + i;
	return 0;
}

static void test_ipc_buffer_remapped(void)
{
	const char *id = "ipc.buffer_remapped";
	uint64_t fa = frame_take(1), fb = frame_take(1), fc = frame_take(1);
	struct mica_msg m = {.label = 1};
	long r;

	if (!fa || !fb || !fc)
		return result(id, "no frames", 0);
	if ((r = mica_map(self_as, RVA3, fc, 1, MICA_MAP_READ)) != 0)
		return result(id, "map fc gave", r);
	if ((r = mica_map(self_as, RVA, fa, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "map fa gave", r);
	if ((r = remap_call(10)) != 0)
		return result(id, "first call gave", r);
	/* Another frame at the same address: what the kernel kept of fa must go. */
	if ((r = mica_unmap(self_as, RVA, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	if ((r = mica_map(self_as, RVA, fb, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "map fb gave", r);
	if ((r = remap_call(100)) != 0)
		return result(id, "call after the remap gave", r);
	/* fa holds the first reply still, and its descriptor: nothing was written there. */
	if ((r = mica_map(self_as, RVA2, fa, 1, MICA_MAP_READ)) != 0)
		return result(id, "map fa again gave", r);
	for (int i = 0; i < 64; i++)
		if (((uint8_t *)RVA2)[i] != (uint8_t)(10 + 63 - i))
			return result(id, "the old frame was written at", i);
	if (((struct mica_ipc_extra *)(RVA2 + 2048))->send_buf != (uint64_t)out_buf)
		return result(id, "the old descriptor changed", 0);
	/* Nothing mapped for the receive buffer: refused, the server untouched. */
	struct mica_ipc_extra x = {
	    .send_handle = MICA_HANDLE_NONE, .recv_buf = RVA, .recv_cap = 64};
	if ((r = mica_unmap(self_as, RVA, 1, 0)) != 1 || (r = mica_unmap(self_as, RVA2, 1, 0)) != 1)
		return result(id, "unmap after gave", r);
	if ((r = mica_call(ep, &m, &x)) != MICA_EFAULT)
		return result(id, "unmapped receive buffer gave", r);
	/* A descriptor in a page that went: refused too. */
	if ((r = mica_call(ep, &m, (struct mica_ipc_extra *)(RVA + 2048))) != MICA_EFAULT)
		return result(id, "unmapped descriptor gave", r);
	/* And the server still answers. */
	if ((r = mica_call(ep, &m, 0)) != 0)
		return result(id, "call after gave", r);
	if ((r = mica_unmap(self_as, RVA3, 1, 0)) != 1)
		return result(id, "unmap fc gave", r);
	result(id, 0, 0);
}

/*
 * ipc_call_keeps(ep): a call on ep with no descriptor (RBX 0), RBP set to
 * a pattern and w0 0, as the fast path takes it; the echo server answers
 * w0 + 1. Returns the call's error, or 1 if RBP or RBX came back changed
 * or w0 is not 1. The caller blocks in the fast path and is resumed
 * straight through its trap frame (docs/PERFORMANCE.md), which must give
 * back the registers it entered with.
 */
long ipc_call_keeps(long ep);
__asm__(".global ipc_call_keeps\n"
        "ipc_call_keeps:\n"
        "	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "	xorl %ebx, %ebx\n"
        "	movabsq $0x2222222222222222, %rbp\n"
        "	movl $1, %esi\n"
        "	xorl %edx, %edx; xorl %r10d, %r10d; xorl %r8d, %r8d; xorl %r9d, %r9d\n"
        "	xorl %r12d, %r12d; xorl %r13d, %r13d; xorl %r14d, %r14d; xorl %r15d, %r15d\n"
        "	movl $11, %eax\n" /* MICA_SYS_IPC_CALL */
        "	syscall\n"
        "	testq %rax, %rax\n"
        "	jne 2f\n"
        "	movabsq $0x2222222222222222, %rcx\n"
        "	cmpq %rcx, %rbp\n"
        "	jne 1f\n"
        "	testq %rbx, %rbx\n"
        "	jne 1f\n"
        "	cmpq $1, %rdx\n"
        "	je 2f\n"
        "1:	movl $1, %eax\n"
        "2:	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "	ret\n");
_Static_assert(MICA_SYS_IPC_CALL == 11, "ipc_call_keeps makes call 11");

static void test_ipc_fast_regs(void)
{
	for (int i = 0; i < 3; i++) {
		long r = ipc_call_keeps(ep);

		if (r == 1)
			return result("ipc.fast_regs", "RBP, RBX or w0 wrong after call", i);
		if (r != 0)
			return result("ipc.fast_regs", "call gave", r);
	}
	result("ipc.fast_regs", 0, 0);
}

static void test_ipc_handle_transfer(void)
{
	struct mica_msg m = {.label = 1};
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};
	long r;

	/* Copy: the server can use it (try_send: no receiver, EAGAIN), we keep ours. */
	long e2 = mica_endpoint_create();
	x.send_handle = (mica_handle_t)e2;
	x.send_xfer = MICA_XFER_COPY;
	if ((r = mica_call(ep, &m, &x)) != 0 || (long)m.w[7] != MICA_EAGAIN)
		return result("ipc.handle_transfer", "copy: server's try_send gave", (long)m.w[7]);
	if ((r = mica_handle_close((mica_handle_t)e2)) != 0)
		return result("ipc.handle_transfer", "copied handle gone from the sender:", r);
	/* Move: the server gets it, ours is gone. */
	long e3 = mica_endpoint_create();
	x.send_handle = (mica_handle_t)e3;
	x.send_xfer = MICA_XFER_MOVE;
	if ((r = mica_call(ep, &m, &x)) != 0 || (long)m.w[7] != MICA_EAGAIN)
		return result("ipc.handle_transfer", "move: server's try_send gave", (long)m.w[7]);
	if ((r = mica_handle_close((mica_handle_t)e3)) != MICA_EBADH)
		return result("ipc.handle_transfer", "moved handle still held:", r);
	result("ipc.handle_transfer", 0, 0);
}

static void test_ipc_errors(void)
{
	struct mica_msg m = {0};
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};
	long r, e = mica_endpoint_create();
	long send_only = mica_handle_mint((mica_handle_t)e, MICA_RIGHT_SEND, 1);
	long recv_only = mica_handle_mint((mica_handle_t)e, MICA_RIGHT_RECV, 2);

#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("ipc.errors", what, r);
	EXPECT("forged handle", mica_send(12345, &m, 0), MICA_EBADH);
	EXPECT("negative handle", mica_send(-5, &m, 0), MICA_EBADH);
	EXPECT("send without the right", mica_send((mica_handle_t)recv_only, &m, 0), MICA_ERIGHTS);
	EXPECT("recv without the right", mica_recv((mica_handle_t)send_only, &m, 0, 0),
	       MICA_ERIGHTS);
	EXPECT("try_send, no receiver", mica_try_send((mica_handle_t)e, &m, 0), MICA_EAGAIN);
	EXPECT("try_recv, no sender", mica_try_recv((mica_handle_t)e, &m, 0, 0), MICA_EAGAIN);
	EXPECT("bad descriptor", mica_try_send((mica_handle_t)e, &m, (void *)0x10000000),
	       MICA_EFAULT);
	x.send_len = MICA_MSG_BUF_MAX + 1;
	x.send_buf = (uint64_t)out_buf;
	EXPECT("oversized buffer", mica_try_send((mica_handle_t)e, &m, &x), MICA_EINVAL);
	x.send_len = 10;
	x.send_buf = 0x10000000;
	EXPECT("unmapped buffer", mica_try_send((mica_handle_t)e, &m, &x), MICA_EFAULT);
	x.send_len = 0;
	x.send_handle = 999;
	EXPECT("bad handle to pass", mica_try_send((mica_handle_t)e, &m, &x), MICA_EBADH);
	x.send_handle = (mica_handle_t)e;
	x.send_xfer = 7;
	EXPECT("unknown transfer mode", mica_try_send((mica_handle_t)e, &m, &x), MICA_EINVAL);
	x.send_handle = (mica_handle_t)send_only; /* minted without the copy right */
	x.send_xfer = MICA_XFER_COPY;
	EXPECT("copy without the right", mica_try_send((mica_handle_t)e, &m, &x), MICA_ERIGHTS);
	x.send_handle = MICA_HANDLE_NONE;
	x.recv_cap = 10;
	x.recv_buf = (uint64_t) "read-only";
	EXPECT("read-only receive buffer", mica_try_recv((mica_handle_t)e, &m, &x, 0), MICA_EFAULT);
	static const struct mica_ipc_extra ro_desc = {.send_handle = MICA_HANDLE_NONE};
	EXPECT("read-only descriptor", mica_try_recv((mica_handle_t)e, &m, (void *)&ro_desc, 0),
	       MICA_EFAULT);
	EXPECT("re-badging", mica_handle_mint((mica_handle_t)send_only, MICA_RIGHT_SEND, 3),
	       MICA_ERIGHTS);
	EXPECT("close forged", mica_handle_close(4242), MICA_EBADH);
	m.label = MICA_LABEL_FAULT;
	EXPECT("forged kernel label", mica_try_send((mica_handle_t)e, &m, 0), MICA_EINVAL);
	m.label = 0;
	EXPECT("bad syscall handle", mica_handle_close(-1), MICA_EBADH);
#undef EXPECT
	mica_handle_close((mica_handle_t)send_only);
	mica_handle_close((mica_handle_t)recv_only);
	mica_handle_close((mica_handle_t)e);
	result("ipc.errors", 0, 0);
}

static void test_ipc_server_death(void)
{
	struct mica_msg m = {0};
	long r;

	/* A server whose try_recv finds nothing still owes us the reply. */
	m.label = LABEL_TRY;
	if ((r = mica_call(ep, &m, 0)) != 0 || (long)m.w[0] != MICA_EAGAIN)
		return result("ipc.peer_gone", "call around a failed try_recv gave",
		              r ? r : (long)m.w[0]);
	/* A server that receives again without replying abandons the caller. */
	m.label = LABEL_AGAIN;
	if ((r = mica_call(ep, &m, 0)) != MICA_EPEER)
		return result("ipc.peer_gone", "abandoned call gave", r);
	/* A server that dies holding our call. */
	m.label = LABEL_DIE;
	if ((r = mica_call(ep, &m, 0)) != MICA_EPEER)
		return result("ipc.peer_gone", "call to a dying server gave", r);
	result("ipc.peer_gone", 0, 0);
}

static volatile long waiter_result = 1;

static void waiter(uint64_t e)
{
	struct mica_msg m;

	waiter_result = mica_recv((mica_handle_t)e, &m, 0, 0);
	mica_thread_exit(0);
}

static void test_ipc_endpoint_closed(void)
{
	long e = mica_endpoint_create();

	spawn(waiter, 5, (uint64_t)e, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	for (int i = 0; i < 5; i++)
		mica_yield(); /* the waiter blocks in recv */
	if (waiter_result != 1)
		return result("ipc.endpoint_closed", "recv returned early:", waiter_result);
	mica_handle_close((mica_handle_t)e); /* the last handle: the endpoint goes */
	for (int i = 0; i < 5; i++)
		mica_yield();
	result("ipc.endpoint_closed", waiter_result == MICA_EPEER ? 0 : "waiter got",
	       waiter_result);
}

static volatile long sender_result = 1;

static void blocked_sender(uint64_t e)
{
	struct mica_msg m = {.label = 0x77};

	sender_result = mica_send((mica_handle_t)e, &m, 0);
	mica_thread_exit(0);
}

/*
 * An endpoint dies with its last receive handle, though send handles keep
 * it: a sender queued on it gets MICA_EPEER, and so does every later send
 * or call. A receive-only copy keeps it alive; a send-only one does not.
 */
static void test_ipc_receiver_closed(void)
{
	const char *id = "ipc.receiver_closed";
	struct mica_msg m = {0};
	long e = mica_endpoint_create(), r;

	if (e < 0)
		return result(id, "endpoint_create gave", e);
	long s = mica_handle_mint((mica_handle_t)e, MICA_RIGHT_SEND, 0);
	long rv = mica_handle_mint((mica_handle_t)e, MICA_RIGHT_RECV, 0);

	if (s < 0 || rv < 0)
		return result(id, "mint gave", s < 0 ? s : rv);
	/* A receive-only copy keeps it alive when the original goes. */
	mica_handle_close((mica_handle_t)e);
	if ((r = mica_try_send((mica_handle_t)s, &m, 0)) != MICA_EAGAIN)
		return result(id, "try_send with a receiver left gave", r);
	spawn(blocked_sender, 6, (uint64_t)s, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	for (int i = 0; i < 5; i++)
		mica_yield(); /* the sender queues */
	if (sender_result != 1)
		return result(id, "send returned early:", sender_result);
	/* The last receive handle: the queued sender hears it. */
	mica_handle_close((mica_handle_t)rv);
	for (int i = 0; i < 5; i++)
		mica_yield();
	if (sender_result != MICA_EPEER)
		return result(id, "queued sender got", sender_result);
	/* Every later send on the send-only handle, at once. */
	if ((r = mica_try_send((mica_handle_t)s, &m, 0)) != MICA_EPEER)
		return result(id, "try_send gave", r);
	if ((r = mica_send((mica_handle_t)s, &m, 0)) != MICA_EPEER)
		return result(id, "send gave", r);
	if ((r = mica_call((mica_handle_t)s, &m, 0)) != MICA_EPEER)
		return result(id, "call gave", r);
	mica_handle_close((mica_handle_t)s);
	result(id, 0, 0);
}

static void test_ipc(void)
{
	long e = mica_endpoint_create();

	if (e < 0)
		return result("ipc.words_badges", "endpoint_create gave", e);
	ep = (mica_handle_t)e;
	if (spawn(echo_server, 4, (uint64_t)ep, MICA_HANDLE_NONE, MICA_HANDLE_NONE) < 0)
		return result("ipc.words_badges", "thread_create failed", 0);
	test_ipc_words_and_badges();
	test_ipc_buffers();
	test_ipc_buffer_overlap();
	test_ipc_buffer_remapped();
	test_ipc_fast_regs();
	test_ipc_handle_transfer();
	test_ipc_errors();
	test_ipc_server_death(); /* the echo server is gone after this */
	test_ipc_endpoint_closed();
	test_ipc_receiver_closed();
	mica_handle_close(ep);
}

/* The kernel passes the boot-info page's address in RDI. */
int main(const struct mica_bootinfo *bi)
{
	say("ktest: start\n");
	bootinfo = bi;
	self_as = bi->aspace;
	if (bi->nranges) {
		take_next = bi->range[0].start;
		take_left = bi->range[0].npages;
	}
	test_debug_write();
	test_bad_pointers();
	test_bad_number();
	test_regs_preserved();
	test_preemption();
	test_starvation();
	test_wake_preempts();
	test_faults_kill_only_the_thread();
	test_ipc();
	test_ipc_fast();
	test_time();
	test_notify();
	test_trace();
	test_threads();
	test_mem();
	test_cpu_flags();
	test_fpu();
	test_segs();
	test_ipcbuf();
	say("ktest: done\n");
	return 0;
}
