/*
 * The trace system call (kernel/trace.c, docs/TRACING.md) from the first
 * task, which holds the device authority: its errors, and a call and its
 * reply recorded as the events a trace reader expects.
 */
#include "ktest.h"

#define EXPECT(id, what, call, want)                                                               \
	do {                                                                                       \
		long r_ = (long)(call);                                                            \
		if (r_ != (long)(want))                                                            \
			return result(id, what, r_);                                               \
	} while (0)

#define LABEL 0x7AC3

static struct mica_trace_event events[MICA_TRACE_RING];

/* Bad arguments and callers without the authority get their errors; nothing starts. */
static void test_trace_errors(void)
{
	const char *id = "trace.errors";
	mica_handle_t dev = bootinfo->devices;
	long e = mica_endpoint_create();
	long weak = mica_handle_mint(dev, MICA_RIGHT_COPY, 0);
	uint32_t all = MICA_TRACE_ALL;

	EXPECT(id, "no such handle", mica_trace(12345, MICA_TRACE_STOP, 0, 0), MICA_EBADH);
	EXPECT(id, "not a handle value", mica_trace(-2, MICA_TRACE_STOP, 0, 0), MICA_EBADH);
	EXPECT(id, "an endpoint as the authority", mica_trace(e, MICA_TRACE_START, all, 0),
	       MICA_EBADH);
	EXPECT(id, "authority without MANAGE", mica_trace(weak, MICA_TRACE_START, all, 0),
	       MICA_ERIGHTS);
	EXPECT(id, "op 0", mica_trace(dev, 0, 0, 0), MICA_EINVAL);
	EXPECT(id, "op 99", mica_trace(dev, 99, 0, 0), MICA_EINVAL);
	EXPECT(id, "start with no events", mica_trace(dev, MICA_TRACE_START, 0, 0), MICA_EINVAL);
	EXPECT(id, "start with an unknown event", mica_trace(dev, MICA_TRACE_START, 1u << 9, 0),
	       MICA_EINVAL);
	EXPECT(id, "start with bit 0", mica_trace(dev, MICA_TRACE_START, 1, 0), MICA_EINVAL);
	/* Nothing was started by any of these: the ring is empty. */
	EXPECT(id, "stop after refused starts", mica_trace(dev, MICA_TRACE_STOP, 0, 0), 0);
	EXPECT(id, "read over a ring's worth",
	       mica_trace(dev, MICA_TRACE_READ, (uint64_t)events, MICA_TRACE_RING + 1),
	       MICA_EINVAL);
	/* Some events, then a read into memory that is not the task's. */
	EXPECT(id, "start", mica_trace(dev, MICA_TRACE_START, all, 0), 0);
	mica_yield();
	EXPECT(id, "stop", mica_trace(dev, MICA_TRACE_STOP, 0, 0) >= 2, 1);
	EXPECT(id, "read into the kernel half",
	       mica_trace(dev, MICA_TRACE_READ, 0xFFFF800000000000ULL, 4), MICA_EFAULT);
	EXPECT(id, "read into page 0", mica_trace(dev, MICA_TRACE_READ, 0, 4), MICA_EFAULT);
	EXPECT(id, "read of 0 events anywhere", mica_trace(dev, MICA_TRACE_READ, 0, 0), 0);
	mica_handle_close(weak);
	mica_handle_close(e);
	result(id, 0, 0);
}

static void trace_server(uint64_t ep)
{
	struct mica_msg m = {0};
	uint64_t badge;

	struct mica_ipc_extra x = {0};

	mica_recv((mica_handle_t)ep, &m, 0, &badge);
	m.label = m.label + 1;
	/* The reply (by the general path: a descriptor), then a receive that does not wait. */
	mica_ipc_timeout(&x, 0);
	mica_reply_recv((mica_handle_t)ep, &m, &x, &badge);
	mica_thread_exit(0);
}

/* The first event of `type` (and kind, for IPC) from index `from` on; -1 if none. */
static int find(int n, int from, uint16_t type, int kind)
{
	for (int i = from; i < n; i++)
		if (events[i].type == type && (kind < 0 || events[i].sub == kind))
			return i;
	return -1;
}

/*
 * A call with label LABEL to a server thread, traced: the caller's call
 * system call, the message (kind call, badge 77) to the server, the
 * server's reply_recv, the reply (kind reply) back to the caller, switches
 * between them, time stamps in order; after stop, nothing more is recorded.
 */
static void test_trace_call(void)
{
	const char *id = "trace.call";
	mica_handle_t dev = bootinfo->devices;
	long ep = mica_endpoint_create();
	long bep = mica_handle_mint(ep, MICA_RIGHT_SEND, 77);
	struct mica_msg m = {.label = LABEL};

	long srv = spawn(trace_server, 3, (uint64_t)ep, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	if (srv < 0)
		return result(id, "spawn gave", srv);
	yield_n(2); /* the server waits in recv */
	EXPECT(id, "start",
	       mica_trace(dev, MICA_TRACE_START,
	                  MICA_TRACE_EV(MICA_TRACE_SYSCALL) | MICA_TRACE_EV(MICA_TRACE_IPC) |
	                      MICA_TRACE_EV(MICA_TRACE_SWITCH),
	                  0),
	       0);
	EXPECT(id, "call gave", mica_call((mica_handle_t)bep, &m, 0), 0);
	EXPECT(id, "reply label", m.label, LABEL + 1);
	long n = mica_trace(dev, MICA_TRACE_STOP, 0, 0);
	if (n < 6)
		return result(id, "too few events:", n);
	mica_yield();
	EXPECT(id, "events after stop", mica_trace(dev, MICA_TRACE_STOP, 0, 0), n);
	EXPECT(id, "read", mica_trace(dev, MICA_TRACE_READ, (uint64_t)events, MICA_TRACE_RING), n);

	int sc = find((int)n, 0, MICA_TRACE_SYSCALL, -1);
	while (sc >= 0 && events[sc].sub != MICA_SYS_IPC_CALL)
		sc = find((int)n, sc + 1, MICA_TRACE_SYSCALL, -1);
	if (sc < 0)
		return result(id, "no call system call", 0);
	uint32_t me = events[sc].tid;
	EXPECT(id, "call's endpoint argument", events[sc].a, bep);
	int c = find((int)n, sc, MICA_TRACE_IPC, MICA_TRACE_IPC_CALL);
	if (c < 0)
		return result(id, "no call message", 0);
	EXPECT(id, "call label", events[c].a, LABEL);
	EXPECT(id, "call badge", events[c].b, 77);
	EXPECT(id, "call from", events[c].x, me);
	uint32_t server = events[c].y;
	if (server == me)
		return result(id, "the server is the caller", server);
	int sw = find((int)n, c, MICA_TRACE_SWITCH, -1);
	if (sw < 0)
		return result(id, "no switch after the call", 0);
	EXPECT(id, "switch from", events[sw].tid, me);
	EXPECT(id, "switch to", events[sw].x, server);
	int rr = find((int)n, sw, MICA_TRACE_SYSCALL, -1);
	if (rr < 0)
		return result(id, "no reply_recv", 0);
	EXPECT(id, "server's call", events[rr].sub, MICA_SYS_IPC_REPLY_RECV);
	EXPECT(id, "server's tid", events[rr].tid, server);
	int r = find((int)n, rr, MICA_TRACE_IPC, MICA_TRACE_IPC_REPLY);
	if (r < 0)
		return result(id, "no reply message", 0);
	EXPECT(id, "reply label", events[r].a, LABEL + 1);
	EXPECT(id, "reply badge", events[r].b, 0);
	EXPECT(id, "reply from", events[r].x, server);
	EXPECT(id, "reply to", events[r].y, me);
	for (int i = 1; i < n; i++)
		if (events[i].tsc < events[i - 1].tsc)
			return result(id, "time stamps out of order at", i);
	/* The same events printed: the dump says how many (the system test reads the lines). */
	EXPECT(id, "dump", mica_trace(dev, MICA_TRACE_DUMP, 0, 0), n);
	mica_handle_close(srv);
	mica_handle_close(bep);
	mica_handle_close(ep);
	result(id, 0, 0);
}

/*
 * More events than the ring holds: it keeps the newest MICA_TRACE_RING;
 * READ with a smaller cap gives the newest ones, oldest first; START again
 * empties it.
 */
static void test_trace_ring(void)
{
	const char *id = "trace.ring";
	mica_handle_t dev = bootinfo->devices;
	long n;

	EXPECT(id, "start", mica_trace(dev, MICA_TRACE_START, MICA_TRACE_EV(MICA_TRACE_SYSCALL), 0),
	       0);
	for (int i = 0; i < MICA_TRACE_RING + 100; i++)
		mica_notify_poll((mica_handle_t)(1000 + i)); /* EBADH; a[0] tells them apart */
	EXPECT(id, "stop", mica_trace(dev, MICA_TRACE_STOP, 0, 0), MICA_TRACE_RING);
	EXPECT(id, "read", mica_trace(dev, MICA_TRACE_READ, (uint64_t)events, MICA_TRACE_RING),
	       MICA_TRACE_RING);
	/* The newest: the last 4095 polls, then the stop. */
	for (int i = 0; i < MICA_TRACE_RING - 1; i++)
		if (events[i].sub != MICA_SYS_NOTIFY_POLL ||
		    events[i].a != (uint64_t)(1000 + 101 + i))
			return result(id, "wrong event at", i);
	EXPECT(id, "last event", events[MICA_TRACE_RING - 1].sub, MICA_SYS_TRACE);
	n = mica_trace(dev, MICA_TRACE_READ, (uint64_t)events, 2);
	EXPECT(id, "read 2", n, 2);
	EXPECT(id, "read 2: the newest poll first", events[0].a, 1000 + MICA_TRACE_RING + 99);
	EXPECT(id, "read 2: then the stop", events[1].sub, MICA_SYS_TRACE);
	EXPECT(id, "start again", mica_trace(dev, MICA_TRACE_START, MICA_TRACE_ALL, 0), 0);
	EXPECT(id, "stop at once", mica_trace(dev, MICA_TRACE_STOP, 0, 0), 1);
	result(id, 0, 0);
}

void test_trace(void)
{
	test_trace_errors();
	test_trace_call();
	test_trace_ring();
}
