/*
 * The assembly IPC fast path (kernel/arch/x86_64/ipcfast.asm): call and
 * reply_recv with no descriptor between two threads of one priority, with
 * the server in this address space and in another one. Every register is
 * set and read in one asm routine (fast_sys), so the test sees exactly
 * what the kernel gives back: the message, RAX, the badge in RDI, and the
 * thread's own RBX, RBP, RCX (its RIP), RFLAGS (R11, the carry flag each
 * side sets differently) and XMM0: none of the other thread's may show.
 * The first round goes by the C paths (the server blocked in a plain
 * recv), the others by the assembly one; both must give the same. Then
 * each check the assembly path makes is failed once with the server
 * waiting there (its fall-back to the C paths must give the same error
 * and leave the message registers as they were); then each side's FS
 * base is its own IPC buffer after every assembly switch (fs_base), and
 * the server ends with a call outstanding (MICA_EPEER, the caller's
 * registers as it entered).
 */
#include <stdbool.h>
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/syscall.h>
#include <mica/trace.h>
#include "ktest.h"
#include "remote.h"

/* Every register fast_sys sets or reads; offsets are fast_sys's. */
struct fregs {
	uint64_t rax, rdi, rsi, w[MICA_MSG_WORDS]; /* 0, 8, 16, 24..80 */
	uint64_t rbx, rbp, rcx, r11, xmm0, rip;    /* 88, 96, 104, 112, 120, 128 */
};

/*
 * long fast_sys(nr, handle, io, rbp, xmm0, carry): system call nr (call
 * or reply_recv) on `handle` with RSI and the words from io, RBX 0, RBP
 * and XMM0 as given, the carry flag set if `carry`, NT set (never given
 * back: docs/ABI.md, RFLAGS); then every register
 * the call gives back into io (rip: where RCX should point). Returns RAX.
 */
long fast_sys(uint64_t nr, uint64_t handle, struct fregs *io, uint64_t rbp, uint64_t xmm0,
              uint64_t carry);
__asm__(".global fast_sys\n"
        "fast_sys:\n"
        "	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "	pushq %rdx\n"   /* io, for after */
        "	xorq $1, %r9\n" /* carry 1 -> 0: cmpq $1 below then borrows */
        "	pushq %r9\n"
        "	movq %r8, %xmm0\n"
        "	movq %rcx, %rbp\n"
        "	movq %rdi, %rax\n"
        "	movq %rsi, %rdi\n"
        "	movq %rdx, %r11\n"
        "	movq 16(%r11), %rsi\n"
        "	movq 24(%r11), %rdx\n"
        "	movq 32(%r11), %r10\n"
        "	movq 40(%r11), %r8\n"
        "	movq 48(%r11), %r9\n"
        "	movq 56(%r11), %r12\n"
        "	movq 64(%r11), %r13\n"
        "	movq 72(%r11), %r14\n"
        "	movq 80(%r11), %r15\n"
        "	xorl %ebx, %ebx\n"
        "	pushfq\n"
        "	orq $0x4000, (%rsp)\n" /* NT: the kernel must clear it on the way back */
        "	popfq\n"
        "	cmpq $1, (%rsp)\n" /* CF = carry */
        "	syscall\n"
        "1:	pushq %r11\n"
        "	pushq %rcx\n"
        "	movq 24(%rsp), %rcx\n" /* io */
        "	movq %rax, 0(%rcx)\n"
        "	movq %rdi, 8(%rcx)\n"
        "	movq %rsi, 16(%rcx)\n"
        "	movq %rdx, 24(%rcx)\n"
        "	movq %r10, 32(%rcx)\n"
        "	movq %r8, 40(%rcx)\n"
        "	movq %r9, 48(%rcx)\n"
        "	movq %r12, 56(%rcx)\n"
        "	movq %r13, 64(%rcx)\n"
        "	movq %r14, 72(%rcx)\n"
        "	movq %r15, 80(%rcx)\n"
        "	movq %rbx, 88(%rcx)\n"
        "	movq %rbp, 96(%rcx)\n"
        "	popq %r11\n"
        "	movq %r11, 104(%rcx)\n"
        "	popq %r11\n"
        "	movq %r11, 112(%rcx)\n"
        "	movq %xmm0, %r11\n"
        "	movq %r11, 120(%rcx)\n"
        "	leaq 1b(%rip), %r11\n"
        "	movq %r11, 128(%rcx)\n"
        "	addq $16, %rsp\n"
        "	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "	ret\n");
_Static_assert(__builtin_offsetof(struct fregs, rip) == 128, "fast_sys's offsets");

#define SRV_RBP   0x5e5e5e5e00000001ULL
#define SRV_XMM   0x5e5e5e5e00000002ULL
#define CLI_RBP   0xc1c1c1c100000003ULL
#define CLI_XMM   0xc1c1c1c100000004ULL
#define BADGE     0xb00bULL
#define CMD_EXIT  0xdeadULL /* the server ends without replying */
#define CMD_BAD   0xbadULL  /* the server tries three bad reply_recvs first */
#define CMD_FS    0xf5ULL   /* the server registers w[7] as its IPC buffer (0: none) */
#define CMD_FS0   0xf0ULL   /* the server loads the null selector into FS (its base 0) */
#define RFLAGS_CF 1ULL
#define RFLAGS_IF 0x200ULL
#define RFLAGS_NT 0x4000ULL

/* The 8 bytes at FS base + 0: an IPC buffer's `self`, its own address. */
static inline uint64_t fs_word(uint64_t off)
{
	uint64_t v;

	__asm__ volatile("movq %%fs:(%1), %0" : "=r"(v) : "r"(off) : "memory");
	return v;
}

/* The server's own view after a reply_recv: a bit per thing wrong (0: all right). */
static uint64_t own_regs_bad(const struct fregs *io, uint64_t rbp, uint64_t xmm0, uint64_t carry)
{
	uint64_t bad = 0;

	if (io->rbp != rbp)
		bad |= 1;
	if (io->xmm0 != xmm0)
		bad |= 2;
	if ((io->r11 & RFLAGS_CF) != carry)
		bad |= 4;
	if (io->rcx != io->rip)
		bad |= 8;
	if (io->rbx != 0)
		bad |= 16;
	if ((io->r11 & RFLAGS_NT) || !(io->r11 & RFLAGS_IF))
		bad |= 2048;
	return bad;
}

/*
 * The server: answers each call with label = the badge it saw + (what
 * was wrong << 32), word i = word i + the label it got + i. arg: its
 * endpoint (receive) and a send-only handle to it, 32 bits each. Uses
 * only its code, stack and registers, so it runs in another address
 * space too (remote.h).
 */
static void fast_server(uint64_t arg)
{
	mica_handle_t ep = (mica_handle_t)(uint32_t)arg, send_only = (mica_handle_t)(arg >> 32);
	struct fregs io;
	struct mica_msg m = {0};
	uint64_t badge, bad = 0, mybuf = 0;
	long r = mica_recv(ep, &m, 0, &badge); /* the C path: not parked for the fast one */

	io.rax = (uint64_t)r;
	io.rdi = badge;
	io.rsi = m.label;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		io.w[i] = m.w[i];
	while (io.rax == 0) {
		uint64_t label = io.rsi;

		if (label == CMD_EXIT)
			mica_thread_exit(0);
		if (label == CMD_BAD) {
			/* Each refused, the caller still ours, our registers as they were. */
			struct fregs e = io;

			e.rsi = 1;
			if (fast_sys(MICA_SYS_IPC_REPLY_RECV, 12345, &e, SRV_RBP, SRV_XMM, 0) !=
			    MICA_EBADH)
				bad |= 32;
			if (fast_sys(MICA_SYS_IPC_REPLY_RECV, (uint64_t)send_only, &e, SRV_RBP,
			             SRV_XMM, 0) != MICA_ERIGHTS)
				bad |= 64;
			e.rsi = MICA_LABEL_KERNEL;
			if (fast_sys(MICA_SYS_IPC_REPLY_RECV, (uint64_t)ep, &e, SRV_RBP, SRV_XMM,
			             0) != MICA_EINVAL)
				bad |= 128;
			for (int i = 0; i < MICA_MSG_WORDS; i++)
				if (e.w[i] != io.w[i])
					bad |= 256;
			if (e.rsi != MICA_LABEL_KERNEL || own_regs_bad(&e, SRV_RBP, SRV_XMM, 0))
				bad |= 512;
		}
		if (label == CMD_FS) {
			/* From here each return to us must bring our own base. */
			mybuf = io.w[7];
			if (mica_ipc_buffer_set((void *)mybuf) != 0 ||
			    (mybuf && fs_word(0) != mybuf))
				bad |= 4096;
		}
		if (label == CMD_FS0)
			__asm__ volatile("mov %0, %%fs" : : "r"(0));
		io.rsi = io.rdi + (bad << 32);
		for (int i = 0; i < MICA_MSG_WORDS; i++)
			io.w[i] += label + (uint64_t)i;
		fast_sys(MICA_SYS_IPC_REPLY_RECV, (uint64_t)ep, &io, SRV_RBP, SRV_XMM, 0);
		bad = own_regs_bad(&io, SRV_RBP, SRV_XMM, 0);
		if (mybuf && fs_word(0) != mybuf)
			bad |= 4096; /* the assembly switch left another base (or 0) */
		/* Our DS is null whatever the caller's (its own selectors stay its own). */
		uint16_t ds;
		__asm__ volatile("mov %%ds, %0" : "=r"(ds));
		if (ds != 0)
			bad |= 1024;
	}
	mica_thread_exit((int64_t)io.rax);
}

static uint64_t cmd_fs_buf; /* w[7] of a CMD_FS call: the server's buffer */

/* The client's words for a call with `label`. */
static void client_words(struct fregs *io, uint64_t label)
{
	io->rsi = label;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		io->w[i] = label * 0x100010001ULL + (uint64_t)i * 0x1111111111ULL;
	if (label == CMD_FS)
		io->w[7] = cmd_fs_buf;
}

/*
 * One call on h with `label`, checked: the server's answer (its view of
 * the badge and of its own registers, the words), and this thread's own
 * registers. NULL if right, else what was wrong (*detail: which).
 */
static const char *round_trip(mica_handle_t h, uint64_t label, long *detail)
{
	struct fregs io, sent;

	client_words(&io, label);
	sent = io;
	long r = fast_sys(MICA_SYS_IPC_CALL, (uint64_t)h, &io, CLI_RBP, CLI_XMM, 1);
	*detail = r;
	if (r != 0)
		return "call gave";
	if (io.rdi != 0)
		return "a reply carries no badge, RDI";
	*detail = (long)(io.rsi >> 32);
	if ((io.rsi & 0xFFFFFFFFULL) != BADGE)
		return "badge the server saw / its registers wrong (bits)";
	if (io.rsi >> 32)
		return "the server's registers wrong after reply_recv (bits)";
	for (int i = 0; i < MICA_MSG_WORDS; i++) {
		*detail = i;
		if (io.w[i] != sent.w[i] + label + (uint64_t)i)
			return "reply word wrong";
	}
	*detail = (long)own_regs_bad(&io, CLI_RBP, CLI_XMM, RFLAGS_CF);
	if (*detail)
		return "own registers wrong after call (bits)";
	return 0;
}

/* A call that must fail with `want`, leaving every register as it was but RAX. */
static const char *refused(uint64_t h, uint64_t label, long want, long *detail)
{
	struct fregs io, sent;

	client_words(&io, label);
	sent = io;
	long r = fast_sys(MICA_SYS_IPC_CALL, h, &io, CLI_RBP, CLI_XMM, 1);
	*detail = r;
	if (r != want)
		return "refused call gave";
	*detail = 0;
	if (io.rdi != h || io.rsi != label)
		return "RDI or RSI changed";
	for (int i = 0; i < MICA_MSG_WORDS; i++) {
		*detail = i;
		if (io.w[i] != sent.w[i])
			return "word changed";
	}
	*detail = (long)own_regs_bad(&io, CLI_RBP, CLI_XMM, RFLAGS_CF);
	if (*detail)
		return "own registers wrong (bits)";
	return 0;
}

#define SCRATCH 0x10310000ULL /* free in ktest's address space */
#define SRV_BUF 0x10200000ULL /* the remote server's IPC buffer, in its address space */

static struct mica_ipc_buffer fsb_page[2] __attribute__((aligned(MICA_PAGE_SIZE)));
static volatile uint64_t fs_probe = 0x9e0be5ULL; /* read at FS base 0 + its address */

/*
 * The FS base over the assembly path (ipcfast.asm ipcfast_switch, by
 * ctx_switch's rule): this thread and the server each register a buffer
 * of their own, and after every round trip each finds its own at %fs:0
 * (the server reports in its reply): also after this thread, then the
 * server, loaded the null selector into FS (base 0: the switch back must
 * write it again, though the base last written may equal it); then this
 * thread without a buffer, after the server's: its base must be 0 again
 * (fs_probe read through FS). Without the write in the assembly switch
 * the other side's base (or 0) stays.
 */
static const char *fs_rounds(mica_handle_t h, uint64_t srv_buf, long *detail)
{
	const char *why = 0;
	uint64_t mine = (uint64_t)&fsb_page[0];
	long r = mica_ipc_buffer_set(&fsb_page[0]);

	*detail = r;
	if (r)
		return "ipc_buffer_set gave";
	cmd_fs_buf = srv_buf;
	why = round_trip(h, CMD_FS, detail);
	for (uint64_t i = 0; i < 8 && !why; i++) {
		if (i == 2)
			__asm__ volatile("mov %0, %%fs" : : "r"(0)); /* our base 0 */
		why = round_trip(h, i == 5 ? CMD_FS0 : 300 + i, detail);
		if (!why && fs_word(0) != mine)
			why = "our FS base not our buffer after round", *detail = (long)i;
	}
	if (why)
		return why;
	/* No buffer here: after the server's base, ours is 0 again. */
	if ((r = mica_ipc_buffer_set(0)) != 0)
		return *detail = r, "ipc_buffer_set(0) gave";
	if ((why = round_trip(h, 320, detail)) != 0)
		return why;
	if (fs_word((uint64_t)&fs_probe) != fs_probe)
		return *detail = 0, "FS base not 0 without a buffer";
	cmd_fs_buf = 0;
	return round_trip(h, CMD_FS, detail); /* the server's back to none */
}

static void fast_run(bool remote)
{
	const char *grp = remote ? "ipc.fast_remote" : "ipc.fast_local";
	const char *why = 0;
	long d = 0, as = -1, th;
	long ep = mica_endpoint_create();
	long badged = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_SEND, BADGE);
	long send_only = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_SEND, 0);
	long recv_only = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_RECV, 0);
	long ntf = mica_notify_create();

	if (ep < 0 || badged < 0 || send_only < 0 || recv_only < 0 || ntf < 0)
		return result_in(grp, "regs", "handles", ep);
	if (remote) {
		/* The server in a new address space, with its own two handles. */
		as = mica_aspace_create(self_as);
		if (as < 0 || (d = remote_prepare(bootinfo, self_as, (mica_handle_t)as,
		                                  frame_take(1), SCRATCH)) < 0)
			return result_in(grp, "regs", "remote_prepare gave", as < 0 ? as : d);
		long rep = mica_handle_give((mica_handle_t)as, (mica_handle_t)ep, MICA_RIGHT_RECV);
		long rso = mica_handle_give((mica_handle_t)as, (mica_handle_t)ep, MICA_RIGHT_SEND);
		if (rep < 0 || rso < 0)
			return result_in(grp, "regs", "handle_give gave", rep < 0 ? rep : rso);
		th = remote_start((mica_handle_t)as, fast_server,
		                  (uint64_t)rep | (uint64_t)rso << 32, 16);
	} else {
		th = spawn(fast_server, 4, (uint64_t)ep | (uint64_t)send_only << 32,
		           MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	}
	if (th < 0)
		return result_in(grp, "regs", "thread_create gave", th);

	/* Round 0 by the C paths, then the assembly one: the same answers. */
	for (uint64_t i = 0; i < 6 && !why; i++)
		why = round_trip((mica_handle_t)badged, 100 + i, &d);
	result_in(grp, "regs", why, d);

	/*
	 * Tracing turned on and off with the server parked by the assembly
	 * path (trace.c points call and reply_recv at the C fast path while
	 * switches are traced, at the general path while messages are): each
	 * path resumes the other's parked threads, with the same answers, and
	 * the switches were recorded.
	 */
	mica_handle_t dev = bootinfo->devices;
	const uint32_t masks[] = {MICA_TRACE_EV(MICA_TRACE_SWITCH), MICA_TRACE_EV(MICA_TRACE_IPC),
	                          MICA_TRACE_ALL};
	for (unsigned k = 0; k < 3 && !why; k++) {
		if ((d = mica_trace(dev, MICA_TRACE_START, masks[k], 0)) != 0) {
			why = "trace start gave";
			break;
		}
		for (uint64_t i = 0; i < 3 && !why; i++)
			why = round_trip((mica_handle_t)badged, 400 + k * 10 + i, &d);
		long n = mica_trace(dev, MICA_TRACE_STOP, 0, 0);
		if (!why && n < 6)
			why = "events recorded over three round trips", d = n;
		for (uint64_t i = 0; i < 3 && !why; i++)
			why = round_trip((mica_handle_t)badged, 500 + k * 10 + i, &d);
	}
	/* The ring left empty (trace.errors expects it so): faults only, none. */
	if (mica_trace(dev, MICA_TRACE_START, MICA_TRACE_EV(MICA_TRACE_FAULT), 0) != 0 ||
	    mica_trace(dev, MICA_TRACE_STOP, 0, 0) != 0)
		why = why ? why : "emptying the trace ring failed";
	result_in(grp, "trace_toggle", why, d);

	/* Each check failed with the server waiting in the fast path. */
	long closed = mica_endpoint_create();
	long closed_send = mica_handle_mint((mica_handle_t)closed, MICA_RIGHT_SEND, 0);
	mica_handle_close((mica_handle_t)closed); /* its only receive handle: dead */
	why = refused((uint64_t)recv_only, 7, MICA_ERIGHTS, &d);
	if (!why)
		why = refused(12345, 7, MICA_EBADH, &d);
	if (!why)
		why = refused((uint64_t)-5, 7, MICA_EBADH, &d);
	if (!why)
		why = refused((uint64_t)ntf, 7, MICA_EBADH, &d);
	if (!why)
		why = refused((uint64_t)badged, MICA_LABEL_KERNEL, MICA_EINVAL, &d);
	if (!why)
		why = refused((uint64_t)closed_send, 7, MICA_EPEER, &d);
	if (!why) {
		/* Another DS than the server's (null): the C path's switch loads
		 * each side's own; ours is back after the call. */
		uint16_t ds = 0x1b, back; /* GDT entry 3 (user data), RPL 3 */

		__asm__ volatile("mov %0, %%ds" : : "r"(ds));
		why = round_trip((mica_handle_t)badged, 150, &d);
		__asm__ volatile("mov %%ds, %0\n\tmov %1, %%ds" : "=&r"(back) : "r"((uint16_t)0));
		if (!why && back != ds)
			why = "DS after a call with selectors of its own", d = back;
	}
	if (!why)
		why = round_trip((mica_handle_t)badged, CMD_BAD, &d); /* the server's refusals */
	if (!why)
		why = round_trip((mica_handle_t)badged, 200, &d); /* and on as before */
	result_in(grp, "fallbacks", why, d);

	/* Each side's FS base its own IPC buffer after the assembly switches. */
	uint64_t srv_buf = (uint64_t)&fsb_page[1];
	d = 0;
	if (remote) {
		uint64_t f = frame_take(1);

		srv_buf = SRV_BUF;
		d = f ? mica_map((mica_handle_t)as, SRV_BUF, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)
		      : -1;
	}
	why = d ? "map of the server's buffer gave" : fs_rounds((mica_handle_t)badged, srv_buf, &d);
	result_in(grp, "fs_base", why, d);

	/* The server ends owing us a reply: MICA_EPEER, our registers as we entered. */
	why = refused((uint64_t)badged, CMD_EXIT, MICA_EPEER, &d);
	result_in(grp, "peer_gone", why, d);

	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)closed_send);
	mica_handle_close((mica_handle_t)ntf);
	mica_handle_close((mica_handle_t)recv_only);
	mica_handle_close((mica_handle_t)send_only);
	mica_handle_close((mica_handle_t)badged);
	mica_handle_close((mica_handle_t)ep);
	if (remote && (d = remote_destroy((mica_handle_t)as)) != 0)
		result_in(grp, "destroy", "aspace_destroy gave", d);
}

/*
 * A partner whose saved RIP sysret must not take (ipcfast.asm's .by_frame):
 * its system call is the last instruction below MICA_USER_TOP, so it
 * returns to MICA_USER_TOP itself, which is no user address. The assembly
 * switch must leave through iretq (a sysret to it would be a #GP in ring
 * 0 on Intel CPUs), and the thread then faults there, in user mode: it is
 * killed (#PF at that RIP), reported to its supervisor, and the kernel goes
 * on. Once the partner is the caller (its call made at the top, answered
 * by our reply_recv), once the receiver (its reply_recv made at the top,
 * our call taking it there).
 */
#define TOP_CODE (MICA_USER_TOP - MICA_PAGE_SIZE) /* the last user page */
#define TOP_MAP  0x10320000ULL                    /* free in ktest: the code page written */
#define TOP_SUP  0x5a5aULL                        /* the supervisor badge */
#define TOP_CLI  0xc1c1ULL                        /* the caller's badge */

/* Jump to the snippet at the top (xor ebx, ebx; syscall) as system call nr on h with `label`. */
static void __attribute__((noreturn)) top_jump(uint64_t nr, uint64_t h, uint64_t label)
{
	__asm__ volatile("jmp *%0"
	                 :
	                 : "r"((uint64_t)MICA_USER_TOP - 4), "a"(nr), "D"(h), "S"(label)
	                 : "memory");
	__builtin_unreachable();
}

/* A caller whose call is made at the top. */
static void top_caller(uint64_t h)
{
	top_jump(MICA_SYS_IPC_CALL, h, 0x77);
}

/* A server that receives one call, then answers it (and waits again) at the top. */
static void top_server(uint64_t ep)
{
	struct mica_msg m = {0};

	if (mica_recv((mica_handle_t)ep, &m, 0, 0) != 0)
		mica_thread_exit(1);
	top_jump(MICA_SYS_IPC_REPLY_RECV, ep, 0x78);
}

/* The exit notice in io (label, badge, words): killed by #PF at MICA_USER_TOP. */
static const char *top_notice(const struct fregs *io, long *detail)
{
	*detail = (long)io->rax;
	if (io->rax != 0)
		return "waiting for the exit notice gave";
	*detail = (long)io->w[2];
	if (io->rsi != MICA_LABEL_EXIT || io->rdi != TOP_SUP)
		return "not the exit notice (label, badge)";
	if (io->w[1] != MICA_EXIT_FAULT || io->w[2] != 14)
		return "the thread did not end by #PF (code)";
	*detail = (long)io->w[4];
	if (io->w[3] != MICA_USER_TOP || io->w[4] != MICA_USER_TOP)
		return "not resumed at MICA_USER_TOP (rip)";
	return 0;
}

static void fast_top(void)
{
	const char *why = 0;
	uint64_t f = frame_take(1);
	long d = 0, r;
	long ep = mica_endpoint_create(), ep2 = mica_endpoint_create();
	long sup = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_SEND, TOP_SUP);
	long cli = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_SEND, TOP_CLI);

	if (!f || ep < 0 || ep2 < 0 || sup < 0 || cli < 0)
		return result_in("ipc.fast_top", "call", "frame or handles", ep);
	/* The snippet at the very end of the last user page, mapped executable. */
	if ((r = mica_map(self_as, TOP_MAP, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0 ||
	    (r = mica_map(self_as, TOP_CODE, f, 1, MICA_MAP_READ | MICA_MAP_EXEC)) != 0)
		return result_in("ipc.fast_top", "call", "map gave", r);
	static const uint8_t snippet[] = {0x31, 0xdb, 0x0f, 0x05}; /* xor ebx, ebx; syscall */
	for (unsigned i = 0; i < sizeof(snippet); i++)
		((volatile uint8_t *)TOP_MAP)[MICA_PAGE_SIZE - sizeof(snippet) + i] = snippet[i];

	/* The caller at the top: our reply_recv (assembly) answers it, then
	 * waits on; the next message is its exit notice. */
	long th = spawn(top_caller, 5, (uint64_t)cli, MICA_HANDLE_NONE, (mica_handle_t)sup);
	struct mica_msg m = {0};
	uint64_t badge = 0;
	struct fregs io = {0};
	if (th < 0) {
		why = "thread_create gave", d = th;
	} else if ((r = mica_recv((mica_handle_t)ep, &m, 0, &badge)) != 0 || m.label != 0x77 ||
	           badge != TOP_CLI) {
		why = "the top caller's call: recv gave (or label, badge wrong)", d = r;
	} else {
		client_words(&io, 0x99);
		(void)fast_sys(MICA_SYS_IPC_REPLY_RECV, (uint64_t)ep, &io, SRV_RBP, SRV_XMM, 0);
		why = top_notice(&io, &d);
		if (!why && (d = (long)own_regs_bad(&io, SRV_RBP, SRV_XMM, 0)) != 0)
			why = "our registers after the reply_recv (bits)";
	}
	result_in("ipc.fast_top", "call", why, d);
	if (th >= 0)
		mica_handle_close((mica_handle_t)th);

	/* The receiver at the top: our first call parks it there (its
	 * reply_recv), our second (assembly) hands over to it there. */
	why = 0;
	th = spawn(top_server, 5, (uint64_t)ep2, MICA_HANDLE_NONE, (mica_handle_t)sup);
	if (th < 0) {
		why = "thread_create gave", d = th;
	} else {
		yield_n(2); /* let it wait in its recv */
		client_words(&io, 0x31);
		r = fast_sys(MICA_SYS_IPC_CALL, (uint64_t)ep2, &io, CLI_RBP, CLI_XMM, 1);
		if (r != 0 || io.rsi != 0x78)
			why = "the first call gave (or the reply's label)",
			d = r ? r : (long)io.rsi;
	}
	if (!why) {
		client_words(&io, 0x32);
		r = fast_sys(MICA_SYS_IPC_CALL, (uint64_t)ep2, &io, CLI_RBP, CLI_XMM, 1);
		if (r != MICA_EPEER)
			why = "the call to the top server gave", d = r;
		else if ((d = (long)own_regs_bad(&io, CLI_RBP, CLI_XMM, RFLAGS_CF)) != 0)
			why = "our registers after the call (bits)";
	}
	if (!why) {
		m = (struct mica_msg){0};
		r = mica_recv((mica_handle_t)ep, &m, 0, &badge);
		io.rax = (uint64_t)r;
		io.rdi = badge;
		io.rsi = m.label;
		for (int i = 0; i < MICA_MSG_WORDS; i++)
			io.w[i] = m.w[i];
		why = top_notice(&io, &d);
	}
	result_in("ipc.fast_top", "reply_recv", why, d);
	if (th >= 0)
		mica_handle_close((mica_handle_t)th);
	(void)mica_unmap(self_as, TOP_CODE, 1, 0);
	(void)mica_unmap(self_as, TOP_MAP, 1, 0);
	mica_handle_close((mica_handle_t)cli);
	mica_handle_close((mica_handle_t)sup);
	mica_handle_close((mica_handle_t)ep2);
	mica_handle_close((mica_handle_t)ep);
}

/*
 * long ymm_sys(nr, handle, label, pattern, out): system call nr (call or
 * reply_recv) on handle with RSI = label, RBX 0, the other message
 * registers 0, and all four quadwords of YMM1 = pattern; then out[0] = the
 * upper half's low quadword of YMM1 as the call left it, out[1] = RSI (the
 * label received). Returns RAX. Needs AVX.
 */
long ymm_sys(uint64_t nr, uint64_t handle, uint64_t label, uint64_t pattern, uint64_t *out);
__asm__(".global ymm_sys\n"
        "ymm_sys:\n"
        "	pushq %rbx; pushq %rbp; pushq %r12; pushq %r13; pushq %r14; pushq %r15\n"
        "	pushq %r8\n"
        "	subq $32, %rsp\n"
        "	movq %rcx, 0(%rsp); movq %rcx, 8(%rsp); movq %rcx, 16(%rsp); movq %rcx, 24(%rsp)\n"
        "	vmovdqu (%rsp), %ymm1\n"
        "	addq $32, %rsp\n"
        "	movq %rdi, %rax\n"
        "	movq %rsi, %rdi\n"
        "	movq %rdx, %rsi\n"
        "	xorl %ebx, %ebx; xorl %edx, %edx; xorl %r10d, %r10d; xorl %r8d, %r8d\n"
        "	xorl %r9d, %r9d; xorl %r12d, %r12d; xorl %r13d, %r13d; xorl %r14d, %r14d\n"
        "	xorl %r15d, %r15d\n"
        "	syscall\n"
        "	popq %rcx\n"
        "	vextractf128 $1, %ymm1, %xmm1\n"
        "	vmovq %xmm1, 0(%rcx)\n"
        "	movq %rsi, 8(%rcx)\n"
        "	vzeroupper\n"
        "	popq %r15; popq %r14; popq %r13; popq %r12; popq %rbp; popq %rbx\n"
        "	ret\n");

#define YMM_SRV 0x5e5e5e5e0000aaaaULL
#define YMM_CLI 0xc1c1c1c10000bbbbULL
#define YMM_END 0xe0dULL /* the server ends */

/* AVX usable: CPUID.1:ECX AVX and OSXSAVE (the kernel enables AVX in XCR0 when it is there). */
static bool have_avx(void)
{
	uint32_t a = 1, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	return (c & (1u << 28)) && (c & (1u << 27));
}

/* Answers each call with label 0, or 1 if its YMM1 upper half was not its own after its call. */
static void ymm_server(uint64_t ep)
{
	struct mica_msg m = {0};
	uint64_t out[2] = {YMM_SRV, 0}, label;

	if (mica_recv((mica_handle_t)ep, &m, 0, 0) != 0)
		mica_thread_exit(1);
	label = m.label;
	while (label != YMM_END) {
		uint64_t reply = out[0] != YMM_SRV;

		if (ymm_sys(MICA_SYS_IPC_REPLY_RECV, ep, reply, YMM_SRV, out) != 0)
			mica_thread_exit(2);
		label = out[1];
	}
	mica_thread_exit(0);
}

/*
 * The AVX registers' upper halves over the assembly switch (xsave/xrstor
 * with XCR0's components): client and server each keep their own YMM1
 * whole over round trips (the first by the C paths, the rest by the
 * assembly one); nothing of the other's shows. On a CPU without AVX there
 * is nothing to check (the cpu=qemu64 boot).
 */
static void fast_ymm(void)
{
	const char *why = 0;
	long d = 0;
	long ep = mica_endpoint_create();

	if (!have_avx())
		return result_in("ipc.fast_local", "ymm", 0, 0);
	if (ep < 0)
		return result_in("ipc.fast_local", "ymm", "endpoint_create gave", ep);
	long th = spawn(ymm_server, 4, (uint64_t)ep, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result_in("ipc.fast_local", "ymm", "thread_create gave", th);
	for (uint64_t i = 0; i < 6 && !why; i++) {
		uint64_t out[2];

		d = ymm_sys(MICA_SYS_IPC_CALL, (uint64_t)ep, 100 + i, YMM_CLI, out);
		if (d != 0)
			why = "call gave";
		else if (out[0] != YMM_CLI)
			why = "our YMM1 upper half after the call, round", d = (long)i;
		else if (out[1] != 0)
			why = "the server's YMM1 upper half after its reply_recv, round",
			d = (long)i;
	}
	uint64_t out[2];
	long last = ymm_sys(MICA_SYS_IPC_CALL, (uint64_t)ep, YMM_END, YMM_CLI, out);
	if (last != MICA_EPEER && !why)
		why = "the last call gave", d = last;
	result_in("ipc.fast_local", "ymm", why, d);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
}

void test_ipc_fast(void)
{
	fast_run(false);
	fast_run(true);
	fast_top();
	fast_ymm();
}
