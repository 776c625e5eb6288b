/*
 * Notifications, interrupt handles and I/O port handles (include/mica/
 * notify.h, device.h): bits merge, no wakeup is lost, badges select bits,
 * a bound notification arrives through receive, a closed one wakes its
 * waiter; one handle per interrupt line, a real interrupt (COM1's
 * transmitter-empty) delivered and acknowledged once; port ranges that
 * never overlap, and a thread killed at its first in/out on a port its
 * address space was not given.
 */
#include <mica/device.h>
#include <mica/notify.h>
#include <mica/time.h>
#include "ktest.h"

#define COM1 0x3F8

#define EXPECT(id, what, call, want)                                                               \
	do {                                                                                       \
		long r_ = (long)(call);                                                            \
		if (r_ != (long)(want))                                                            \
			return result(id, what, r_);                                               \
	} while (0)

static void test_signal_wait(void)
{
	long n = mica_notify_create();

	if (n < 0)
		return result("notify.merge", "create gave", n);
	EXPECT("notify.merge", "poll of an empty word gave", mica_notify_poll(n), 0);
	mica_notify_signal(n, 1);
	mica_notify_signal(n, 4);
	mica_notify_signal(n, 1UL << 40);
	EXPECT("notify.merge", "wait gave", mica_notify_wait(n), 5 | (1L << 40));
	EXPECT("notify.merge", "the word was not cleared", mica_notify_poll(n), 0);
	mica_notify_signal(n, 2);
	EXPECT("notify.merge", "poll gave", mica_notify_poll(n), 2);
	mica_handle_close(n);
	result("notify.merge", 0, 0);
}

/* Two threads signal each other in turn through two notifications: a lost wakeup hangs. */
static volatile long pong_result;

static void ponger(uint64_t arg)
{
	mica_handle_t ping = (mica_handle_t)(arg & 0xFFFF), pong = (mica_handle_t)(arg >> 16);

	for (int i = 0; i < 2000; i++) {
		long w = mica_notify_wait(ping);

		if (w != 1) {
			pong_result = w;
			break;
		}
		if (i % 7 == 0)
			mica_yield(); /* the signal lands before or after the wait */
		mica_notify_signal(pong, 1);
	}
	mica_thread_exit(0);
}

static void test_lost_wakeup(void)
{
	long ping = mica_notify_create(), pong = mica_notify_create();

	pong_result = 0;
	if (spawn(ponger, 8, (uint64_t)ping | (uint64_t)pong << 16, MICA_HANDLE_NONE,
	          MICA_HANDLE_NONE) < 0)
		return result("notify.no_lost_wakeup", "thread_create failed", 0);
	for (int i = 0; i < 2000; i++) {
		mica_notify_signal(ping, 1);
		if (i % 5 == 0)
			mica_yield();
		long w = mica_notify_wait(pong);
		if (w != 1)
			return result("notify.no_lost_wakeup", "wait gave", w);
	}
	yield_n(3);
	mica_handle_close(ping);
	mica_handle_close(pong);
	result("notify.no_lost_wakeup", pong_result ? "the other side got" : 0, pong_result);
}

static void test_badges_rights(void)
{
	const char *id = "notify.badges_rights";
	long n = mica_notify_create();
	long b8 = mica_handle_mint(n, MICA_RIGHT_SIGNAL, 8);
	long sig = mica_handle_mint(n, MICA_RIGHT_SIGNAL, 0);
	long wt = mica_handle_mint(n, MICA_RIGHT_WAIT, 0);

	if (n < 0 || b8 < 0 || sig < 0 || wt < 0)
		return result(id, "create or mint gave", b8);
	/* A badged handle signals its badge, whatever bits it names. */
	EXPECT(id, "badged signal gave", mica_notify_signal(b8, 3), 0);
	EXPECT(id, "badged bits", mica_notify_poll(n), 8);
	EXPECT(id, "badge past the word", mica_handle_mint(n, MICA_RIGHT_SIGNAL, 1UL << 63),
	       MICA_EINVAL);
	EXPECT(id, "wait without WAIT", mica_notify_wait(sig), MICA_ERIGHTS);
	EXPECT(id, "poll without WAIT", mica_notify_poll(sig), MICA_ERIGHTS);
	EXPECT(id, "bind without WAIT", mica_notify_bind(sig), MICA_ERIGHTS);
	EXPECT(id, "signal without SIGNAL", mica_notify_signal(wt, 1), MICA_ERIGHTS);
	EXPECT(id, "signal 0", mica_notify_signal(n, 0), MICA_EINVAL);
	EXPECT(id, "signal bit 63", mica_notify_signal(n, 1UL << 63), MICA_EINVAL);
	EXPECT(id, "a forged handle", mica_notify_signal(4321, 1), MICA_EBADH);
	EXPECT(id, "wait on a forged handle", mica_notify_wait(4321), MICA_EBADH);
	long e = mica_endpoint_create();
	EXPECT(id, "an endpoint as a notification", mica_notify_wait(e), MICA_EBADH);
	EXPECT(id, "nothing was signalled meanwhile", mica_notify_poll(n), 0);
	mica_handle_close(e);
	mica_handle_close(b8);
	mica_handle_close(sig);
	mica_handle_close(wt);
	mica_handle_close(n);
	EXPECT(id, "wait on a closed handle", mica_notify_wait(n), MICA_EBADH);
	result(id, 0, 0);
}

/* A thread waits; the last handle is closed under it. */
static volatile long closed_result;

static void closed_waiter(uint64_t n)
{
	closed_result = mica_notify_wait((mica_handle_t)n);
	mica_thread_exit(0);
}

static void test_closed(void)
{
	long n = mica_notify_create();

	closed_result = 1;
	spawn(closed_waiter, 9, (uint64_t)n, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	yield_n(5);
	if (closed_result != 1)
		return result("notify.closed", "wait returned early:", closed_result);
	mica_handle_close(n);
	yield_n(5);
	result("notify.closed", closed_result == MICA_EPEER ? 0 : "waiter got", closed_result);
}

/* A waiter with a 10 s timeout that a signal wakes in time. */
static volatile long timed_result;

static void timed_waiter(uint64_t n)
{
	timed_result = mica_notify_wait_timeout((mica_handle_t)n, 10 * MICA_NS_PER_S);
	mica_thread_exit(0);
}

/*
 * notify_wait with MICA_NOTIFY_TIMEOUT: at once with 0, after at least the
 * timeout with nothing signalled (and the waiter out of the queue: a later
 * signal stays in the word), the bits when signalled in time (and no stale
 * deadline wakes the next wait early).
 */
static void test_timeout(void)
{
	const char *id = "notify.timeout";
	long n = mica_notify_create();
	int64_t t0, t1;

	if (n < 0)
		return result(id, "create gave", n);
	EXPECT(id, "timeout 0 on an empty word gave", mica_notify_wait_timeout(n, 0),
	       MICA_ETIMEDOUT);
	mica_notify_signal(n, 8);
	EXPECT(id, "timeout 0 with a bit set gave", mica_notify_wait_timeout(n, 0), 8);
	t0 = mica_clock();
	EXPECT(id, "a 30 ms wait gave", mica_notify_wait_timeout(n, 30 * MICA_NS_PER_MS),
	       MICA_ETIMEDOUT);
	t1 = mica_clock();
	if (t1 - t0 < (int64_t)(30 * MICA_NS_PER_MS))
		return result(id, "timed out early, ns:", t1 - t0);
	/* The timed-out waiter left the queue: the signal stays in the word. */
	mica_notify_signal(n, 1);
	EXPECT(id, "a signal after the timeout left", mica_notify_poll(n), 1);
	/* Signalled in time: the bits, and its deadline is gone with it. */
	timed_result = 1;
	spawn(timed_waiter, 9, (uint64_t)n, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	yield_n(5);
	if (timed_result != 1)
		return result(id, "the 10 s wait returned early:", timed_result);
	mica_notify_signal(n, 4);
	yield_n(5);
	EXPECT(id, "the waiter signalled in time got", timed_result, 4);
	t0 = mica_clock();
	EXPECT(id, "a 20 ms wait after gave", mica_notify_wait_timeout(n, 20 * MICA_NS_PER_MS),
	       MICA_ETIMEDOUT);
	if (mica_clock() - t0 < (int64_t)(20 * MICA_NS_PER_MS))
		return result(id, "the second wait ended early, ns:", mica_clock() - t0);
	mica_handle_close(n);
	result(id, 0, 0);
}

/* The timeout's bad arguments: each refused before the word is looked at. */
static void test_timeout_errors(void)
{
	const char *id = "notify.timeout_errors";
	long n = mica_notify_create();

	if (n < 0)
		return result(id, "create gave", n);
	mica_notify_signal(n, 2);
	EXPECT(id, "an unknown flag gave",
	       mica_syscall4(MICA_SYS_NOTIFY_WAIT, (uint64_t)n, 2, 0, 0), MICA_EINVAL);
	EXPECT(id, "a timeout over MICA_TIMEOUT_MAX gave",
	       mica_syscall4(MICA_SYS_NOTIFY_WAIT, (uint64_t)n, MICA_NOTIFY_TIMEOUT,
	                     MICA_TIMEOUT_MAX + 1, 0),
	       MICA_EINVAL);
	EXPECT(id, "the bits were taken by a refused wait", mica_notify_poll(n), 2);
	EXPECT(id, "a timed wait on a forged handle gave", mica_notify_wait_timeout(4321, 0),
	       MICA_EBADH);
	long w = mica_handle_mint((mica_handle_t)n, MICA_RIGHT_SIGNAL, 0);
	if (w < 0)
		return result(id, "mint gave", w);
	EXPECT(id, "a timed wait without WAIT gave", mica_notify_wait_timeout(w, 0), MICA_ERIGHTS);
	mica_handle_close(w);
	mica_handle_close(n);
	result(id, 0, 0);
}

/* A server thread bound to a notification receives both messages and bits. */
static volatile long bound_label, bound_w0, bound_rc, bound_step;

static void bound_server(uint64_t arg)
{
	mica_handle_t e = (mica_handle_t)(arg & 0xFFFF), n = (mica_handle_t)(arg >> 16);
	struct mica_msg m = {0};
	uint64_t badge;

	bound_rc = mica_notify_bind(n);
	for (int i = 0; i < 3; i++) {
		bound_rc = mica_recv(e, &m, 0, &badge);
		bound_label = (long)m.label;
		bound_w0 = (long)m.w[0];
		bound_step++;
	}
	mica_thread_exit(0);
}

static void test_bound(void)
{
	const char *id = "notify.bound_receive";
	long e = mica_endpoint_create(), n = mica_notify_create();
	struct mica_msg m = {.label = 0x55, .w = {9}};

	bound_step = 0;
	mica_notify_signal(n, 16); /* already set when the receive starts: comes first */
	spawn(bound_server, 9, (uint64_t)e | (uint64_t)n << 16, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	yield_n(5);
	if (bound_step != 1 || bound_rc != 0 || bound_label != (long)MICA_LABEL_NOTIFY ||
	    bound_w0 != 16)
		return result(id, "pending bits not received first, label", bound_label);
	EXPECT(id, "a second binding", mica_notify_bind(n), MICA_EBUSY);
	/* Blocked in recv: a signal wakes it. */
	mica_notify_signal(n, 3);
	yield_n(5);
	if (bound_step != 2 || bound_label != (long)MICA_LABEL_NOTIFY || bound_w0 != 3)
		return result(id, "signal while receiving, w0", bound_w0);
	/* And a message still arrives as one. */
	EXPECT(id, "send gave", mica_send(e, &m, 0), 0);
	yield_n(5);
	if (bound_step != 3 || bound_label != 0x55 || bound_w0 != 9)
		return result(id, "message after bits, label", bound_label);
	m.label = MICA_LABEL_NOTIFY;
	EXPECT(id, "user send of the notify label", mica_try_send(e, &m, 0), MICA_EINVAL);
	/* The bound thread is gone: the notification may be bound again. */
	EXPECT(id, "bind after the thread ended", mica_notify_bind(n), 0);
	EXPECT(id, "unbind", mica_notify_bind(MICA_HANDLE_NONE), 0);
	mica_handle_close(e);
	mica_handle_close(n);
	result(id, 0, 0);
}

/* ---- interrupts ---- */

static void test_irq_handles(void)
{
	const char *id = "irq.handles";
	mica_handle_t dev = bootinfo->devices;
	long e = mica_endpoint_create();

	EXPECT(id, "the timer's line", mica_irq_create(dev, 0), MICA_EINVAL);
	EXPECT(id, "the chain line", mica_irq_create(dev, 2), MICA_EINVAL);
	EXPECT(id, "line 16", mica_irq_create(dev, 16), MICA_EINVAL);
	EXPECT(id, "an endpoint as the authority", mica_irq_create(e, 4), MICA_EBADH);
	long weak = mica_handle_mint(dev, MICA_RIGHT_COPY, 0);
	EXPECT(id, "authority without MANAGE", mica_irq_create(weak, 4), MICA_ERIGHTS);
	long q = mica_irq_create(dev, 3);
	if (q < 0)
		return result(id, "create gave", q);
	EXPECT(id, "a second handle for the line", mica_irq_create(dev, 3), MICA_EBUSY);
	EXPECT(id, "ack before any interrupt", mica_irq_ack(q), MICA_EINVAL);
	EXPECT(id, "bind to an endpoint", mica_irq_bind(q, e), MICA_EBADH);
	/* Handed to another address space, which is destroyed: the line is free once ours goes. */
	long b = mica_aspace_create(self_as);
	EXPECT(id, "give gave", mica_handle_give(b, q, ~0u) >= 0, 1);
	mica_handle_close(q);
	EXPECT(id, "the other space still holds it", mica_irq_create(dev, 3), MICA_EBUSY);
	uint64_t frames[8];
	mica_aspace_destroy(b, frames, 8);
	mica_handle_close(b);
	q = mica_irq_create(dev, 3);
	if (q < 0)
		return result(id, "line not free after its holder went:", q);
	mica_handle_close(q);
	mica_handle_close(weak);
	mica_handle_close(e);
	result(id, 0, 0);
}

/*
 * A real interrupt: COM1 (whose ports this task takes) raises IRQ 4 when
 * its transmitter is empty, once that interrupt is enabled.
 */
static void test_irq_delivery(mica_handle_t ports)
{
	const char *id = "irq.delivery";
	long n = mica_notify_create();
	long nb = mica_handle_mint(n, MICA_RIGHT_SIGNAL, 0x20);
	long q = mica_irq_create(bootinfo->devices, 4);

	if (q < 0 || n < 0 || nb < 0)
		return result(id, "create gave", q);
	/*
	 * The UART interrupts before the line is routed: the line stays masked
	 * (the PIC holds the request), nothing is signalled, and the request is
	 * delivered once the route unmasks the line.
	 */
	mica_outb(COM1 + 4, 0x0B); /* DTR, RTS, OUT2: the UART's interrupt reaches the PIC */
	mica_outb(COM1 + 1, 0x02); /* interrupt when the transmitter is empty */
	yield_n(3);
	EXPECT(id, "signalled before the route", mica_notify_poll(n), 0);
	EXPECT(id, "bind gave", mica_irq_bind(q, nb), 0);
	long w = mica_notify_wait(n);
	mica_outb(COM1 + 1, 0x00);
	(void)mica_inb(COM1 + 2); /* reading IIR clears it */
	if (w != 0x20)
		return result(id, "wait gave", w);
	EXPECT(id, "ack gave", mica_irq_ack(q), 0);
	EXPECT(id, "a second ack", mica_irq_ack(q), MICA_EINVAL);
	EXPECT(id, "no interrupt while the UART is quiet", mica_notify_poll(n), 0);
	EXPECT(id, "unbind gave", mica_irq_bind(q, MICA_HANDLE_NONE), 0);
	mica_handle_close(q);
	mica_handle_close(nb);
	mica_handle_close(n);
	(void)ports;
	result(id, 0, 0);
}

/* ---- I/O ports ---- */

static void port_toucher(uint64_t port)
{
	(void)mica_inb((uint16_t)port);
	mica_thread_exit(0); /* not reached: the in faults */
}

static void test_ports(void)
{
	const char *id = "ioport.ranges";
	mica_handle_t dev = bootinfo->devices;

	EXPECT(id, "count 0", mica_ioport_create(dev, 0x2f8, 0), MICA_EINVAL);
	EXPECT(id, "past 0xFFFF", mica_ioport_create(dev, 0xFFF8, 9), MICA_ERANGE);
	EXPECT(id, "first past 0xFFFF", mica_ioport_create(dev, 0x10000, 1), MICA_ERANGE);
	long e = mica_endpoint_create();
	EXPECT(id, "an endpoint as the authority", mica_ioport_create(e, 0x2f8, 8), MICA_EBADH);
	EXPECT(id, "enable an endpoint", mica_ioport_enable(e), MICA_EBADH);
	long p = mica_ioport_create(dev, 0x3f8, 8);
	if (p < 0)
		return result(id, "create gave", p);
	EXPECT(id, "the same range", mica_ioport_create(dev, 0x3f8, 8), MICA_EBUSY);
	EXPECT(id, "overlapping below", mica_ioport_create(dev, 0x3f0, 9), MICA_EBUSY);
	EXPECT(id, "overlapping above", mica_ioport_create(dev, 0x3ff, 2), MICA_EBUSY);
	long other = mica_ioport_create(dev, 0x2f8, 8);
	EXPECT(id, "an adjacent range", other >= 0 && mica_ioport_create(dev, 0x400, 1) >= 0, 1);
	mica_handle_close(other);
	other = mica_ioport_create(dev, 0x2f8, 8);
	if (other < 0)
		return result(id, "a closed range not free again:", other);
	mica_handle_close(other);
	EXPECT(id, "enable gave", mica_ioport_enable(p), 0);
	EXPECT(id, "enable again", mica_ioport_enable(p), 0);
	/* Now this address space reaches COM1: its scratch register holds what we write. */
	mica_outb(COM1 + 7, 0x5A);
	EXPECT(id, "scratch register", mica_inb(COM1 + 7), 0x5A);
	mica_handle_close(e);
	result(id, 0, 0);

	/* A thread touching a port not given dies, with the port in its exit notice. */
	id = "ioport.kill";
	long sup = mica_endpoint_create();
	struct mica_msg m = {0};
	uint64_t badge;
	spawn(port_toucher, 10, 0x80, MICA_HANDLE_NONE, sup);
	EXPECT(id, "notice gave", mica_recv(sup, &m, 0, &badge), 0);
	if (m.label != MICA_LABEL_EXIT || m.w[1] != MICA_EXIT_PORT || m.w[2] != 0x80)
		return result(id, "exit notice reason", (long)m.w[1]);
	spawn(port_toucher, 10, 0x3f0, MICA_HANDLE_NONE, sup); /* just below the range */
	EXPECT(id, "notice gave", mica_recv(sup, &m, 0, &badge), 0);
	if (m.w[1] != MICA_EXIT_PORT || m.w[2] != 0x3f0)
		return result(id, "below the range: port", (long)m.w[2]);
	mica_handle_close(sup);
	result(id, 0, 0);
	test_irq_delivery((mica_handle_t)p);
}

void test_notify(void)
{
	test_signal_wait();
	test_lost_wakeup();
	test_badges_rights();
	test_closed();
	test_timeout();
	test_timeout_errors();
	test_bound();
	test_irq_handles();
	test_ports();
}
