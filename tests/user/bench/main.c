/*
 * bench: the kernel's micro-benchmarks, run as the first task by
 * `make bench` under QEMU with -icount shift=0,sleep=off, where rdtsc
 * advances once per executed instruction. Each prints one line:
 *
 *   bench <name> <instructions per operation> instr/op n=<operations>
 *
 * syscall.null            an unknown system call number: entry and exit
 * ipc.call_reply.local    call + reply_recv round trip, server thread in
 *                         the same address space
 * ipc.call_reply.remote   the same, server in another address space (a
 *                         page-table switch each way)
 * ipc.call_reply.buf64    remote, with a 64-byte buffer each way, through
 *                         both threads' IPC buffers (RBX MICA_IPC_BUFFER)
 * ipc.call_reply.buf4k    remote, with a 4 KiB buffer each way (page-aligned
 *                         on both sides: one page copied each way)
 *
 * notify.signal_wait      a notification signalled in one address space
 *                         wakes a thread waiting in another (half a
 *                         ping-pong round trip: signal, switch, wait returns)
 * irq.to_driver           an interrupt (COM1's transmitter-empty, raised by
 *                         the out that enables it) to its driver thread
 *                         running: the out, the kernel's entry, the mask,
 *                         the signal, the switch and the return of its wait
 *
 * and the kernel's memory per object, in bytes, from mem_stats (the reserve
 * frames in use) read after each of many creations (measure_bytes):
 *
 * meta.kernel_bytes_per_endpoint   an endpoint
 * meta.kernel_bytes_per_thread     a thread (never run) in this address space
 */
#include <stdbool.h>
#include <libipc/syscall.h>
#include <mica/bootinfo.h>
#include <mica/memory.h>
#include "out.h"
#include "remote.h"

#define N_DEFAULT 10000
#define WARM      100
#define SCRATCH   0x20000000ULL
#define META_N    160 /* objects per meta.* figure: within one handle table (168 slots) */
/* Where the buf4k server's buffer page goes in its address space (beside its stack). */
#define REMOTE_BUF (REMOTE_STACK_TOP + 0x100000ULL)

/* Operations per benchmark: N_DEFAULT, or bench_n=<n> on the kernel command line. */
static uint64_t N = N_DEFAULT;

static void parse_n(const char *cmdline)
{
	static const char key[] = "bench_n=";

	for (const char *p = cmdline; *p; p++) {
		unsigned i = 0;

		while (key[i] && p[i] == key[i])
			i++;
		if (key[i])
			continue;
		N = 0;
		for (p += i; *p >= '0' && *p <= '9'; p++)
			N = N * 10 + (uint64_t)(*p - '0');
		return;
	}
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static void report(const char *name, uint64_t instr, uint64_t n)
{
	say("bench ");
	say(name);
	say(" ");
	say_num((long)(n ? (instr + n / 2) / n : 0));
	say(" instr/op n=");
	say_num((long)n);
	say("\n");
}

/* What a failure must end so that the run ends (idle=exit waits for every thread). */
static long cur_thread = -1, cur_as = -1;

static void fail(const char *what, long rc)
{
	say("bench: FAILED ");
	say(what);
	say(" ");
	say_num(-rc);
	say("\n");
	if (cur_thread >= 0)
		mica_thread_kill((mica_handle_t)cur_thread, 0);
	if (cur_as >= 0)
		remote_destroy((mica_handle_t)cur_as);
	mica_thread_exit(1);
}

/*
 * The echo server: answers each call with w0 + 1, forever. Runs in either
 * address space, so it touches nothing but its stack (remote.h).
 */
static void echo(uint64_t ep)
{
	struct mica_msg m = {0};

	(void)mica_recv((mica_handle_t)ep, &m, 0, 0);
	for (;;) {
		m.w[0]++;
		(void)mica_reply_recv((mica_handle_t)ep, &m, 0, 0);
	}
}

/*
 * The same with a buffer, through its IPC buffer (the page at REMOTE_BUF,
 * found through FS as libipc does): it sends back what it received.
 */
static void echo_buf(uint64_t ep)
{
	struct mica_msg m = {0};

	if (mica_ipc_buffer_set((void *)REMOTE_BUF) != 0)
		mica_thread_exit(1);
	struct mica_ipc_buffer *b = mica_ipc_buffer();
	b->send_handle = MICA_HANDLE_NONE;
	(void)mica_recv((mica_handle_t)ep, &m, MICA_IPC_BUF, 0);
	for (;;) {
		m.w[0]++;
		b->send_len = b->recv_len;
		(void)mica_reply_recv((mica_handle_t)ep, &m, MICA_IPC_BUF, 0);
	}
}

/* The same with a 4 KiB buffer: its own page at REMOTE_BUF (the stack is one page). */
static void echo_buf4k(uint64_t ep)
{
	struct mica_ipc_extra x = {.send_buf = REMOTE_BUF,
	                           .send_len = 0,
	                           .send_handle = MICA_HANDLE_NONE,
	                           .recv_cap = MICA_MSG_BUF_MAX,
	                           .recv_buf = REMOTE_BUF};
	struct mica_msg m = {0};

	(void)mica_recv((mica_handle_t)ep, &m, &x, 0);
	for (;;) {
		m.w[0]++;
		x.send_len = x.recv_len;
		(void)mica_reply_recv((mica_handle_t)ep, &m, &x, 0);
	}
}

/* N round trips to ep; the instructions they took. */
static uint64_t calls(mica_handle_t ep, struct mica_ipc_extra *x)
{
	struct mica_msg m = {.label = 1};
	long r;

	for (int i = 0; i < WARM; i++)
		if ((r = mica_call(ep, &m, x)) != 0)
			fail("call", r);
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < N; i++)
		(void)mica_call(ep, &m, x);
	uint64_t t1 = rdtsc();
	if (m.w[0] != (uint64_t)(N + WARM))
		fail("echo count", -(long)m.w[0]);
	return t1 - t0;
}

static char stack[8192] __attribute__((aligned(16)));

static void bench_null(void)
{
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < N; i++)
		(void)mica_syscall4(999, 0, 0, 0, 0);
	report("syscall.null", rdtsc() - t0, N);
}

static void bench_local(mica_handle_t self)
{
	long ep = mica_endpoint_create();
	if (ep < 0)
		fail("endpoint_create", ep);
	struct mica_thread_params p = {.entry = (uint64_t)echo,
	                               .stack_top = (uint64_t)(stack + sizeof(stack)),
	                               .arg = (uint64_t)ep,
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};
	long th = cur_thread = mica_thread_create(self, &p);
	if (th < 0)
		fail("thread_create", th);
	report("ipc.call_reply.local", calls((mica_handle_t)ep, 0), N);
	mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	cur_thread = -1;
}

static uint64_t take_next, take_left;

static uint64_t frame_take(void)
{
	if (!take_left)
		fail("out of pool frames", -1);
	take_left--;
	take_next += MICA_PAGE_SIZE;
	return take_next - MICA_PAGE_SIZE;
}

static uint8_t client_buf[MICA_MSG_BUF_MAX] __attribute__((aligned(MICA_PAGE_SIZE)));
static struct mica_ipc_buffer client_ipcbuf __attribute__((aligned(MICA_PAGE_SIZE)));

/* A server in a new address space; buf_len bytes each way (0: none). */
static void bench_remote(const struct mica_bootinfo *bi, const char *name, void (*server)(uint64_t),
                         uint32_t buf_len)
{
	mica_handle_t self = bi->aspace;
	long as = cur_as = mica_aspace_create(self);
	if (as < 0)
		fail("aspace_create", as);
	long r = remote_prepare(bi, self, (mica_handle_t)as, frame_take(), SCRATCH);
	if (r < 0)
		fail("remote_prepare", r);
	if (buf_len && (r = mica_map((mica_handle_t)as, REMOTE_BUF, frame_take(), 1,
	                             MICA_MAP_READ | MICA_MAP_WRITE)) < 0)
		fail("map server buffer", r);
	long ep = mica_endpoint_create();
	if (ep < 0)
		fail("endpoint_create", ep);
	long rep = mica_handle_give((mica_handle_t)as, (mica_handle_t)ep, MICA_RIGHT_RECV);
	if (rep < 0)
		fail("handle_give", rep);
	long th = remote_start((mica_handle_t)as, server, (uint64_t)rep, 16);
	if (th < 0)
		fail("remote_start", th);

	/* Up to MICA_IPC_BUFFER_DATA bytes through the IPC buffers (buf64), more by descriptor. */
	bool ipcbuf = buf_len && buf_len <= MICA_IPC_BUFFER_DATA;
	uint8_t *buf = ipcbuf ? client_ipcbuf.data : client_buf;
	uint32_t *recv_len = ipcbuf ? &client_ipcbuf.recv_len : 0;

	buf[0] = 1, buf[2] = 3, buf[buf_len ? buf_len - 1 : 0] = 7;
	struct mica_ipc_extra x = {.send_buf = (uint64_t)buf,
	                           .send_len = buf_len,
	                           .send_handle = MICA_HANDLE_NONE,
	                           .recv_cap = buf_len,
	                           .recv_buf = (uint64_t)buf};
	if (ipcbuf) {
		if ((r = mica_ipc_buffer_set(&client_ipcbuf)) != 0)
			fail("ipc_buffer_set", r);
		client_ipcbuf.send_len = buf_len;
		client_ipcbuf.send_handle = MICA_HANDLE_NONE;
	} else {
		recv_len = &x.recv_len;
	}
	report(name, calls((mica_handle_t)ep, ipcbuf ? MICA_IPC_BUF : buf_len ? &x : 0), N);
	if (buf_len && (*recv_len != buf_len || buf[2] != 3 || buf[buf_len - 1] != 7))
		fail("buffer echo", -(long)*recv_len);
	if (ipcbuf && (r = mica_ipc_buffer_set(0)) != 0)
		fail("ipc_buffer_set 0", r);
	mica_handle_close((mica_handle_t)th);
	cur_as = -1;
	if ((r = remote_destroy((mica_handle_t)as)) != 0)
		fail("aspace_destroy", r);
	mica_handle_close((mica_handle_t)ep);
}

/*
 * The notification ping-pong's far side: wait on the first notification,
 * signal the second, forever. arg: the two handles, 16 bits each.
 */
static void ntf_pong(uint64_t arg)
{
	mica_handle_t ping = (mica_handle_t)(arg & 0xFFFF), pong = (mica_handle_t)(arg >> 16);

	for (;;) {
		(void)mica_notify_wait(ping);
		(void)mica_notify_signal(pong, 1);
	}
}

static void bench_notify(const struct mica_bootinfo *bi)
{
	mica_handle_t self = bi->aspace;
	long as = cur_as = mica_aspace_create(self);
	if (as < 0)
		fail("aspace_create", as);
	long r = remote_prepare(bi, self, (mica_handle_t)as, frame_take(), SCRATCH);
	if (r < 0)
		fail("remote_prepare", r);
	long ping = mica_notify_create(), pong = mica_notify_create();
	if (ping < 0 || pong < 0)
		fail("notify_create", ping < 0 ? ping : pong);
	long rping = mica_handle_give((mica_handle_t)as, (mica_handle_t)ping, MICA_RIGHT_WAIT);
	long rpong = mica_handle_give((mica_handle_t)as, (mica_handle_t)pong, MICA_RIGHT_SIGNAL);
	if (rping < 0 || rpong < 0)
		fail("handle_give", rping < 0 ? rping : rpong);
	long th =
	    remote_start((mica_handle_t)as, ntf_pong, (uint64_t)rping | (uint64_t)rpong << 16, 16);
	if (th < 0)
		fail("remote_start", th);
	for (int i = 0; i < WARM; i++) {
		mica_notify_signal((mica_handle_t)ping, 1);
		if ((r = mica_notify_wait((mica_handle_t)pong)) != 1)
			fail("notify_wait", r);
	}
	uint64_t t0 = rdtsc();
	for (uint64_t i = 0; i < N; i++) {
		mica_notify_signal((mica_handle_t)ping, 1);
		(void)mica_notify_wait((mica_handle_t)pong);
	}
	report("notify.signal_wait", rdtsc() - t0, 2 * N);
	mica_handle_close((mica_handle_t)th);
	cur_as = -1;
	if ((r = remote_destroy((mica_handle_t)as)) != 0)
		fail("aspace_destroy", r);
	mica_handle_close((mica_handle_t)ping);
	mica_handle_close((mica_handle_t)pong);
}

/* irq.to_driver: the driver thread's side, and what the two share. */
#define COM1     0x3F8
#define IRQ_RUNS 1000
static volatile uint64_t irq_t0, irq_sum, irq_done;
static char driver_stack[8192] __attribute__((aligned(16)));

static void irq_driver(uint64_t arg)
{
	mica_handle_t n = (mica_handle_t)(arg & 0xFFFF), irq = (mica_handle_t)(arg >> 16);

	for (;;) {
		(void)mica_notify_wait(n);
		uint64_t t1 = rdtsc();
		irq_sum += t1 - irq_t0;
		mica_outb(COM1 + 1, 0x00); /* the interrupt off, and cleared */
		(void)mica_inb(COM1 + 2);
		(void)mica_irq_ack(irq);
		irq_done++;
	}
}

static void bench_irq(const struct mica_bootinfo *bi)
{
	long ports = mica_ioport_create(bi->devices, COM1, 8);
	long irq = mica_irq_create(bi->devices, 4);
	long n = mica_notify_create();
	long r;

	if (ports < 0 || irq < 0 || n < 0)
		fail("device handles", ports < 0 ? ports : irq < 0 ? irq : n);
	if ((r = mica_ioport_enable((mica_handle_t)ports)) < 0 ||
	    (r = mica_irq_bind((mica_handle_t)irq, (mica_handle_t)n)) < 0)
		fail("ioport_enable or irq_bind", r);
	mica_outb(COM1 + 4, 0x0B); /* OUT2: the UART's interrupt reaches the PIC */
	/* The driver runs above us: the interrupt's wake switches to it at once. */
	struct mica_thread_params p = {.entry = (uint64_t)irq_driver,
	                               .stack_top = (uint64_t)(driver_stack + sizeof(driver_stack)),
	                               .arg = (uint64_t)n | (uint64_t)irq << 16,
	                               .priority = 17,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};
	long th = cur_thread = mica_thread_create(bi->aspace, &p);
	if (th < 0)
		fail("thread_create", th);
	uint64_t runs = IRQ_RUNS + WARM;
	for (uint64_t i = 0; i < runs; i++) {
		if (i == WARM)
			irq_sum = 0;
		irq_t0 = rdtsc();
		mica_outb(COM1 + 1, 0x02); /* interrupt when the transmitter is empty: it is */
		for (int k = 0; irq_done != i + 1; k++)
			if (k > 1000000)
				fail("no interrupt", -(long)i);
	}
	report("irq.to_driver", irq_sum, IRQ_RUNS);
	mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	cur_thread = -1;
	mica_handle_close((mica_handle_t)irq);
	mica_handle_close((mica_handle_t)n);
	mica_handle_close((mica_handle_t)ports);
}

/* Reserve frames the kernel holds now (donations move total and free alike). */
static uint64_t kernel_frames(void)
{
	struct mica_mem_stats st = {0};
	long r = mica_mem_stats(&st);

	if (r < 0)
		fail("mem_stats", r);
	return st.reserve_total - st.reserve_free;
}

static void report_bytes(const char *name, uint64_t frames, uint64_t n)
{
	say("bench ");
	say(name);
	say(" ");
	say_num((long)((frames * MICA_PAGE_SIZE + n / 2) / n));
	say(" bytes n=");
	say_num((long)n);
	say("\n");
}

/* A thread that never runs (it is created below the creator's priority). */
static void never(uint64_t arg)
{
	(void)arg;
	mica_thread_exit(0);
}

static mica_handle_t meta_self;

static long make_endpoint(void)
{
	return mica_endpoint_create();
}

static long make_thread(void)
{
	struct mica_thread_params p = {.entry = (uint64_t)never,
	                               .stack_top = (uint64_t)(stack + sizeof(stack)),
	                               .priority = 8,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};

	return mica_thread_create(meta_self, &p);
}

/*
 * Bytes per object as the kernel's own count sees them: create n objects
 * one at a time, reading the reserve frames in use after each. Objects
 * share slabs (kernel/slab.c): between the first creation that took new
 * frames and the last one, whole slabs were filled, so frames taken over
 * objects created in that span is exact, whatever a partial slab held
 * before or is left holding. Fewer than two such creations (a slab larger
 * than n objects): all frames taken over all n objects.
 */
static void measure_bytes(const char *name, long (*make)(void), long *h, int n)
{
	uint64_t before = kernel_frames(), prev = before, first_frames = 0, last_frames = 0;
	int first = -1, last = -1;

	for (int i = 0; i < n; i++) {
		if ((h[i] = make()) < 0)
			fail(name, h[i]);
		uint64_t now = kernel_frames();
		if (now != prev) {
			if (first < 0) {
				first = i;
				first_frames = now;
			}
			last = i;
			last_frames = now;
		}
		prev = now;
	}
	if (last > first)
		report_bytes(name, last_frames - first_frames, (uint64_t)(last - first));
	else
		report_bytes(name, prev - before, (uint64_t)n);
}

/* The kernel's memory per endpoint and per thread: META_N of each, created and released. */
static void bench_meta(mica_handle_t self)
{
	long h[META_N];

	meta_self = self;
	measure_bytes("meta.kernel_bytes_per_endpoint", make_endpoint, h, META_N);
	for (int i = 0; i < META_N; i++)
		mica_handle_close((mica_handle_t)h[i]);
	measure_bytes("meta.kernel_bytes_per_thread", make_thread, h, META_N / 4);
	for (int i = 0; i < META_N / 4; i++) {
		mica_thread_kill((mica_handle_t)h[i], 0);
		mica_handle_close((mica_handle_t)h[i]);
	}
}

int main(const struct mica_bootinfo *bi)
{
	parse_n(bi->cmdline);
	if (bi->nranges) {
		take_next = bi->range[0].start;
		take_left = bi->range[0].npages;
	}
	bench_null();
	bench_local(bi->aspace);
	bench_remote(bi, "ipc.call_reply.remote", echo, 0);
	bench_remote(bi, "ipc.call_reply.buf64", echo_buf, 64);
	bench_remote(bi, "ipc.call_reply.buf4k", echo_buf4k, MICA_MSG_BUF_MAX);
	bench_notify(bi);
	bench_irq(bi);
	bench_meta(bi->aspace);
	say("bench: done\n");
	return 0;
}
