/*
 * Time: the clock, sleep, and IPC with a timeout (include/mica/time.h,
 * ipc.h). Every wait is measured on the clock. Helper threads are started
 * at chosen priorities on stacks of their own, report to a supervisor
 * endpoint, and are joined (their exit notice taken) before their stack
 * is used again; each ends with exit code 0 (tests/system/test_kernel.py
 * counts them).
 */
#include <libipc/ipc.h>
#include "ktest.h"

#define MS       MICA_NS_PER_MS
#define NSTACKS  3
#define GIVE_UP  (10 * MICA_NS_PER_S) /* a helper that takes longer has hung */
#define LABEL_HI 0x71

static char st[NSTACKS][4096] __attribute__((aligned(16)));
static mica_handle_t sup; /* every helper's supervisor */

/* Start f(arg) at priority prio on stack i; returns its handle (closed by the caller). */
static long start(void (*f)(uint64_t), int i, uint64_t arg, unsigned prio)
{
	struct mica_thread_params p = {.entry = (uint64_t)f,
	                               .stack_top = (uint64_t)(st[i] + sizeof(st[i])),
	                               .arg = arg,
	                               .priority = prio,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = sup};
	return mica_thread_create(self_as, &p);
}

static long recv_for(mica_handle_t e, struct mica_msg *m, uint64_t ns);

/* Take n exit notices, then close the helper handle h (if >= 0); false if one never came. */
static bool join(int n, long h)
{
	struct mica_msg m = {0};
	bool ok = true;

	for (int i = 0; i < n; i++)
		if (recv_for(sup, &m, GIVE_UP) != 0 || m.label != MICA_LABEL_EXIT)
			ok = false;
	if (h >= 0)
		mica_handle_close((mica_handle_t)h);
	return ok;
}

/* A descriptor without buffers, its waits bounded by ns. */
static struct mica_ipc_extra timed(uint64_t ns)
{
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};

	mica_ipc_timeout(&x, ns);
	return x;
}

static long recv_for(mica_handle_t e, struct mica_msg *m, uint64_t ns)
{
	struct mica_ipc_extra x = timed(ns);

	return mica_recv(e, m, &x, 0);
}

/* ---- helper threads; each reports through these, then exits 0 ---- */

static volatile long h_rc, h_rc2;
static volatile int64_t h_time;

/* Sleep arg ns, then send label LABEL_HI on the endpoint in the upper bits. */
static mica_handle_t h_ep;
static void sleep_then_send(uint64_t ns)
{
	struct mica_msg m = {.label = LABEL_HI};

	mica_sleep(ns);
	h_rc = mica_send(h_ep, &m, 0);
	mica_thread_exit(0);
}

/* Sleep arg ns, then try_send once (the deadline race's sender). */
static void sleep_then_try_send(uint64_t ns)
{
	struct mica_msg m = {.label = LABEL_HI};

	mica_sleep(ns);
	h_rc2 = mica_try_send(h_ep, &m, 0);
	mica_thread_exit(0);
}

/* A timed receive of arg ns on h_ep; the result in h_rc, the label checked. */
static void timed_receiver(uint64_t ns)
{
	struct mica_msg m = {0};

	h_rc = recv_for(h_ep, &m, ns);
	if (h_rc == 0 && m.label != LABEL_HI)
		h_rc = -1000;
	mica_thread_exit(0);
}

/* Sleep arg ns, then call h_ep with a descriptor that asks for no timeout (the IPC fast path). */
static void sleep_then_call(uint64_t ns)
{
	struct mica_msg m = {.label = LABEL_HI};
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};

	mica_sleep(ns);
	h_rc = mica_call(h_ep, &m, &x);
	mica_thread_exit(0);
}

/* Take one call on h_ep and answer it through the fast path, then take one message. */
static void fast_server(uint64_t unused)
{
	struct mica_msg m = {0};
	struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};

	(void)unused;
	h_rc = mica_recv(h_ep, &m, &x, 0);
	m.label = LABEL_HI;
	h_rc2 = mica_reply_recv(h_ep, &m, &x, 0);
	mica_thread_exit(0);
}

/* ---- the tests ---- */

/* The clock: monotonic, advancing, and in step with sleep. */
static void test_clock(void)
{
	int64_t first = mica_clock(), prev = first, now = first;

	if (first < 0)
		return result("time.clock", "clock gave", first);
	/* Never backwards; it advances (a tick is about 10 ms) while we spin. */
	for (long i = 0; i < 50000000 && now == first; i++) {
		now = mica_clock();
		if (now < prev)
			return result("time.clock", "went back by", prev - now);
		prev = now;
	}
	if (now == first)
		return result("time.clock", "did not advance", 0);
	if (now - first > 100 * (int64_t)MS)
		return result("time.clock", "first step too large (ns):", now - first);
	/* sleep: at least what was asked, on the clock; 0 returns at once. */
	int64_t t0 = mica_clock();
	long r = mica_sleep(30 * MS);
	int64_t slept = mica_clock() - t0;
	if (r != 0 || slept < 30 * (int64_t)MS)
		return result("time.clock", r ? "sleep gave" : "slept only (ns)", r ? r : slept);
	if ((r = mica_sleep(0)) != 0)
		return result("time.clock", "sleep(0) gave", r);
	result("time.clock", 0, 0);
}

/* A timed receive with nobody sending: MICA_ETIMEDOUT, after at least the timeout. */
static void test_recv_timeout(mica_handle_t e)
{
	struct mica_msg m = {0};

	for (uint64_t ms = 1; ms <= 64; ms *= 8) {
		int64_t t0 = mica_clock();
		long r = recv_for(e, &m, ms * MS);
		int64_t took = mica_clock() - t0;

		if (r != MICA_ETIMEDOUT)
			return result("time.recv_timeout", "recv gave", r);
		if (took < (int64_t)(ms * MS))
			return result("time.recv_timeout", "returned early (ns):", took);
		if (took > (int64_t)(ms * MS) + 500 * (int64_t)MS)
			return result("time.recv_timeout", "returned late (ns):", took);
	}
	result("time.recv_timeout", 0, 0);
}

/*
 * A message before the deadline: received, and the timer is gone with the
 * wait (a stale one would end the next, longer, wait at the old deadline).
 */
static void test_recv_before_deadline(mica_handle_t e)
{
	struct mica_msg m = {0};

	h_ep = e;
	long h = start(sleep_then_send, 0, 20 * MS, 16);
	int64_t t0 = mica_clock();
	long r = recv_for(e, &m, 200 * MS);
	int64_t took = mica_clock() - t0;
	join(1, h);
	if (r != 0 || m.label != LABEL_HI)
		return result("time.recv_in_time", r ? "recv gave" : "label",
		              r ? r : (long)m.label);
	if (took >= 200 * (int64_t)MS)
		return result("time.recv_in_time", "took (ns):", took);
	/* Past the first deadline (200 ms from t0), into a second wait. */
	h = start(sleep_then_send, 0, 400 * MS, 16);
	r = recv_for(e, &m, 2000 * MS);
	took = mica_clock() - t0;
	join(1, h);
	if (r != 0)
		return result("time.recv_in_time", "second recv gave (a stale timer?)", r);
	result("time.recv_in_time", took >= 400 * (int64_t)MS ? 0 : "second recv after (ns)", took);
}

/*
 * The IPC fast path takes descriptors, but not a partner with a deadline:
 * its timer must go with its wait, as ipc.c's wake does. A stale timer
 * would end the next wait, here a sleep, at the old deadline. First a
 * timed receive answered by a call, then a timed call answered by a
 * server whose reply could take the fast path.
 */
static void test_fast_path_deadline(mica_handle_t e)
{
	struct mica_msg m = {0};

	h_ep = e;
	long h = start(sleep_then_call, 0, 20 * MS, 16);
	int64_t t0 = mica_clock();
	long r = recv_for(e, &m, 200 * MS);
	struct mica_ipc_extra poll = timed(0);
	long r2 = mica_reply_recv(e, &m, &poll, 0); /* replies, then polls */
	join(1, h);
	if (r != 0 || r2 != MICA_ETIMEDOUT || h_rc != 0)
		return result("time.fast_path_deadline", "recv, reply_recv, call gave",
		              r ? r : (r2 != MICA_ETIMEDOUT ? r2 : h_rc));
	mica_sleep(400 * MS);
	if (mica_clock() - t0 < 400 * (int64_t)MS)
		return result("time.fast_path_deadline", "sleep after a timed recv ended at (ns)",
		              mica_clock() - t0);
	/* The other way: a timed call, answered at once. */
	h = start(fast_server, 0, 0, 16);
	yield_n(3); /* it waits in recv */
	struct mica_ipc_extra x = timed(200 * MS);
	m.label = 5;
	t0 = mica_clock();
	r = mica_call(e, &m, &x);
	if (r != 0 || m.label != LABEL_HI)
		return result("time.fast_path_deadline", "timed call gave", r ? r : (long)m.label);
	mica_sleep(400 * MS);
	int64_t took = mica_clock() - t0;
	m.label = 6;
	r = mica_send(e, &m, 0); /* the server's last receive */
	join(1, h);
	if (r != 0 || h_rc != 0 || h_rc2 != 0)
		return result("time.fast_path_deadline", "send, server's recv, reply_recv gave",
		              r ? r : (h_rc ? h_rc : h_rc2));
	result("time.fast_path_deadline",
	       took >= 400 * (int64_t)MS ? 0 : "sleep after a timed call ended at (ns)", took);
}

/* Timeout 0 polls: ETIMEDOUT at once with nobody there, the message if a sender waits. */
static void test_poll(mica_handle_t e)
{
	struct mica_msg m = {.label = 1};
	struct mica_ipc_extra x = timed(0);
	long r;

	int64_t t0 = mica_clock();
	if ((r = mica_recv(e, &m, &x, 0)) != MICA_ETIMEDOUT)
		return result("time.poll", "recv with nobody gave", r);
	if ((r = mica_send(e, &m, &x)) != MICA_ETIMEDOUT)
		return result("time.poll", "send with nobody gave", r);
	if (mica_clock() - t0 > 20 * (int64_t)MS)
		return result("time.poll", "a poll waited (ns):", mica_clock() - t0);
	/* A sender queued first: the poll takes its message. */
	h_ep = e;
	long h = start(sleep_then_send, 0, 0, 16);
	yield_n(3); /* it is queued in send */
	m.label = 0;
	r = mica_recv(e, &m, &x, 0);
	join(1, h);
	if (r != 0 || m.label != LABEL_HI || h_rc != 0)
		return result("time.poll", "poll with a sender gave", r ? r : (long)m.label);
	result("time.poll", 0, 0);
}

/*
 * A thread that timed out has left the endpoint's queue: a later send does
 * not go to it (try_send finds nobody), and the next receiver gets it.
 */
static void test_timed_out_leaves_queue(mica_handle_t e)
{
	struct mica_msg m = {.label = LABEL_HI};
	long r;

	h_ep = e;
	long h = start(timed_receiver, 0, 30 * MS, 16);
	if (!join(1, h) || h_rc != MICA_ETIMEDOUT)
		return result("time.leaves_queue", "receiver gave", h_rc);
	if ((r = mica_try_send(e, &m, 0)) != MICA_EAGAIN)
		return result("time.leaves_queue", "send after the timeout gave", r);
	/* The same for a sender. */
	struct mica_ipc_extra x = timed(30 * MS);
	if ((r = mica_send(e, &m, &x)) != MICA_ETIMEDOUT)
		return result("time.leaves_queue", "timed send gave", r);
	if ((r = mica_try_recv(e, &m, 0, 0)) != MICA_EAGAIN)
		return result("time.leaves_queue", "recv after the send's timeout gave", r);
	/* A receiver that comes later gets the next message. */
	h = start(timed_receiver, 0, 2000 * MS, 16);
	yield_n(3);
	r = mica_send(e, &m, 0);
	join(1, h);
	if (r != 0 || h_rc != 0)
		return result("time.leaves_queue", "the next receiver gave", r ? r : h_rc);
	result("time.leaves_queue", 0, 0);
}

/*
 * The endpoint closed while a timed receive waits: MICA_EPEER at once, and
 * the deadline passing later touches nothing (the thread is gone by then).
 */
static void test_endpoint_closed(void)
{
	long e = mica_endpoint_create();

	h_ep = (mica_handle_t)e;
	long h = start(timed_receiver, 0, 300 * MS, 16);
	yield_n(3); /* it waits in recv */
	int64_t t0 = mica_clock();
	mica_handle_close((mica_handle_t)e);
	join(1, h);
	int64_t took = mica_clock() - t0;
	if (h_rc != MICA_EPEER)
		return result("time.endpoint_closed", "receiver gave", h_rc);
	if (took >= 300 * (int64_t)MS)
		return result("time.endpoint_closed", "woken only after (ns)", took);
	mica_sleep(400 * MS); /* past its deadline: nothing may fire on the dead thread */
	result("time.endpoint_closed", 0, 0);
}

/* A server that takes one call and never answers; then reply_recv's result. */
static void silent_server(uint64_t e)
{
	struct mica_msg m = {0};
	struct mica_ipc_extra x = timed(0);

	h_rc = mica_recv((mica_handle_t)e, &m, 0, 0);
	mica_sleep(200 * MS); /* the caller gives up meanwhile */
	/* The caller is gone: EPEER, without receiving (the poll would say ETIMEDOUT). */
	h_rc2 = mica_reply_recv((mica_handle_t)e, &m, &x, 0);
	mica_thread_exit(0);
}

/*
 * call with a timeout: to nobody (not sent: no later receiver gets it),
 * and to a server that never answers (given up; the server hears EPEER at
 * its reply). The transport's timeout (ipc_set_call_timeout) does the same
 * for ipc_call, so for the IDL stubs.
 */
static void test_call_timeout(mica_handle_t e)
{
	struct mica_msg m = {.label = 5};
	struct mica_ipc_extra x = timed(40 * MS);
	long r;

	int64_t t0 = mica_clock();
	if ((r = mica_call(e, &m, &x)) != MICA_ETIMEDOUT)
		return result("time.call_timeout", "call to nobody gave", r);
	if (mica_clock() - t0 < 40 * (int64_t)MS)
		return result("time.call_timeout", "returned early (ns)", mica_clock() - t0);
	if ((r = mica_try_recv(e, &m, 0, 0)) != MICA_EAGAIN)
		return result("time.call_timeout", "the timed-out call was still queued:", r);
	long h = start(silent_server, 0, (uint64_t)e, 16);
	yield_n(3);
	t0 = mica_clock();
	r = mica_call(e, &m, &x);
	int64_t took = mica_clock() - t0;
	join(1, h);
	if (r != MICA_ETIMEDOUT || took < 40 * (int64_t)MS)
		return result("time.call_timeout", r == MICA_ETIMEDOUT ? "early (ns)" : "call gave",
		              r == MICA_ETIMEDOUT ? took : r);
	if (h_rc != 0 || h_rc2 != MICA_EPEER)
		return result("time.call_timeout", "server's recv, reply_recv gave",
		              h_rc ? h_rc : h_rc2);
	/* The transport: ipc_call with a call timeout. */
	struct ipc_msg req, rep;
	ipc_msg_init(&req, 6, 0, 0);
	ipc_msg_init(&rep, 0, 0, 0);
	uint64_t old = ipc_set_call_timeout(30 * MS);
	r = ipc_call(e, &req, &rep);
	uint64_t back = ipc_set_call_timeout(old);
	if (old != IPC_FOREVER || back != 30 * MS || r != MICA_ETIMEDOUT)
		return result("time.call_timeout", "ipc_call gave", r);
	result("time.call_timeout", 0, 0);
}

/* Bad timeout arguments: MICA_EINVAL, and nothing happens. */
static void test_bad_args(mica_handle_t e)
{
	struct mica_msg m = {0};
	struct mica_ipc_extra x = timed(MICA_TIMEOUT_MAX + 1);
	long r;

#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("time.bad_args", what, r);
	EXPECT("recv, timeout over the maximum", mica_recv(e, &m, &x, 0), MICA_EINVAL);
	EXPECT("send, timeout over the maximum", mica_send(e, &m, &x), MICA_EINVAL);
	EXPECT("call, timeout over the maximum", mica_call(e, &m, &x), MICA_EINVAL);
	EXPECT("try_recv, timeout over the maximum", mica_try_recv(e, &m, &x, 0), MICA_EINVAL);
	x = timed(0);
	EXPECT("call polling", mica_call(e, &m, &x), MICA_EINVAL);
	x = timed(10 * MS);
	x.flags |= 2;
	EXPECT("unknown flag", mica_recv(e, &m, &x, 0), MICA_EINVAL);
	x.flags = ~0ULL;
	EXPECT("every flag", mica_send(e, &m, &x), MICA_EINVAL);
	EXPECT("sleep over the maximum", mica_sleep(MICA_TIMEOUT_MAX + 1), MICA_EINVAL);
	EXPECT("sleep of -1", mica_sleep(~0ULL), MICA_EINVAL);
	/* Nothing was queued by the refused calls. */
	EXPECT("a refused send queued", mica_try_recv(e, &m, 0, 0), MICA_EAGAIN);
	/* The longest valid timeout is accepted (a poll-free try_ checks it and returns). */
	x = timed(MICA_TIMEOUT_MAX);
	EXPECT("try_recv, the maximum", mica_try_recv(e, &m, &x, 0), MICA_EAGAIN);
#undef EXPECT
	result("time.bad_args", 0, 0);
}

/*
 * A message at the deadline: the receiver waits T, the sender sleeps T plus
 * an offset of a few ticks either way (so at some offset both are due at
 * the same tick) and try-sends once. Whatever the order, the message is
 * delivered exactly when the sender is told so, and never to a receiver
 * that has timed out.
 */
static void test_deadline_race(mica_handle_t e)
{
	static const int offsets_ms[] = {-30, -20, -10, 0, 0, 0, 10, 20};
	int ok = 0, timedout = 0;

	h_ep = e;
	for (unsigned i = 0; i < sizeof(offsets_ms) / sizeof(offsets_ms[0]); i++) {
		uint64_t t = 50 * MS, s = (uint64_t)((int64_t)t + offsets_ms[i] * (int64_t)MS);
		unsigned prio = i % 2 ? 20 : 16; /* the sender above the receiver, or equal */

		h_rc = h_rc2 = 1;
		long r = start(timed_receiver, 0, t, 16);
		yield_n(2); /* the receiver waits first */
		long snd = start(sleep_then_try_send, 1, s, prio);
		if (!join(2, r))
			return result("time.deadline_race", "a helper hung at offset",
			              offsets_ms[i]);
		mica_handle_close((mica_handle_t)snd);
		if (h_rc == 0 && h_rc2 == 0)
			ok++;
		else if (h_rc == MICA_ETIMEDOUT && h_rc2 == MICA_EAGAIN)
			timedout++;
		else
			return result("time.deadline_race", "receiver, sender disagree at offset",
			              offsets_ms[i] * 1000 + h_rc * 100 + h_rc2);
	}
	/* Early senders were received, late ones found nobody. */
	result("time.deadline_race", ok >= 1 && timedout >= 1 ? 0 : "delivered count", ok);
}

/*
 * The wake-up goes through the scheduler: a higher-priority sleeper
 * preempts a thread that never blocks at its deadline; a lower one waits
 * until that thread blocks.
 */
static volatile int flag_hi, flag_lo;

static void sleeper_sets(uint64_t which)
{
	mica_sleep(40 * MS);
	h_time = mica_clock();
	if (which)
		flag_hi = 1;
	else
		flag_lo = 1;
	mica_thread_exit(0);
}

static void test_wake_priority(void)
{
	flag_hi = flag_lo = 0;
	long hi = start(sleeper_sets, 0, 1, 20);
	long lo = start(sleeper_sets, 1, 0, 10);
	int64_t t0 = mica_clock(), seen_hi = 0;

	/* Spin, never blocking, for 150 ms. */
	while (mica_clock() - t0 < 150 * (int64_t)MS)
		if (flag_hi && !seen_hi)
			seen_hi = mica_clock();
	int lo_ran = flag_lo;
	join(2, hi); /* we block here: now the low one runs */
	mica_handle_close((mica_handle_t)lo);
	if (!seen_hi)
		return result("time.wake_priority", "the higher sleeper did not preempt", 0);
	if (seen_hi - t0 < 40 * (int64_t)MS)
		return result("time.wake_priority", "woke early (ns)", seen_hi - t0);
	if (lo_ran)
		return result("time.wake_priority", "the lower sleeper preempted us", 0);
	result("time.wake_priority", flag_lo ? 0 : "the lower sleeper never ran", 0);
}

void test_time(void)
{
	long e = mica_endpoint_create(), s = mica_endpoint_create();

	if (e < 0 || s < 0)
		return result("time.clock", "endpoint_create gave", e < 0 ? e : s);
	sup = (mica_handle_t)s;
	test_clock();
	test_recv_timeout((mica_handle_t)e);
	test_recv_before_deadline((mica_handle_t)e);
	test_fast_path_deadline((mica_handle_t)e);
	test_poll((mica_handle_t)e);
	test_timed_out_leaves_queue((mica_handle_t)e);
	test_endpoint_closed();
	test_call_timeout((mica_handle_t)e);
	test_bad_args((mica_handle_t)e);
	test_deadline_race((mica_handle_t)e);
	test_wake_priority();
	mica_handle_close((mica_handle_t)e);
	mica_handle_close(sup);
}
