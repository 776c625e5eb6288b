/*
 * Thread handles, exit notices, kills, page faults delivered to a pager,
 * and the caller that dies while its server holds the call.
 */
#include "ktest.h"

/* Receive one message on e (blocking) into *m; returns the badge, or the error. */
static long take(mica_handle_t e, struct mica_msg *m)
{
	uint64_t badge;
	long r = mica_recv(e, m, 0, &badge);

	return r ? r : (long)badge;
}

static void exiter(uint64_t code)
{
	mica_thread_exit((int64_t)code);
}

static void forever(uint64_t arg)
{
	(void)arg;
	for (;;)
		mica_yield();
}

static void test_exit_notice(mica_handle_t sup)
{
	struct mica_msg m;
	long sup77 = mica_handle_mint(sup, MICA_RIGHT_SEND, 77);
	long h = spawn(exiter, 6, 5, MICA_HANDLE_NONE, (mica_handle_t)sup77);
	long r;

	if (h < 0)
		return result("thread.exit_notice", "thread_create gave", h);
	if ((r = take(sup, &m)) != 77)
		return result("thread.exit_notice", "badge or error", r);
	if (m.label != MICA_LABEL_EXIT || m.w[1] != MICA_EXIT_NORMAL || m.w[2] != 5 || m.w[0] == 0)
		return result("thread.exit_notice", "notice wrong, reason", (long)m.w[1]);
	/* The handle outlives the thread: killing it now is refused. */
	if ((r = mica_thread_kill((mica_handle_t)h, 0)) != MICA_EPEER)
		return result("thread.exit_notice", "kill of an ended thread gave", r);
	mica_handle_close((mica_handle_t)h);
	mica_handle_close((mica_handle_t)sup77);
	result("thread.exit_notice", 0, 0);
}

static void test_kill(mica_handle_t sup)
{
	struct mica_msg m;
	long h = spawn(forever, 6, 0, MICA_HANDLE_NONE, sup);
	long r;

	yield_n(3);
	long weak = mica_handle_mint((mica_handle_t)h, MICA_RIGHTS_ALL & ~MICA_RIGHT_MANAGE, 0);
	if ((r = mica_thread_kill((mica_handle_t)weak, 1)) != MICA_ERIGHTS)
		return result("thread.kill", "kill without MANAGE gave", r);
	if ((r = mica_thread_kill(4321, 1)) != MICA_EBADH)
		return result("thread.kill", "kill of a forged handle gave", r);
	if ((r = mica_thread_kill(sup, 1)) != MICA_EBADH)
		return result("thread.kill", "kill of an endpoint handle gave", r);
	if ((r = mica_thread_kill((mica_handle_t)h, 9)) != 0)
		return result("thread.kill", "kill gave", r);
	if ((r = take(sup, &m)) != 0 || m.w[1] != MICA_EXIT_KILLED || m.w[2] != 9)
		return result("thread.kill", "notice wrong, reason", r ? r : (long)m.w[1]);
	mica_handle_close((mica_handle_t)weak);
	mica_handle_close((mica_handle_t)h);
	result("thread.kill", 0, 0);
}

/*
 * A thread whose max_priority is 16 tries to create threads: at 16 it may,
 * above it may not, nor hand out a max_priority above its own.
 */
static volatile long limited_rc[3];

static void limited_creator(uint64_t arg)
{
	struct mica_thread_params p = {.entry = (uint64_t)exiter,
	                               .stack_top = (uint64_t)STACK_TOP(6),
	                               .priority = 17,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};

	(void)arg;
	limited_rc[0] = mica_thread_create(self_as, &p);
	p.priority = 16;
	p.max_priority = 17;
	limited_rc[1] = mica_thread_create(self_as, &p);
	p.max_priority = 16;
	limited_rc[2] = mica_thread_create(self_as, &p); /* exits with 0 at once */
	mica_thread_exit(0);
}

static void test_priority_limits(mica_handle_t sup)
{
	struct mica_thread_params p = {.entry = (uint64_t)limited_creator,
	                               .stack_top = (uint64_t)STACK_TOP(7),
	                               .priority = 20, /* above ours: main may place it there */
	                               .max_priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = sup};
	struct mica_msg m;
	long r, h = mica_thread_create(self_as, &p);

	if (h < 0)
		return result("thread.priority_limits", "create at 20 gave", h);
	/* It ran at once (above us) and has ended: its notice is waiting. */
	if ((r = take(sup, &m)) != 0 || m.w[1] != MICA_EXIT_NORMAL)
		return result("thread.priority_limits", "no exit notice:", r);
	if (limited_rc[0] != MICA_EPERM)
		return result("thread.priority_limits", "priority above its limit gave",
		              limited_rc[0]);
	if (limited_rc[1] != MICA_EPERM)
		return result("thread.priority_limits", "max_priority above its limit gave",
		              limited_rc[1]);
	if (limited_rc[2] < 0)
		return result("thread.priority_limits", "a thread within its limit gave",
		              limited_rc[2]);
	yield_n(2); /* the last one (at 16, like us) exits */
	mica_handle_close((mica_handle_t)limited_rc[2]);
	mica_handle_close((mica_handle_t)h);
	result("thread.priority_limits", 0, 0);
}

static void test_create_errors(mica_handle_t sup)
{
	struct mica_thread_params p = {.entry = (uint64_t)exiter,
	                               .stack_top = (uint64_t)STACK_TOP(6),
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = MICA_HANDLE_NONE};
	long weak_as = mica_handle_mint(self_as, MICA_RIGHTS_ALL & ~MICA_RIGHT_MANAGE, 0);
	long recv_only = mica_handle_mint(sup, MICA_RIGHT_RECV, 0);
	long r;

#define EXPECT(what, want)                                                                         \
	if ((r = mica_thread_create(self_as, &p)) != (want))                                       \
		return result("thread.create_errors", what, r);
	p.priority = MICA_PRIO_MAX + 1;
	EXPECT("priority 32", MICA_EINVAL);
	p.priority = 16;
	p.max_priority = MICA_PRIO_MAX + 1;
	EXPECT("max_priority 32", MICA_EINVAL);
	p.max_priority = 0;
	p.entry = MICA_KERNEL_VBASE;
	EXPECT("kernel entry", MICA_ERANGE);
	p.entry = (uint64_t)exiter;
	p.stack_top = 0x1000;
	EXPECT("stack below the user base", MICA_ERANGE);
	p.stack_top = (uint64_t)STACK_TOP(6);
	p.pager = 999;
	EXPECT("forged pager", MICA_EBADH);
	p.pager = (mica_handle_t)recv_only;
	EXPECT("pager without SEND", MICA_ERIGHTS);
	p.pager = MICA_HANDLE_NONE;
	p.supervisor = self_as;
	EXPECT("supervisor not an endpoint", MICA_EBADH);
	p.supervisor = MICA_HANDLE_NONE;
#undef EXPECT
	if ((r = mica_thread_create(sup, &p)) != MICA_EBADH)
		return result("thread.create_errors", "endpoint as address space gave", r);
	if ((r = mica_thread_create((mica_handle_t)weak_as, &p)) != MICA_ERIGHTS)
		return result("thread.create_errors", "address space without MANAGE gave", r);
	if ((r = mica_thread_create(self_as, (void *)0x10000000)) != MICA_EFAULT)
		return result("thread.create_errors", "unmapped params gave", r);
	mica_handle_close((mica_handle_t)weak_as);
	mica_handle_close((mica_handle_t)recv_only);
	result("thread.create_errors", 0, 0);
}

/* ---- faults ---- */

#define FAULT_VA 0x30000000UL /* read: the pager maps a page holding 0xfeed */
#define RO_VA    0x30001000UL /* mapped read-only: a write there gets killed */

static volatile uint64_t seen_value;
static volatile uint64_t pager_saw[2][4]; /* badge, address, access, rip per fault */
static volatile long pager_error;

static void faulting(uint64_t arg)
{
	(void)arg;
	seen_value = *(volatile uint64_t *)(FAULT_VA + 8);
	*(volatile uint64_t *)RO_VA = 1; /* the pager kills us here */
	mica_thread_exit(-1);
}

/* Serve two faults: map and resume the first, kill at the second. */
static void pager(uint64_t e)
{
	struct mica_msg m;
	uint64_t badge;
	long r = mica_recv((mica_handle_t)e, &m, 0, &badge);

	for (int i = 0; i < 2 && r == 0; i++) {
		pager_saw[i][0] = badge;
		pager_saw[i][1] = m.w[0];
		pager_saw[i][2] = m.w[1];
		pager_saw[i][3] = m.w[2];
		if (m.label != MICA_LABEL_FAULT) {
			pager_error = (long)m.label;
			break;
		}
		if (i == 0) {
			uint64_t f = frame_take(1);
			long rc = mica_map(self_as, FAULT_VA, f, 1, MICA_MAP_READ | MICA_MAP_WRITE);

			if (rc == 0)
				*(volatile uint64_t *)(FAULT_VA + 8) = 0xfeed;
			m.label = MICA_FAULT_RESUME;
		} else {
			m.label = MICA_FAULT_KILL;
			m.w[0] = 33;
		}
		if (i == 0)
			r = mica_reply_recv((mica_handle_t)e, &m, 0, &badge);
		else
			r = mica_reply_recv((mica_handle_t)e, &m, 0,
			                    &badge); /* waits: killed later */
	}
	pager_error = r;
	mica_thread_exit(0);
}

static void test_fault_delivery(mica_handle_t sup)
{
	struct mica_msg m;
	long pe = mica_endpoint_create();
	long pe55 = mica_handle_mint((mica_handle_t)pe, MICA_RIGHT_SEND, 0x55);
	uint64_t ro = frame_take(1);
	long r;

	if ((r = mica_map(self_as, RO_VA, ro, 1, MICA_MAP_READ)) != 0)
		return result("fault.resume_kill", "map of the read-only page gave", r);
	long ph = spawn(pager, 7, (uint64_t)pe, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	long fh = spawn(faulting, 8, 0, (mica_handle_t)pe55, sup);
	if (ph < 0 || fh < 0)
		return result("fault.resume_kill", "spawn gave", ph < 0 ? ph : fh);
	if ((r = take(sup, &m)) != 0)
		return result("fault.resume_kill", "supervisor recv gave", r);
	if (seen_value != 0xfeed)
		return result("fault.resume_kill", "value after resume", (long)seen_value);
	if (pager_saw[0][0] != 0x55 || pager_saw[0][1] != FAULT_VA + 8 || pager_saw[0][2] != 0 ||
	    pager_saw[0][3] < MICA_USER_BASE)
		return result("fault.resume_kill", "first fault message wrong, access",
		              (long)pager_saw[0][2]);
	if (pager_saw[1][1] != RO_VA || pager_saw[1][2] != (MICA_FAULT_WRITE | MICA_FAULT_PRESENT))
		return result("fault.resume_kill", "second fault message wrong, access",
		              (long)pager_saw[1][2]);
	if (m.w[1] != MICA_EXIT_PAGER || m.w[2] != 33 || m.w[3] != RO_VA)
		return result("fault.resume_kill", "notice wrong, reason", (long)m.w[1]);
	mica_thread_kill((mica_handle_t)ph, 0); /* it waits in reply_recv */
	mica_unmap(self_as, FAULT_VA, 2, 0);
	mica_handle_close((mica_handle_t)ph);
	mica_handle_close((mica_handle_t)fh);
	mica_handle_close((mica_handle_t)pe55);
	mica_handle_close((mica_handle_t)pe);
	result("fault.resume_kill", 0, 0);
}

static void reader(uint64_t va)
{
	(void)*(volatile uint64_t *)va;
	mica_thread_exit(-1);
}

static void test_fault_without_pager(mica_handle_t sup)
{
	struct mica_msg m;
	long r;

	/* No pager at all. */
	long h = spawn(reader, 6, 0x40000010, MICA_HANDLE_NONE, sup);
	if ((r = take(sup, &m)) != 0)
		return result("fault.no_pager", "recv gave", r);
	if (m.w[1] != MICA_EXIT_FAULT || m.w[2] != 14 || m.w[3] != 0x40000010)
		return result("fault.no_pager", "notice wrong, reason", (long)m.w[1]);
	mica_handle_close((mica_handle_t)h);
	/* A pager endpoint whose last handle is closed before the fault. */
	long e = mica_endpoint_create();
	h = spawn(reader, 6, 0x40000020, (mica_handle_t)e, sup);
	mica_handle_close((mica_handle_t)e);
	if ((r = take(sup, &m)) != 0)
		return result("fault.no_pager", "second recv gave", r);
	if (m.w[1] != MICA_EXIT_FAULT || m.w[3] != 0x40000020)
		return result("fault.no_pager", "pager gone: notice wrong, reason", (long)m.w[1]);
	mica_handle_close((mica_handle_t)h);
	result("fault.no_pager", 0, 0);
}

/* ---- a caller that dies while the server holds its call ---- */

static volatile int srv_got, srv_go;
static volatile long srv_reply = 1;

static void holding_server(uint64_t e)
{
	struct mica_msg m;

	mica_recv((mica_handle_t)e, &m, 0, 0);
	srv_got = 1;
	while (!srv_go)
		mica_yield();
	m.label = 1;
	srv_reply = mica_reply_recv((mica_handle_t)e, &m, 0, 0);
	mica_thread_exit(0);
}

static void caller(uint64_t e)
{
	struct mica_msg m = {.label = 1};

	mica_call((mica_handle_t)e, &m, 0);
	mica_thread_exit(-1); /* killed before the reply */
}

static void test_reply_to_dead_caller(void)
{
	long e = mica_endpoint_create();
	long s = spawn(holding_server, 9, (uint64_t)e, MICA_HANDLE_NONE, MICA_HANDLE_NONE);
	long c = spawn(caller, 10, (uint64_t)e, MICA_HANDLE_NONE, MICA_HANDLE_NONE);

	for (int i = 0; i < 50 && !srv_got; i++)
		mica_yield();
	if (!srv_got)
		return result("ipc.reply_lost", "server never got the call", 0);
	mica_thread_kill((mica_handle_t)c, 0);
	srv_go = 1;
	yield_n(5);
	/* The server heard (and then exits; killing it is a no-op if it has). */
	if (srv_reply != MICA_EPEER)
		return result("ipc.reply_lost", "reply to a dead caller gave", srv_reply);
	mica_thread_kill((mica_handle_t)s, 0);
	mica_handle_close((mica_handle_t)s);
	mica_handle_close((mica_handle_t)c);
	mica_handle_close((mica_handle_t)e);
	result("ipc.reply_lost", 0, 0);
}

void test_threads(void)
{
	long sup = mica_endpoint_create();

	test_exit_notice((mica_handle_t)sup);
	test_kill((mica_handle_t)sup);
	test_create_errors((mica_handle_t)sup);
	test_priority_limits((mica_handle_t)sup);
	test_fault_delivery((mica_handle_t)sup);
	test_fault_without_pager((mica_handle_t)sup);
	test_reply_to_dead_caller();
	mica_handle_close((mica_handle_t)sup);
}
