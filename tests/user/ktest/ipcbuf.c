/*
 * The IPC buffer (docs/ABI.md "The IPC buffer"): ipc_buffer_set's
 * errors; the FS base of each thread is its own buffer, over yields and
 * preemption, whatever another thread does with FS; calls through the
 * buffer to a buffer and to a descriptor; a buffer unmapped or made
 * read-only is refused (MICA_EFAULT), never written, and a new frame there
 * works; one frame as the buffer of two processes at once.
 */
#include "ktest.h"
#include "remote.h"

#define IPB_VA      0x10400000UL /* free in ktest's address space: a buffer page to unmap */
#define IPB_SCRATCH 0x10500000UL /* remote_prepare's scratch page */
#define IPB_REMOTE  0x10200000UL /* the remote server's buffer, in its own address space */

static struct mica_ipc_buffer ipb_page[3] __attribute__((aligned(MICA_PAGE_SIZE)));
static const uint8_t ipb_ro[MICA_PAGE_SIZE] __attribute__((aligned(MICA_PAGE_SIZE))) = {1};

/* The calling thread's buffer at b, its head ready to send n bytes. */
static long ipb_use(struct mica_ipc_buffer *b, uint32_t n)
{
	long r = mica_ipc_buffer_set(b);

	if (r)
		return r;
	b->send_len = n;
	b->send_handle = MICA_HANDLE_NONE;
	b->send_xfer = MICA_XFER_COPY;
	b->flags = 0;
	b->timeout_ns = 0;
	return 0;
}

static void test_set_errors(void)
{
	const char *id = "ipcbuf.set_errors";
	struct mica_msg m = {.label = 1};
	long r, ep = mica_endpoint_create();

	if (ep < 0)
		return result(id, "endpoint_create gave", ep);
	/* Without a buffer, the IPC calls refuse MICA_IPC_BUF. */
	if ((r = mica_try_send((mica_handle_t)ep, &m, MICA_IPC_BUF)) != MICA_EINVAL)
		return result(id, "MICA_IPC_BUF without a buffer gave", r);
	if ((r = mica_ipc_buffer_set((uint8_t *)&ipb_page[0] + 8)) != MICA_EALIGN)
		return result(id, "unaligned gave", r);
	if ((r = mica_ipc_buffer_set((void *)0x1000)) != MICA_ERANGE)
		return result(id, "below the user half gave", r);
	if ((r = mica_ipc_buffer_set((void *)0xFFFF800000000000ULL)) != MICA_ERANGE)
		return result(id, "kernel half gave", r);
	if ((r = mica_ipc_buffer_set((void *)IPB_VA)) != MICA_EFAULT)
		return result(id, "unmapped page gave", r);
	if ((r = mica_ipc_buffer_set((void *)ipb_ro)) != MICA_EFAULT)
		return result(id, "read-only page gave", r);
	/* A good one; then the errors leave it as it is. */
	if ((r = ipb_use(&ipb_page[0], 0)) != 0)
		return result(id, "set gave", r);
	if (mica_ipc_buffer() != &ipb_page[0] || ipb_page[0].self != (uint64_t)&ipb_page[0])
		return result(id, "FS does not lead to the buffer", 0);
	if ((r = mica_ipc_buffer_set((void *)ipb_ro)) != MICA_EFAULT ||
	    mica_ipc_buffer() != &ipb_page[0])
		return result(id, "a refused set changed the buffer", r);
	/* A length past its data is refused, as a flag it does not know. */
	ipb_page[0].send_len = MICA_IPC_BUFFER_DATA + 1;
	if ((r = mica_try_send((mica_handle_t)ep, &m, MICA_IPC_BUF)) != MICA_EINVAL)
		return result(id, "send_len past the data gave", r);
	ipb_page[0].send_len = 0;
	ipb_page[0].flags = 4;
	if ((r = mica_try_send((mica_handle_t)ep, &m, MICA_IPC_BUF)) != MICA_EINVAL)
		return result(id, "unknown flag gave", r);
	ipb_page[0].flags = 0;
	if ((r = mica_try_send((mica_handle_t)ep, &m, MICA_IPC_BUF)) != MICA_EAGAIN)
		return result(id, "a good try_send gave", r);
	if ((r = mica_ipc_buffer_set(0)) != 0)
		return result(id, "set 0 gave", r);
	mica_handle_close((mica_handle_t)ep);
	result(id, 0, 0);
}

/*
 * FS per thread: A and B share one page as their buffer, C has its own.
 * A loads a user data selector into FS after a while (which makes its own
 * base the descriptor's, 0);
 * B and C must still find their buffers, every round, over yields and
 * preemption: the kernel writes each thread's base when it switches to it,
 * even when the last one written was the same address.
 */
static volatile long fs_bad[3], fs_done[3];

static void spin(uint64_t n)
{
	__asm__ volatile("1: loop 1b" : "+c"(n));
}

static void fs_worker(uint64_t i)
{
	struct mica_ipc_buffer *mine = &ipb_page[i == 2 ? 1 : 0];
	long bad = 0;

	if (mica_ipc_buffer_set(mine) != 0)
		bad = 1000;
	for (int r = 0; r < 60; r++) {
		if (i == 0 && r == 20) {
			__asm__ volatile("mov %0, %%fs" : : "r"(0x1b)); /* user data: base 0 */
		} else if (i != 0 || r < 20) {
			if (mica_ipc_buffer() != mine)
				bad++;
		}
		if (r % 3)
			mica_yield();
		else
			spin(2000000);
	}
	fs_bad[i] = bad;
	fs_done[i] = 1;
	mica_thread_exit(0);
}

static void test_fs_per_thread(void)
{
	const char *id = "ipcbuf.fs_per_thread";
	long h[3];

	for (int i = 0; i < 3; i++)
		if ((h[i] = spawn(fs_worker, 12 + i, (uint64_t)i, MICA_HANDLE_NONE,
		                  MICA_HANDLE_NONE)) < 0)
			return result(id, "thread_create gave", h[i]);
	for (long n = 0; n < 100000 && !(fs_done[0] && fs_done[1] && fs_done[2]); n++)
		mica_yield();
	for (int i = 0; i < 3; i++)
		mica_handle_close((mica_handle_t)h[i]);
	for (int i = 0; i < 3; i++) {
		if (!fs_done[i])
			return result(id, "a worker did not finish:", i);
		if (fs_bad[i])
			return result(id,
			              i == 1   ? "B lost its buffer, rounds"
			              : i == 2 ? "C lost its buffer, rounds"
			                       : "A lost its buffer, rounds",
			              fs_bad[i]);
	}
	result(id, 0, 0);
}

/* A server in this address space through its buffer (arg): w0 + 1, the data sent back reversed. */
static mica_handle_t ipb_ep;

static void local_echo(uint64_t page)
{
	struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)page;
	struct mica_msg m = {0};
	long r;

	if ((r = ipb_use(b, 0)) != 0)
		mica_thread_exit(r);
	r = mica_recv(ipb_ep, &m, MICA_IPC_BUF, 0);
	while (r == 0) {
		uint32_t n =
		    b->recv_len < MICA_IPC_BUFFER_DATA ? b->recv_len : MICA_IPC_BUFFER_DATA;
		for (uint32_t i = 0; i < n / 2; i++) {
			uint8_t c = b->data[i];
			b->data[i] = b->data[n - 1 - i];
			b->data[n - 1 - i] = c;
		}
		m.w[0]++;
		m.w[1] = (uint64_t)mica_ipc_buffer();
		b->send_len = n;
		r = mica_reply_recv(ipb_ep, &m, MICA_IPC_BUF, 0);
	}
	mica_thread_exit(r);
}

/* One call through the caller's buffer b with n bytes from seed; 0 or why not. */
static long ipb_call(struct mica_ipc_buffer *b, uint32_t n, uint8_t seed, uint64_t *server_fs)
{
	struct mica_msg m = {.label = 1, .w = {seed}};
	long r;

	for (uint32_t i = 0; i < n; i++)
		b->data[i] = (uint8_t)(seed + i);
	b->send_len = n;
	b->recv_len = 0xdead;
	if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != 0)
		return r;
	if (m.w[0] != (uint64_t)seed + 1 || b->recv_len != n || b->recv_handle != MICA_HANDLE_NONE)
		return 1;
	for (uint32_t i = 0; i < n; i++)
		if (b->data[i] != (uint8_t)(seed + n - 1 - i))
			return 2;
	if (server_fs)
		*server_fs = m.w[1];
	return 0;
}

static void test_calls(void)
{
	const char *id = "ipcbuf.calls";
	uint64_t sfs = 0;
	long r, ep = mica_endpoint_create();

	if (ep < 0)
		return result(id, "endpoint_create gave", ep);
	ipb_ep = (mica_handle_t)ep;
	long th = spawn(local_echo, 15, (uint64_t)&ipb_page[2], MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result(id, "thread_create gave", th);
	if ((r = ipb_use(&ipb_page[0], 0)) != 0)
		return result(id, "set gave", r);
	/* Buffer to buffer: a few sizes, the largest the data holds. */
	const uint32_t sizes[] = {0, 1, 64, 1000, MICA_IPC_BUFFER_DATA};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		if ((r = ipb_call(&ipb_page[0], sizes[i], (uint8_t)(i * 17 + 3), &sfs)) != 0)
			return result(id, "buffer call gave", r);
	if (sfs != (uint64_t)&ipb_page[2])
		return result(id, "the server's FS did not lead to its buffer", 0);
	/* A descriptor to the buffer server and back: cut at the data's size. */
	static uint8_t big[MICA_MSG_BUF_MAX];
	struct mica_ipc_extra x = {.send_buf = (uint64_t)big,
	                           .send_len = sizeof(big),
	                           .send_handle = MICA_HANDLE_NONE,
	                           .recv_buf = (uint64_t)big,
	                           .recv_cap = sizeof(big)};
	struct mica_msg m = {.label = 1, .w = {5}};
	if ((r = mica_call(ipb_ep, &m, &x)) != 0 || m.w[0] != 6)
		return result(id, "descriptor call gave", r ? r : (long)m.w[0]);
	if (x.recv_len != MICA_IPC_BUFFER_DATA)
		return result(id, "reply of a cut message: recv_len", x.recv_len);
	/* The caller's buffer was not touched by that call. */
	if (ipb_page[0].recv_len != MICA_IPC_BUFFER_DATA)
		return result(id, "a descriptor call wrote the buffer", 0);
	(void)mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	(void)mica_ipc_buffer_set(0);
	result(id, 0, 0);
}

/* The caller's own buffer page unmapped, then read-only, then a new frame: no crash, no write. */
static void test_unmapped(void)
{
	const char *id = "ipcbuf.unmapped";
	uint64_t fa = frame_take(1), fb = frame_take(1);
	struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)IPB_VA;
	struct mica_msg m = {.label = 1};
	long r, ep = mica_endpoint_create();

	if (!fa || !fb || ep < 0)
		return result(id, "no frames or endpoint", ep);
	ipb_ep = (mica_handle_t)ep;
	long th = spawn(local_echo, 15, (uint64_t)&ipb_page[2], MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result(id, "thread_create gave", th);
	if ((r = mica_map(self_as, IPB_VA, fa, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "map gave", r);
	if ((r = ipb_use(b, 0)) != 0 || (r = ipb_call(b, 64, 9, 0)) != 0)
		return result(id, "first call gave", r);
	if ((r = mica_unmap(self_as, IPB_VA, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != MICA_EFAULT)
		return result(id, "call with the buffer unmapped gave", r);
	/* fa read-only there: refused, and nothing written to it. */
	if ((r = mica_map(self_as, IPB_VA, fa, 1, MICA_MAP_READ)) != 0)
		return result(id, "map read-only gave", r);
	if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != MICA_EFAULT)
		return result(id, "call with the buffer read-only gave", r);
	if (b->recv_len != 64 || b->data[0] != (uint8_t)(9 + 63))
		return result(id, "the read-only frame was written", 0);
	/* Another frame, writable: the buffer works there (the kernel found it again). */
	if ((r = mica_unmap(self_as, IPB_VA, 1, 0)) != 1 ||
	    (r = mica_map(self_as, IPB_VA, fb, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "remap gave", r);
	b->send_handle = MICA_HANDLE_NONE;
	b->flags = 0;
	if ((r = ipb_call(b, 100, 50, 0)) != 0)
		return result(id, "call on the new frame gave", r);
	/* fa kept the first reply only. */
	if ((r = mica_unmap(self_as, IPB_VA, 1, 0)) != 1 ||
	    (r = mica_map(self_as, IPB_VA, fa, 1, MICA_MAP_READ)) != 0)
		return result(id, "map fa again gave", r);
	if (b->recv_len != 64)
		return result(id, "the old frame was written: recv_len", b->recv_len);
	(void)mica_ipc_buffer_set(0);
	if ((r = mica_unmap(self_as, IPB_VA, 1, 0)) != 1)
		return result(id, "last unmap gave", r);
	(void)mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	result(id, 0, 0);
}

/*
 * The remote echo server: its buffer at IPB_REMOTE in its own address
 * space (only code and stack here: remote.h); w0 + 1, the data sent back
 * as it came.
 */
static void remote_echo(uint64_t ep)
{
	struct mica_msg m = {0};
	struct mica_ipc_buffer *b;

	if (mica_ipc_buffer_set((void *)IPB_REMOTE) != 0)
		mica_thread_exit(1);
	b = mica_ipc_buffer();
	b->send_handle = MICA_HANDLE_NONE;
	b->flags = 0;
	(void)mica_recv((mica_handle_t)ep, &m, MICA_IPC_BUF, 0);
	for (;;) {
		m.w[0]++;
		b->send_len = b->recv_len;
		(void)mica_reply_recv((mica_handle_t)ep, &m, MICA_IPC_BUF, 0);
	}
}

/* One frame is the buffer of ktest (at IPB_VA) and of a server in another address space. */
static void test_shared_frame(void)
{
	const char *id = "ipcbuf.shared_frame";
	uint64_t fs = frame_take(1), fbuf = frame_take(1);
	struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)IPB_VA;
	long r;

	if (!fs || !fbuf)
		return result(id, "no frames", 0);
	long as = mica_aspace_create(self_as);
	if (as < 0)
		return result(id, "aspace_create gave", as);
	if ((r = remote_prepare(bootinfo, self_as, (mica_handle_t)as, fs, IPB_SCRATCH)) != 0 ||
	    (r = mica_map((mica_handle_t)as, IPB_REMOTE, fbuf, 1,
	                  MICA_MAP_READ | MICA_MAP_WRITE)) != 0 ||
	    (r = mica_map(self_as, IPB_VA, fbuf, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "setup gave", r);
	long ep = mica_endpoint_create();
	long rep = mica_handle_give((mica_handle_t)as, (mica_handle_t)ep, MICA_RIGHT_RECV);
	long th = remote_start((mica_handle_t)as, remote_echo, (uint64_t)rep, 16);
	if (ep < 0 || rep < 0 || th < 0)
		return result(id, "endpoint or thread gave", ep < 0 ? ep : rep < 0 ? rep : th);
	if ((r = ipb_use(b, 0)) != 0)
		return result(id, "set gave", r);
	for (int k = 0; k < 20; k++) {
		struct mica_msg m = {.label = 1, .w = {(uint64_t)k}};
		uint32_t n = (uint32_t)(k * 200 + 1);

		for (uint32_t i = 0; i < n; i++)
			b->data[i] = (uint8_t)(k + i);
		b->send_len = n;
		if ((r = mica_call((mica_handle_t)ep, &m, MICA_IPC_BUF)) != 0 ||
		    m.w[0] != (uint64_t)k + 1)
			return result(id, "call gave", r ? r : -(long)m.w[0]);
		if (b->recv_len != n)
			return result(id, "recv_len", b->recv_len);
		for (uint32_t i = 0; i < n; i++)
			if (b->data[i] != (uint8_t)(k + i))
				return result(id, "data changed at", i);
	}
	(void)mica_ipc_buffer_set(0);
	if ((r = mica_unmap(self_as, IPB_VA, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	mica_handle_close((mica_handle_t)th);
	if ((r = remote_destroy((mica_handle_t)as)) != 0)
		return result(id, "aspace_destroy gave", r);
	mica_handle_close((mica_handle_t)ep);
	result(id, 0, 0);
}

/*
 * The buffer in the last user page (MICA_USER_TOP - 4 KiB), the physically
 * next frame mapped elsewhere with a pattern: the full 4,032 bytes out and
 * back, and 4,033 refused, write nothing past the page (a write past it
 * through the kernel's direct map would land in that next frame).
 */
#define IPB_TOP   (MICA_USER_TOP - MICA_PAGE_SIZE)
#define IPB_NEXT  0x10700000UL /* free in ktest: the frame after the top buffer's */
#define IPB_GONE  0x10710000UL /* free in ktest: a server's buffer, to take away */
#define IPB_ALIAS 0x10720000UL /* free in ktest: the same frame, to look at */

static void test_top(void)
{
	const char *id = "ipcbuf.top_of_user";
	struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)IPB_TOP;
	volatile uint8_t *next = (volatile uint8_t *)IPB_NEXT;
	uint64_t f = frame_take(2); /* two frames, one after the other */
	struct mica_msg m = {.label = 1};
	long r, ep = mica_endpoint_create();

	if (!f || ep < 0)
		return result(id, "no frames or endpoint", ep);
	if ((r = mica_map(self_as, IPB_TOP, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0 ||
	    (r = mica_map(self_as, IPB_NEXT, f + MICA_PAGE_SIZE, 1,
	                  MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "map gave", r);
	for (unsigned i = 0; i < MICA_PAGE_SIZE; i++)
		next[i] = 0x5a;
	ipb_ep = (mica_handle_t)ep;
	long th = spawn(local_echo, 15, (uint64_t)&ipb_page[2], MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result(id, "thread_create gave", th);
	if ((r = ipb_use(b, 0)) != 0)
		return result(id, "set gave", r);
	for (uint8_t k = 0; k < 3; k++)
		if ((r = ipb_call(b, MICA_IPC_BUFFER_DATA, (uint8_t)(k * 40 + 1), 0)) != 0)
			return result(id, "a full buffer's call gave", r);
	b->send_len = MICA_IPC_BUFFER_DATA + 1;
	if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != MICA_EINVAL)
		return result(id, "4,033 bytes gave", r);
	for (unsigned i = 0; i < MICA_PAGE_SIZE; i++)
		if (next[i] != 0x5a)
			return result(id, "the next frame was written at", (long)i);
	(void)mica_ipc_buffer_set(0);
	(void)mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	if ((r = mica_unmap(self_as, IPB_TOP, 1, 0)) != 1 ||
	    (r = mica_unmap(self_as, IPB_NEXT, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	result(id, 0, 0);
}

/* What gone_server saw: its recv's result, label and word 0; set when it got there. */
static volatile long gone_r, gone_done;
static volatile uint64_t gone_label, gone_w0;

/* A server that waits once with its buffer at `page`, then answers without one. */
static void gone_server(uint64_t page)
{
	struct mica_msg m = {0};

	if (ipb_use((struct mica_ipc_buffer *)page, 0) != 0)
		mica_thread_exit(1);
	gone_r = mica_recv(ipb_ep, &m, MICA_IPC_BUF, 0);
	gone_label = m.label;
	gone_w0 = m.w[0];
	gone_done = 1;
	m.w[0]++;
	(void)mica_reply_recv(ipb_ep, &m, 0, 0);
	mica_thread_exit(2);
}

/*
 * A receiver's buffer taken away while it waits in recv: its page
 * unmapped, then (another server) mapped read-only. A call with 100 bytes
 * reaches it with the registers only (docs/ABI.md), and the frame is not
 * written: not its data, not recv_len or recv_handle.
 */
static void test_receiver_gone(void)
{
	const char *id = "ipcbuf.receiver_gone";
	volatile struct mica_ipc_buffer *alias = (volatile struct mica_ipc_buffer *)IPB_ALIAS;
	long r, ep = mica_endpoint_create();

	if (ep < 0)
		return result(id, "endpoint_create gave", ep);
	ipb_ep = (mica_handle_t)ep;
	for (int ro = 0; ro < 2; ro++) {
		uint64_t f = frame_take(1);

		if (!f)
			return result(id, "no frame", 0);
		if ((r = mica_map(self_as, IPB_GONE, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0 ||
		    (r = mica_map(self_as, IPB_ALIAS, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
			return result(id, "map gave", r);
		gone_done = 0;
		long th = spawn(gone_server, 15, IPB_GONE, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
		if (th < 0)
			return result(id, "thread_create gave", th);
		yield_n(3); /* it waits in its recv */
		alias->recv_len = 0xaaaa;
		alias->recv_handle = 77;
		for (unsigned i = 0; i < 200; i++)
			alias->data[i] = 0xee;
		if ((r = mica_unmap(self_as, IPB_GONE, 1, 0)) != 1 ||
		    (ro && (r = mica_map(self_as, IPB_GONE, f, 1, MICA_MAP_READ)) != 0))
			return result(id, "taking the page away gave", r);
		struct mica_msg m = {.label = 0x600 + (uint64_t)ro, .w = {9}};
		if ((r = ipb_use(&ipb_page[0], 100)) != 0)
			return result(id, "set gave", r);
		for (unsigned i = 0; i < 100; i++)
			ipb_page[0].data[i] = 0x11;
		if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != 0 || m.w[0] != 10)
			return result(id, "the call gave", r ? r : (long)m.w[0]);
		if (!gone_done || gone_r != 0 || gone_label != 0x600 + (uint64_t)ro || gone_w0 != 9)
			return result(id, "the server's recv gave", gone_done ? gone_r : -1000);
		if (ipb_page[0].recv_len != 0)
			return result(id, "a reply without data: our recv_len",
			              ipb_page[0].recv_len);
		if (alias->recv_len != 0xaaaa || alias->recv_handle != 77)
			return result(id, "the taken page's head was written, case", ro);
		for (unsigned i = 0; i < 200; i++)
			if (alias->data[i] != 0xee)
				return result(id, "the taken page's data was written at", (long)i);
		(void)mica_thread_kill((mica_handle_t)th, 0);
		mica_handle_close((mica_handle_t)th);
		if ((ro && (r = mica_unmap(self_as, IPB_GONE, 1, 0)) != 1) ||
		    (r = mica_unmap(self_as, IPB_ALIAS, 1, 0)) != 1)
			return result(id, "unmap gave", r);
	}
	(void)mica_ipc_buffer_set(0);
	mica_handle_close((mica_handle_t)ep);
	result(id, 0, 0);
}

/* A caller queued with its buffer at `page` (no receiver yet); its call's result in gone_r. */
static void queued_caller(uint64_t page)
{
	struct mica_msg m = {.label = 0x700};

	if (ipb_use((struct mica_ipc_buffer *)page, 50) != 0)
		mica_thread_exit(1);
	gone_done = 1;
	gone_r = mica_call(ipb_ep, &m, MICA_IPC_BUF);
	gone_done = 2;
	mica_thread_exit(0);
}

/*
 * A sender's buffer taken away while it waits in the queue: the receiver
 * that comes takes nothing from it (try_recv finds no message:
 * MICA_EAGAIN), the caller hears MICA_EFAULT (docs/ABI.md), and neither
 * side's page is written.
 */
static void test_sender_gone(void)
{
	const char *id = "ipcbuf.sender_gone";
	volatile struct mica_ipc_buffer *alias = (volatile struct mica_ipc_buffer *)IPB_ALIAS;
	uint64_t f = frame_take(1);
	long r, ep = mica_endpoint_create();

	if (!f || ep < 0)
		return result(id, "no frame or endpoint", ep);
	ipb_ep = (mica_handle_t)ep;
	if ((r = mica_map(self_as, IPB_GONE, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0 ||
	    (r = mica_map(self_as, IPB_ALIAS, f, 1, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result(id, "map gave", r);
	gone_done = 0;
	long th = spawn(queued_caller, 15, IPB_GONE, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result(id, "thread_create gave", th);
	yield_n(3); /* it is queued in its call */
	if (gone_done != 1)
		return result(id, "the caller did not queue", gone_done);
	alias->recv_len = 0xaaaa;
	if ((r = mica_unmap(self_as, IPB_GONE, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	struct mica_msg m = {0};
	if ((r = ipb_use(&ipb_page[0], 0)) != 0)
		return result(id, "set gave", r);
	ipb_page[0].recv_len = 0xbbbb;
	if ((r = mica_try_recv(ipb_ep, &m, MICA_IPC_BUF, 0)) != MICA_EAGAIN)
		return result(id, "try_recv gave", r);
	yield_n(3); /* the caller hears */
	if (gone_done != 2 || gone_r != MICA_EFAULT)
		return result(id, "the caller's call gave", gone_done == 2 ? gone_r : -1000);
	if (alias->recv_len != 0xaaaa || ipb_page[0].recv_len != 0xbbbb)
		return result(id, "a page was written", 0);
	(void)mica_ipc_buffer_set(0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	if ((r = mica_unmap(self_as, IPB_ALIAS, 1, 0)) != 1)
		return result(id, "unmap gave", r);
	result(id, 0, 0);
}

/*
 * The buffer in a 2 MiB page (MICA_MAP_LARGE): registered at its last
 * 4 KiB and at one inside, calls of the full 4,032 bytes through each
 * (the kernel finds the 4 KiB within the large page), the FS base each;
 * then the 2 MiB unmapped while registered: MICA_EFAULT, no crash.
 */
static void test_large(void)
{
	const char *id = "ipcbuf.large_page";
	const uint64_t lp = MICA_MAP_LARGE_PAGES, lsz = MICA_LARGE_PAGE_SIZE;
	const uint64_t lva = 0x40000000UL; /* 1 GiB: 2 MiB-aligned, free (mem.map_large's) */
	struct mica_msg m = {.label = 1};
	uint64_t f = frame_take(0);
	long r, ep = mica_endpoint_create();

	(void)frame_take((f + lsz - 1) / lsz * lsz / MICA_PAGE_SIZE - f / MICA_PAGE_SIZE);
	f = frame_take(lp);
	if (!f || f % lsz || ep < 0)
		return result(id, "no aligned 2 MiB (or endpoint) at", (long)f);
	if ((r = mica_map(self_as, lva, f, lp, MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_LARGE)) !=
	    0)
		return result(id, "map gave", r);
	ipb_ep = (mica_handle_t)ep;
	long th = spawn(local_echo, 15, (uint64_t)&ipb_page[2], MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (th < 0)
		return result(id, "thread_create gave", th);
	const uint64_t at[] = {lva + lsz - MICA_PAGE_SIZE, lva + 7 * MICA_PAGE_SIZE};
	for (int k = 0; k < 2; k++) {
		struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)at[k];

		if ((r = ipb_use(b, 0)) != 0)
			return result(id, "set gave", r);
		if (mica_ipc_buffer() != b || b->self != at[k])
			return result(id, "FS does not lead to the buffer, case", k);
		if ((r = ipb_call(b, MICA_IPC_BUFFER_DATA, (uint8_t)(k + 5), 0)) != 0)
			return result(id, "a full buffer's call gave", r);
	}
	if ((r = mica_unmap(self_as, lva, lp, 0)) != (long)lp)
		return result(id, "unmap gave", r);
	if ((r = mica_call(ipb_ep, &m, MICA_IPC_BUF)) != MICA_EFAULT)
		return result(id, "a call with the 2 MiB gone gave", r);
	(void)mica_ipc_buffer_set(0);
	(void)mica_thread_kill((mica_handle_t)th, 0);
	mica_handle_close((mica_handle_t)th);
	mica_handle_close((mica_handle_t)ep);
	result(id, 0, 0);
}

void test_ipcbuf(void)
{
	test_set_errors();
	test_fs_per_thread();
	test_calls();
	test_unmapped();
	test_shared_frame();
	test_top();
	test_receiver_gone();
	test_sender_gone();
	test_large();
}
