/*
 * Death at every point, and stress (docs/TESTING.md). Every test ends with
 * the frame and object counts it started with (the pager's free frames and
 * the kernel's mappings, page tables and objects) and no task left
 * waiting; the servers must answer after each.
 *
 *   death.client_queued    a child queued on a call to us, killed by us (its parent)
 *   death.client_in_call   a child whose call we received, killed before we replied:
 *                          our reply_recv gets MICA_EPEER and we go on
 *   death.spawner_killed   a child spawning grandchildren in a loop, killed mid-way:
 *                          the orphans end on their own, nothing is left
 *   death.exit_after_spawn a child that spawns and exits at once
 *   death.server_killed    a server child killed with clients queued on it: they must
 *                          get an error, not wait for ever (alone: argument server_killed)
 *   death.server_name_dropped  and its name must be gone from the name service
 *   stress.spawn_churn     spawn and wait, one at a time and many at once
 *   stress.heap_churn      malloc/free, sbrk up and down, pager map/unmap, in children
 *   stress.many_clients    children calling kv and the pager at the same time
 *   stress.exhaust         a child maps memory until the pool is empty, frees it, again
 *
 * The same program is every child, chosen by its first argument.
 * Arguments of the parent: rounds=<n> (stress sizes scale with it).
 */
#include <idl/kv_client.h>
#include <malloc.h>
#include <stdlib.h>

#include "attack.h"

#define PAGE 4096

static mica_handle_t pager, names;
static uint64_t rounds = 1;
static uint64_t spawned; /* processes started, for the summary */

static bool warmup; /* the first pass, before the counts: no TEST lines */
static int failures;

static void result(const char *id, int bad, const char *why, long detail)
{
	if (warmup)
		return;
	failures += bad != 0;
	if (bad)
		printf("TEST ordeal.%s FAIL %s %ld\n", id, why, detail);
	else
		printf("TEST ordeal.%s PASS\n", id);
}

static int spawn(const char *args, uint64_t *pid)
{
	int rc = pager_spawn(pager, "ordeal.elf", args, pid);

	if (rc == 0)
		spawned++;
	return rc;
}

/* Yield n times (let children run). */
static void pause_for(unsigned n)
{
	while (n--)
		mica_yield();
}

/* ---- the children ---- */

/* Call the endpoint registered as `name` (once it is there); exit with -rc. */
static int child_client(const char *name)
{
	mica_handle_t ep;
	struct mica_msg m = {.label = 0x12345};

	while (names_lookup(names, name, &ep) != 0)
		mica_yield();
	int64_t rc = mica_call(ep, &m, NULL);

	return rc < 0 ? (int)-rc : 0;
}

/* A server that takes one call and never answers (waits on an endpoint nobody sends to). */
static int child_server(const char *name)
{
	int64_t e = mica_endpoint_create(), q = mica_endpoint_create();
	struct mica_msg m = {0};

	if (e < 0 || q < 0 || names_register_name(names, name, (mica_handle_t)e) != 0)
		return 1;
	mica_recv((mica_handle_t)e, &m, NULL, NULL);
	mica_recv((mica_handle_t)q, &m, NULL, NULL); /* for ever */
	return 2;
}

/* Spawn short children in a loop, never waiting for them. */
static int child_spawner(void)
{
	for (int i = 0; i < 40; i++) {
		uint64_t pid;

		pager_spawn(pager, "ordeal.elf", "short", &pid);
		mica_yield();
	}
	return 0;
}

static int child_heap(uint64_t seed)
{
	struct rng r = {seed};
	void *blocks[64] = {0};

	for (int i = 0; i < 3000; i++) {
		unsigned k = (unsigned)rng_below(&r, 64);

		if (blocks[k]) {
			free(blocks[k]);
			blocks[k] = NULL;
		} else {
			size_t n = 1 + rng_below(&r, rng_below(&r, 4) ? 256 : 64 * 1024);

			if ((blocks[k] = malloc(n)) != NULL)
				memset(blocks[k], (int)k, n);
		}
	}
	for (int k = 0; k < 64; k++)
		free(blocks[k]);
	if (heap_check() != 0)
		return 3;
	/* The pager's map and unmap, of every size up to 64 pages, touched. */
	for (int i = 0; i < 200; i++) {
		uint64_t at, n = 1 + rng_below(&r, 64);
		int rc = pager_map(pager, 0, n, MICA_MAP_READ | MICA_MAP_WRITE,
		                   rng_below(&r, 2) ? MICA_PAGER_MAP_FILL : 0, &at);

		if (rc < 0)
			return 4;
		((volatile uint8_t *)at)[rng_below(&r, n * PAGE)] = 1;
		if (pager_unmap(pager, at) < 0)
			return 5;
	}
	return 0;
}

static int child_kv(uint64_t id, uint64_t n)
{
	mica_handle_t kv;
	char key[32], val[16];
	uint32_t len;
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u;

	if (names_lookup(names, "kv", &kv) != 0)
		return 6;
	snprintf(key, sizeof(key), "ordeal.%lu", (unsigned long)id);
	for (uint64_t i = 0; i < n; i++) {
		int rc = kv_put(kv, key, &i, sizeof(i));

		if (rc == 0)
			rc = kv_get(kv, key, val, &len);
		if (rc == 0)
			rc = kv_remove(kv, key);
		if (rc == 0)
			rc = pager_stats(pager, &f, &t, &l, &d, &u);
		if (rc != 0)
			return 7;
	}
	mica_handle_close(kv);
	return 0;
}

/*
 * Back the stack pages this program uses (12 KiB: inside the 16 KiB a
 * program starts with, so no guard page is skipped), from the top down.
 */
__attribute__((noinline)) static void touch_stack(void)
{
	volatile uint8_t deep[12288];

	for (unsigned i = sizeof(deep); i >= 512; i -= 512)
		deep[i - 1] = 0;
}

/* Back the whole image (text, rodata, data, bss: user.ld's _end) and the stack. */
static void back_image(void)
{
	extern char _end[]; /* user.ld */

	for (uint64_t p = MICA_USER_BASE; p < (uint64_t)_end; p += MICA_PAGE_SIZE)
		(void)*(volatile const char *)p;
	touch_stack();
}

/* Map until the pool runs out, free it all; `rounds` times. Exit code 0; prints pages. */
static int child_hog(uint64_t n)
{
	static uint64_t at[4096];
	/*
	 * Back every page this child will touch before the pool runs out (its
	 * whole image, its table, its stack): a page fault with no frame left
	 * kills (MICA_PAGER_KILL_NOMEM).
	 */
	back_image();
	memset(at, 0, sizeof(at));
	printf("ordeal: hog starts\n");
	for (uint64_t round = 0; round < n; round++) {
		unsigned k = 0;
		uint64_t pages = 0, chunk = 1024; /* the most one map takes */
		int rc = 0;

		/* Big regions first, then smaller ones, down to single pages, until none is left.
		 */
		while (k < 4096) {
			rc = pager_map(pager, 0, chunk, MICA_MAP_READ | MICA_MAP_WRITE,
			               MICA_PAGER_MAP_FILL, &at[k]);
			if (rc == 0) {
				pages += chunk;
				k++;
			} else if (rc == MICA_ENOMEM && chunk > 1) {
				chunk /= 4;
			} else {
				break;
			}
		}
		if (rc != MICA_ENOMEM)
			return 8;
		printf("ordeal: hog round %lu: %lu pages until ENOMEM\n", (unsigned long)round,
		       (unsigned long)pages);
		while (k--)
			if (pager_unmap(pager, at[k]) < 0)
				return 9;
	}
	return 0;
}

static int child_main(int argc, char **argv)
{
	const char *role = argv[1];

	if (strcmp(role, "short") == 0) {
		pause_for(50);
		return 0;
	}
	if (strcmp(role, "client") == 0)
		return child_client(argv[2]);
	if (strcmp(role, "server") == 0)
		return child_server(argv[2]);
	if (strcmp(role, "spawner") == 0)
		return child_spawner();
	if (strcmp(role, "spawn_exit") == 0) {
		uint64_t pid;

		return pager_spawn(pager, "ordeal.elf", "short", &pid) == 0 ? 0 : 10;
	}
	if (strcmp(role, "heap") == 0)
		return child_heap(arg_num(argc, argv, "seed", 1));
	if (strcmp(role, "kv") == 0)
		return child_kv(arg_num(argc, argv, "id", 0), arg_num(argc, argv, "n", 100));
	if (strcmp(role, "hog") == 0)
		return child_hog(arg_num(argc, argv, "n", 2));
	return 99;
}

/* ---- the tests (the parent) ---- */

static mica_handle_t self_ep; /* registered as "ordeal": the clients call us */

/* Is the health of the servers good: pager stats, names lookup of kv, kv count? */
static int health(void)
{
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u;
	mica_handle_t kv;
	uint32_t n;
	int rc = pager_stats(pager, &f, &t, &l, &d, &u);

	if (rc == 0 && (rc = names_lookup(names, "kv", &kv)) == 0) {
		rc = kv_count(kv, &n);
		mica_handle_close(kv);
	}
	return rc;
}

/* The end of a test: counts back (waiting for orphans), servers answer. */
static void finish(const char *id, const struct counts *start, int bad, const char *why,
                   long detail)
{
	if (bad) {
		result(id, bad, why, detail);
		return;
	}
	int h = health();

	if (h) {
		result(id, 1, "health", h);
		return;
	}
	int diff = counts_settle(pager, id, start, 20000);

	result(id, diff, "counts", diff);
}

static void t_client_queued(void)
{
	struct counts c;
	uint64_t pid;
	uint32_t reason = 9;
	uint64_t code = 9;

	counts_take(pager, &c);
	int rc = spawn("client ordeal", &pid);

	if (rc < 0)
		return finish("death.client_queued", &c, 1, "spawn", rc);
	pause_for(300); /* it looks us up and calls: queued, since we do not receive */
	rc = pager_kill(pager, pid, 42);
	if (rc == 0)
		rc = child_wait(pager, pid, &reason, &code);
	finish("death.client_queued", &c, rc != 0 || reason != MICA_EXIT_KILLED || code != 42,
	       "end", rc ? rc : (long)reason * 1000 + (long)code);
}

static void t_client_in_call(void)
{
	struct counts c;
	uint64_t pid, badge;
	uint32_t reason = 9;
	uint64_t code = 9;
	struct mica_msg m = {0};

	counts_take(pager, &c);
	int rc = spawn("client ordeal", &pid);

	if (rc < 0)
		return finish("death.client_in_call", &c, 1, "spawn", rc);
	int64_t r = mica_recv(self_ep, &m, NULL, &badge); /* its call: we owe it a reply */

	if (r != 0 || m.label != 0x12345)
		return finish("death.client_in_call", &c, 1, "recv", r ? r : (long)m.label);
	rc = pager_kill(pager, pid, 43);
	if (rc == 0)
		rc = child_wait(pager, pid, &reason, &code);
	/* The caller is gone: the reply goes nowhere, reply_recv says so without receiving. */
	m.label = 0;
	r = mica_reply_recv(self_ep, &m, NULL, &badge);
	finish("death.client_in_call", &c,
	       rc != 0 || reason != MICA_EXIT_KILLED || code != 43 || r != MICA_EPEER, "end",
	       rc                ? rc
	       : r != MICA_EPEER ? r
	                         : (long)reason * 1000 + (long)code);
}

static void t_spawner_killed(void)
{
	struct counts c;
	uint64_t pid;
	uint32_t reason = 9;
	uint64_t code = 9;

	counts_take(pager, &c);
	int rc = spawn("spawner", &pid);

	if (rc < 0)
		return finish("death.spawner_killed", &c, 1, "spawn", rc);
	pause_for(40);
	rc = pager_kill(pager, pid, 44);
	if (rc == 0)
		rc = child_wait(pager, pid, &reason, &code);
	/* Killed while spawning (44), or it finished first (0): either way nothing may remain. */
	finish("death.spawner_killed", &c,
	       rc != 0 || !((reason == MICA_EXIT_KILLED && code == 44) ||
	                    (reason == MICA_EXIT_NORMAL && code == 0)),
	       "end", rc ? rc : (long)reason * 1000 + (long)code);
}

static void t_exit_after_spawn(void)
{
	struct counts c;
	int bad = 0;

	counts_take(pager, &c);
	for (int i = 0; i < 10 && !bad; i++) {
		uint64_t pid, code = 9;
		uint32_t reason = 9;
		int rc = spawn("spawn_exit", &pid);

		if (rc == 0)
			rc = child_wait(pager, pid, &reason, &code);
		bad = rc != 0 || reason != MICA_EXIT_NORMAL || code != 0;
	}
	finish("death.exit_after_spawn", &c, bad, "end", bad);
}

/* Wait for every pid in pids (n of them); how many did not end with exit code 0. */
static int wait_all(const uint64_t *pids, unsigned n)
{
	int bad = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t reason = 9;
		uint64_t code = 9;

		if (!pids[i] || child_wait(pager, pids[i], &reason, &code) != 0 || reason || code) {
			printf("ordeal: child %u: reason %u code %lu\n", i, reason,
			       (unsigned long)code);
			bad++;
		}
	}
	return bad;
}

static void t_spawn_churn(void)
{
	struct counts c;
	uint64_t pids[16] = {0};
	int bad = 0;

	counts_take(pager, &c);
	for (uint64_t i = 0; i < 30 * rounds && !bad; i++) {
		if (spawn("short", &pids[0]) < 0)
			bad++;
		else
			bad += wait_all(pids, 1);
	}
	for (int k = 0; k < 3 && !bad; k++) {
		for (unsigned i = 0; i < 16; i++)
			if (spawn("short", &pids[i]) < 0)
				pids[i] = 0;
		bad += wait_all(pids, 16);
	}
	finish("stress.spawn_churn", &c, bad, "children", bad);
}

static void t_heap_churn(void)
{
	struct counts c;
	uint64_t pids[4] = {0};
	char args[32];

	counts_take(pager, &c);
	for (unsigned i = 0; i < 4; i++) {
		snprintf(args, sizeof(args), "heap seed=%u", i + 1);
		spawn(args, &pids[i]);
	}
	int bad = wait_all(pids, 4);

	finish("stress.heap_churn", &c, bad, "children", bad);
}

static void t_many_clients(void)
{
	struct counts c;
	uint64_t pids[8] = {0};
	char args[40];

	counts_take(pager, &c);
	for (unsigned i = 0; i < 8; i++) {
		snprintf(args, sizeof(args), "kv id=%u n=%lu", i, (unsigned long)(100 * rounds));
		spawn(args, &pids[i]);
	}
	int bad = wait_all(pids, 8);

	finish("stress.many_clients", &c, bad, "children", bad);
}

static void t_exhaust(void)
{
	struct counts c;
	uint64_t pid = 0;
	char args[24];

	counts_take(pager, &c);
	snprintf(args, sizeof(args), "hog n=%lu", (unsigned long)(2 * rounds));
	spawn(args, &pid);
	int bad = wait_all(&pid, 1);

	finish("stress.exhaust", &c, bad, "child", bad);
}

/*
 * A server child killed while one client's call is received and two more
 * are queued: all three must end with MICA_EPEER, within a bound.
 */
static void t_server_killed(void)
{
	struct counts c;
	uint64_t srv, cl[3] = {0};
	uint32_t reason;
	uint64_t code;
	int bad = 0;

	counts_take(pager, &c);
	if (spawn("server ordeal.srv", &srv) < 0)
		return finish("death.server_killed", &c, 1, "spawn", 0);
	for (int i = 0; i < 3; i++)
		spawn("client ordeal.srv", &cl[i]);
	pause_for(500);
	/* pager.running says it runs, then that it has ended. */
	uint32_t live_before = 0, live_after = 1;
	int run_rc = pager_running(pager, srv, &live_before);

	pager_kill(pager, srv, 45);
	child_wait(pager, srv, &reason, &code);
	if (run_rc == 0)
		run_rc = pager_running(pager, srv, &live_after);
	/*
	 * Init drops its name without being asked (the pager's names.exited
	 * hint, or its sweep every second): test_attack.py checks that init's
	 * log says so before the line below.
	 */
	mica_sleep(1500 * MICA_NS_PER_MS);
	printf("ordeal: looking up ordeal.srv\n");
	/* Its name must go with it: a lookup now would hand out a dead server's endpoint. */
	mica_handle_t stale = MICA_HANDLE_NONE;
	int lr = MICA_EAGAIN;

	for (int k = 0; k < 2000 && lr != MICA_ENOENT; k++) {
		if ((lr = names_lookup(names, "ordeal.srv", &stale)) == 0)
			mica_handle_close(stale);
		mica_yield();
	}
	if (run_rc != 0 || live_before != 1 || live_after != 0)
		result("death.server_name_dropped", 1, "pager.running",
		       run_rc ? run_rc : (long)(live_before * 10 + live_after));
	else
		result("death.server_name_dropped", lr != MICA_ENOENT, "lookup", lr);
	for (int i = 0; i < 3; i++) {
		int rc = MICA_EAGAIN;

		for (int k = 0; k < 20000 && rc == MICA_EAGAIN; k++) {
			rc = pager_wait(pager, cl[i], &reason, &code);
			if (rc == MICA_EAGAIN)
				mica_yield();
		}
		if (rc == MICA_EAGAIN) {
			printf("ordeal: client %d still waiting after its server was killed\n", i);
			pager_kill(pager, cl[i], 0);
			child_wait(pager, cl[i], &reason, &code);
			bad++;
		} else if (reason != MICA_EXIT_NORMAL || code != (uint64_t)-MICA_EPEER) {
			printf("ordeal: client %d: reason %u code %lu\n", i, reason,
			       (unsigned long)code);
			bad++;
		}
	}
	finish("death.server_killed", &c, bad, "clients", bad);
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();

	if (!st)
		return 2;
	pager = st->pager;
	names = rt_names_handle();
	if (argc > 1 && strncmp(argv[1], "rounds=", 7) != 0 &&
	    strcmp(argv[1], "server_killed") != 0)
		return child_main(argc, argv);
	rounds = arg_num(argc, argv, "rounds", 1);

	int64_t e = mica_endpoint_create();

	if (e < 0 || names_register_name(names, "ordeal", (mica_handle_t)e) != 0) {
		printf("ordeal: cannot register\n");
		return 3;
	}
	self_ep = (mica_handle_t)e;
	/*
	 * Every path once before the counts: the pages they touch stay backed,
	 * and so does the whole image (a TEST line's format string, printed
	 * only after the counts, may sit on a page nothing else touched).
	 */
	health();
	warmup = true;
	back_image();
	t_exit_after_spawn();
	t_client_queued();
	t_client_in_call();
	t_spawner_killed();
	warmup = false;
	if (arg_has(argc, argv, "server_killed")) {
		/* Alone: a failure may leave a client or an endpoint behind. Once
		 * before the counts too: pages init and we touch only here stay backed. */
		warmup = true;
		t_server_killed();
		warmup = false;
		t_server_killed();
		return failures ? 1 : 0;
	}
	t_exit_after_spawn();
	t_client_queued();
	t_client_in_call();
	t_spawner_killed();
	t_spawn_churn();
	t_heap_churn();
	t_many_clients();
	t_exhaust();
	printf("ordeal: %lu processes spawned\n", (unsigned long)spawned);
	return failures ? 1 : 0;
}
