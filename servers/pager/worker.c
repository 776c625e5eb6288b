/*
 * The pager's threads and the token that lets only one of them touch the
 * pager's state: who holds it receives on the pager endpoint and serves.
 * Everything else in the pager is single-threaded code run by the token's
 * holder, so nothing there is locked.
 *
 * Why threads: a fault on a memory object's page waits for a memory
 * server (memobj.c), and the kernel lets a thread owe only the reply to
 * the last call it received (docs/ABI.md): the thread that received the
 * fault must keep it, and wait. So before it waits it hands the token to
 * a spare thread (or starts one), which serves everyone else meanwhile;
 * when its wait is over it asks for the token back with a message on the
 * pager endpoint (WORKER_LABEL_TOKEN), which whoever serves then answers
 * by handing it over and becoming a spare. The waiting thread touches no
 * shared state while it waits, and returns to the server loop (which
 * replies for it) only with the token in hand.
 */
#include "pager.h"

#define STACK_ORDER 3  /* each worker's stack: 2^3 pool frames, 32 KiB */
#define SRV_ORDER   2  /* its server loop's buffers: 2^2 frames */
#define WORKER_PRIO 16 /* the pager's priority (the first task's) */

/* Bits of a worker's notification. */
#define WAKE_SERVE 1ULL /* the token is yours: serve */
#define WAKE_EXIT  2ULL /* worker 0 only: the pager ends (worker_exit) */

/* The badge of the pager's own send handle: no pid is this large (SPACE_PID_MASK). */
#define WORKER_BADGE (1ULL << 63)

struct worker {
	mica_handle_t note;   /* its notification (WAKE_*) */
	mica_handle_t thread; /* its thread (to end it when the pager ends); NONE for worker 0 */
	struct worker *next;  /* in the spare list */
	struct ipc_server *srv;
	uint64_t stack_top; /* worker_reserve: pool frames, reached through the physmap */
};

static struct worker workers[WORKER_MAX + 1];    /* 0: the first thread */
static unsigned started = 1;                     /* workers that have a thread */
static struct worker *spares;                    /* waiting for the token */
static unsigned current;                         /* the worker holding the token */
static mica_handle_t self_ep = MICA_HANDLE_NONE; /* pager_ep, send only, WORKER_BADGE */
static void (*setup)(struct ipc_server *srv);
static int64_t exit_code = -1;      /* set by worker_exit: worker 0 ends the pager with it */
static struct ipc_server first_srv; /* worker 0's */

_Static_assert(sizeof(struct ipc_server) <= (MICA_PAGE_SIZE << SRV_ORDER),
               "a worker's server loop fits its frames");

/*
 * Take every worker's stack and server buffers from the pool now, at the
 * pager's start (before its first count line, so the pool's counts stay
 * what they are while workers start and stop; and not in the pager's
 * bss, which the kernel would zero before its ready line). Reached
 * through the physmap: nothing to map. 0, or MICA_ENOMEM.
 */
int worker_reserve(void)
{
	uint64_t f, g;

	workers[0].srv = &first_srv;
	for (unsigned i = 1; i <= WORKER_MAX; i++) {
		if (buddy_alloc(&pool, STACK_ORDER, &f) < 0 ||
		    buddy_alloc(&pool, SRV_ORDER, &g) < 0)
			return MICA_ENOMEM;
		workers[i].stack_top = (uint64_t)(uintptr_t)PHYS((f * MICA_PAGE_SIZE) +
		                                                 (MICA_PAGE_SIZE << STACK_ORDER));
		workers[i].srv = PHYS(g * MICA_PAGE_SIZE);
	}
	return 0;
}

/* The worker that holds the token. */
unsigned worker_current(void)
{
	return current;
}

/* The server loop struct of worker i (the first thread's is main.c's). */
struct ipc_server *worker_server(unsigned i)
{
	return workers[i].srv;
}

/*
 * Set up: the first thread is worker 0 and holds the token; make_srv sets
 * up a worker's server loop as main.c sets up its own. Returns 0 or a
 * kernel error (no notification, no handle).
 */
int worker_init(void (*make_srv)(struct ipc_server *srv))
{
	int64_t r;

	setup = make_srv;
	workers[0].thread = MICA_HANDLE_NONE;
	if ((r = mica_notify_create()) < 0)
		return (int)r;
	workers[0].note = (mica_handle_t)r;
	if ((r = mica_handle_mint(pager_ep, MICA_RIGHT_SEND, WORKER_BADGE)) < 0)
		return (int)r;
	self_ep = (mica_handle_t)r;
	return 0;
}

/* Worker 0 ends the pager: every other thread first, then itself with exit_code. */
static __attribute__((noreturn)) void end_pager(void)
{
	for (unsigned i = 1; i < started; i++)
		(void)mica_thread_kill(workers[i].thread, 0);
	mica_thread_exit(exit_code);
}

/* Wait until worker me is handed the token (worker 0 also ends the pager here when told to). */
static void wait_token(unsigned me)
{
	for (;;) {
		int64_t w = mica_notify_wait(workers[me].note);

		if (me == 0 && exit_code >= 0)
			end_pager();
		if (w > 0 && (w & WAKE_SERVE))
			return;
	}
}

/* A new worker's thread: it starts with the token, serving. */
static void worker_entry(uint64_t i)
{
	setup(workers[i].srv);
	(void)ipc_serve(workers[i].srv, pager_ep);
	mica_thread_exit(0); /* the endpoint is gone: nothing is left to serve */
}

/* Start worker i (a thread on its own stack, a notification). 0 or a kernel error. */
static int worker_start(unsigned i)
{
	int64_t r;

	if ((r = mica_notify_create()) < 0)
		return (int)r;
	workers[i].note = (mica_handle_t)r;
	struct mica_thread_params p = {
	    .entry = (uint64_t)(uintptr_t)worker_entry,
	    /* 8 below a 16-byte boundary, as after a call */
	    .stack_top = workers[i].stack_top - 8,
	    .arg = i,
	    .priority = WORKER_PRIO,
	    .pager = MICA_HANDLE_NONE,
	    .supervisor = MICA_HANDLE_NONE,
	    .max_priority = WORKER_PRIO,
	};

	if ((r = mica_thread_create(boot->aspace, &p)) < 0) {
		mica_handle_close(workers[i].note);
		return (int)r;
	}
	workers[i].thread = (mica_handle_t)r;
	return 0;
}

/*
 * The token's holder is about to wait (for a memory server): hand the
 * token to a spare worker, or start one. Returns the caller's worker
 * number for worker_acquire, or MICA_EBUSY (every worker waits already,
 * or no thread could be started): then the caller must not wait.
 */
int worker_release(void)
{
	unsigned me = current;
	struct worker *w = spares;

	if (w) {
		spares = w->next;
		current = (unsigned)(w - workers);
		(void)mica_notify_signal(w->note, WAKE_SERVE);
		return (int)me;
	}
	if (started > WORKER_MAX || worker_start(started) < 0)
		return MICA_EBUSY;
	current = started++;
	return (int)me;
}

/*
 * Take the token back for worker me (what worker_release returned): ask
 * whoever serves now (a message on the pager endpoint) and wait for it.
 */
void worker_acquire(unsigned me)
{
	struct mica_msg m = {.label = WORKER_LABEL_TOKEN, .w = {me}};

	/* The send waits until the server takes it: it never fails while the pager runs. */
	(void)mica_send(self_ep, &m, 0);
	wait_token(me);
}

/*
 * A message on the pager endpoint that is the workers' own: worker w0
 * wants the token back. The holder hands it over and becomes a spare,
 * returning once it holds the token again. Returns false for any other
 * message.
 */
bool worker_message(const struct ipc_msg *req)
{
	unsigned me = current, want = (unsigned)req->m.w[0];

	if (req->m.label != WORKER_LABEL_TOKEN || req->badge != WORKER_BADGE)
		return false;
	if (want > WORKER_MAX || want == me)
		return true; /* never sent: our own handle carries only valid numbers */
	workers[me].next = spares;
	spares = &workers[me];
	current = want;
	(void)mica_notify_signal(workers[want].note, WAKE_SERVE);
	wait_token(me);
	return true;
}

/*
 * End the pager with code once nothing is left to serve: at once if the
 * caller is the first thread; else the first thread is told (it waits
 * for the token, or will ask for it) and ends every thread, and the
 * caller goes on serving until then.
 */
void worker_exit(int64_t code)
{
	exit_code = code;
	if (current == 0)
		end_pager();
	(void)mica_notify_signal(workers[0].note, WAKE_EXIT);
}
