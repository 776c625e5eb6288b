/*
 * The name service's test program (tests/system/test_init.py), one binary
 * in three roles chosen by argv[1]:
 *   echo    a server: registers nt.echo and serves idl/echo.idl;
 *   crash   a server that crashes before registering on its first run (it
 *           notes the run in nt.echo's store), and registers nt.crash after
 *           init restarts it;
 *   client  looks both up and calls them, and checks the refusals;
 *   mid     spawns an orphan and ends at once (its child outlives it);
 *   orphan  registers nt.orphan, and on the client's call tries
 *           pager.set_names and answers with the result (w0); ends on the
 *           next message;
 *   leave   spawns a child that blocks for ever (block), and ends: the
 *           child passes to init, which must end it at the end of the run;
 *   malloc  run under mem=256K (tests/system/test_limits.py): a malloc past
 *           the limit returns NULL (the pager refused the sbrk), a small
 *           one still works and its memory can be used;
 *   resolve spawned after the orphan's try: looks nt.echo up and calls it
 *           (the names handle it got must still be the real init's).
 *   silent  a server that never registers: it waits on an endpoint of its
 *           own for ever (init's registration deadline passes it by);
 *   ping    looks nt.echo up and calls it (an entry after a silent one).
 */
#include <idl/echo_client.h>
#include <idl/echo_server.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures; /* the exit code: a failed test fails the program, and so the run */

static void result(const char *id, bool ok, long detail)
{
	if (ok) {
		printf("TEST init.%s PASS\n", id);
	} else {
		printf("TEST init.%s FAIL %ld\n", id, detail);
		failures++;
	}
}

/* ---- the echo server: ping, and a store of one entry ---- */

static char stored_name[ECHO_PUT_NAME_MAX + 1];
static uint8_t stored[ECHO_PUT_DATA_MAX];
static uint32_t stored_len;

static int op_ping(void *ctx, uint64_t badge, uint64_t x, uint64_t *y)
{
	(void)ctx, (void)badge;
	*y = x + 1;
	return 0;
}

static int op_put(void *ctx, uint64_t badge, const char *name, const uint8_t *data,
                  uint32_t data_len, uint32_t *count)
{
	mica_handle_t h;

	(void)ctx, (void)badge;
	/*
	 * A call of the handler's own, with bytes, before it reads its
	 * in-parameters: it goes through this thread's IPC buffer, where the
	 * request arrived (ipc_serve copied it out first: init.nested_call).
	 */
	if (names_lookup(rt_names_handle(), "nt.nobody.at.all.here", &h) == 0)
		ipc_handle_drop(h);
	strcpy(stored_name, name);
	memcpy(stored, data, data_len);
	stored_len = data_len;
	*count = 1;
	return 0;
}

static int op_get(void *ctx, uint64_t badge, const char *name, uint8_t *data, uint32_t *data_len)
{
	(void)ctx, (void)badge;
	if (!stored_name[0] || strcmp(name, stored_name) != 0)
		return MICA_ENOENT;
	memcpy(data, stored, stored_len);
	*data_len = stored_len;
	return 0;
}

static const struct echo_ops echo_handlers = {.ping = op_ping, .put = op_put, .get = op_get};
static struct ipc_server server;

/* Make an endpoint, register a send-only copy of it as name, serve echo on it. */
static int serve_as(const char *name)
{
	int64_t r = mica_endpoint_create();

	if (r < 0)
		return 1;
	mica_handle_t ep = (mica_handle_t)r;

	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0)
		return 2;
	mica_handle_t send = (mica_handle_t)r;
	int rc = names_register_name(rt_names_handle(), name, send);

	if (rc < 0) {
		printf("nametest: register %s: error %s\n", name, mica_error_name(rc));
		return 3;
	}
	/* The same name again: taken. */
	rc = names_register_name(rt_names_handle(), name, send);
	if (strcmp(name, "nt.echo") == 0)
		result("duplicate", rc == MICA_EEXIST, rc);
	memset(&server, 0, sizeof(server)); /* mapped before a message lands in it */
	echo_server_init(&server, &echo_handlers, 0);
	return (int)ipc_serve(&server, ep);
}

/* ---- the crashing server ---- */

static int crash(void)
{
	mica_handle_t echo;
	uint8_t data[ECHO_GET_DATA_MAX];
	uint32_t len;
	int rc;

	memset(data, 0, sizeof(data)); /* mapped before the reply lands in it */
	rc = names_lookup(rt_names_handle(), "nt.echo", &echo);

	if (rc < 0) {
		printf("nametest: crash: no nt.echo: error %s\n", mica_error_name(rc));
		return 1;
	}
	if (echo_get(echo, "crashed", data, &len) == MICA_ENOENT) {
		uint32_t count;

		(void)echo_put(echo, "crashed", "1", 1, &count);
		printf("nametest: crashing on purpose\n");
		volatile uintptr_t nowhere = 8; /* no region there: the pager kills us */

		*(volatile int *)nowhere = 1;
	}
	return serve_as("nt.crash");
}

/* ---- the orphan: its parent (mid) ends first, then it tries to become the name service ---- */

static int orphan(void)
{
	int64_t r = mica_endpoint_create();
	struct mica_msg m = {0};
	uint64_t badge;

	if (r < 0)
		return 1;
	mica_handle_t ep = (mica_handle_t)r;

	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0)
		return 2;
	if (names_register_name(rt_names_handle(), "nt.orphan", (mica_handle_t)r) < 0)
		return 3;
	/* The client calls once its wait said mid has ended: we are an orphan by then. */
	if (mica_recv(ep, &m, 0, &badge) < 0 || (r = mica_endpoint_create()) < 0)
		return 4;
	int rc = pager_set_names(rt_startup_info()->pager, (mica_handle_t)r);

	m.label = 0;
	m.w[0] = (uint64_t)(int64_t)rc;
	/* The answer; the next message (the client's send) ends us. */
	return mica_reply_recv(ep, &m, 0, &badge) < 0 ? 5 : 0;
}

/* A process spawned after the orphan's try: its names handle still reaches init. */
static int resolve(void)
{
	mica_handle_t echo;
	uint64_t y = 0;

	if (rt_names_handle() == MICA_HANDLE_NONE)
		return 1;
	if (names_lookup(rt_names_handle(), "nt.echo", &echo) < 0)
		return 2;
	return echo_ping(echo, 6, &y) == 0 && y == 7 ? 0 : 3;
}

/* Spawn nametest.elf with args and wait for its end: reason * 100 + code, or an error. */
static long run(mica_handle_t pager, const char *args)
{
	uint64_t pid, code;
	uint32_t reason;
	int rc = pager_spawn(pager, "nametest.elf", args, &pid);

	if (rc < 0)
		return rc;
	while ((rc = pager_wait(pager, pid, &reason, &code)) == MICA_EAGAIN)
		mica_yield();
	return rc < 0 ? rc : (long)reason * 100 + (long)code;
}

/*
 * An orphan (its parent ended first) has no parent, as init has none; it
 * must still not take over the name service, and processes spawned after
 * its try must still reach init's.
 */
static void orphan_check(mica_handle_t pager, mica_handle_t names)
{
	mica_handle_t o = MICA_HANDLE_NONE;
	struct mica_msg m = {.label = 1};
	long rc = run(pager, "mid");

	/* It registers nt.orphan soon after mid's end (or before). */
	for (int i = 0; rc == 0 && i < 100000; i++) {
		if ((rc = names_lookup(names, "nt.orphan", &o)) != MICA_ENOENT)
			break;
		rc = 0;
		mica_yield();
	}
	if (rc == 0)
		rc = mica_call(o, &m, 0);
	result("orphan_set_names", rc == 0 && (int64_t)m.w[0] == MICA_EPERM,
	       rc ? rc : (long)(int64_t)m.w[0]);
	if (rc == 0) {
		m.label = 2;
		(void)mica_send(o, &m, 0);
	}
	rc = run(pager, "resolve");
	result("names_after_orphan", rc == 0, rc);
	/* An orphan that never ends: init must still end the run (test_init.py). */
	rc = run(pager, "leave");
	result("leave", rc == 0, rc);
}

/* ---- the client ---- */

static int client(void)
{
	mica_handle_t names = rt_names_handle(), echo = MICA_HANDLE_NONE, again;
	uint64_t y = 0;
	int rc;

	result("names_handle", names != MICA_HANDLE_NONE, 0);
	rc = names_lookup(names, "nt.echo", &echo);
	if (rc == 0)
		rc = echo_ping(echo, 41, &y);
	result("lookup_call", rc == 0 && y == 42, rc ? rc : (long)y);
	rc = names_lookup(names, "nt.nobody", &again);
	result("unknown", rc == MICA_ENOENT, rc);
	/* Bad names: empty, and a character outside [A-Za-z0-9._-]. */
	int64_t r = mica_endpoint_create();
	mica_handle_t mine = r < 0 ? MICA_HANDLE_NONE : (mica_handle_t)r;
	int empty = names_register_name(names, "", mine);
	int slash = names_register_name(names, "nt/bad", mine);

	result("bad_name", empty == MICA_EINVAL && slash == MICA_EINVAL, empty ? slash : empty);
	rc = names_register_name(names, "nt.echo", mine);
	result("duplicate_client", rc == MICA_EEXIST, rc);
	/* A handler that calls out before reading its request still reads it whole. */
	static const uint8_t sent[] = "through the IPC buffers, both ways, 0123456789";
	uint8_t got[ECHO_GET_DATA_MAX];
	uint32_t got_len = 0, count = 0;

	rc = echo_put(echo, "nt.nested", sent, sizeof(sent), &count);
	if (rc == 0)
		rc = echo_get(echo, "nt.nested", got, &got_len);
	result("nested_call",
	       rc == 0 && got_len == sizeof(sent) && memcmp(got, sent, sizeof(sent)) == 0,
	       rc ? rc : (long)got_len);
	/* The crashing server, restarted, registered nt.crash. */
	y = 0;
	rc = names_lookup(names, "nt.crash", &again);
	if (rc == 0)
		rc = echo_ping(again, 1, &y);
	result("restart", rc == 0 && y == 2, rc ? rc : (long)y);
	/* Only init may set the name service; module_read's refusals. */
	mica_handle_t pager = rt_startup_info()->pager;
	static uint8_t data[PAGER_MODULE_READ_DATA_MAX];
	uint32_t len = 0;
	uint64_t total = 0;

	rc = pager_set_names(pager, mine);
	result("set_names_refused", rc == MICA_EPERM, rc);
	rc = pager_module_read(pager, "nosuch.elf", 0, data, &len, &total);
	int past = pager_module_read(pager, "nametest.elf", UINT64_MAX, data, &len, &total);
	int end = pager_module_read(pager, "nametest.elf", 0, data, &len, &total);
	uint64_t size = total;
	int at_end = end ? end : pager_module_read(pager, "nametest.elf", size, data, &len, &total);
	result("module_read",
	       rc == MICA_ENOENT && past == MICA_ERANGE && end == 0 && size > 0 && at_end == 0 &&
	           len == 0,
	       rc != MICA_ENOENT ? rc : past);
	orphan_check(pager, names);
	return failures ? 1 : 0;
}

/* ---- the server that never registers, and the entry after it ---- */

static int silent(void)
{
	int64_t r = mica_endpoint_create();
	struct mica_msg m = {0};

	if (r < 0)
		return 1;
	printf("nametest: silent, never registering\n");
	for (;;)
		(void)mica_recv((mica_handle_t)r, &m, 0, 0);
}

static int ping(void)
{
	mica_handle_t echo = MICA_HANDLE_NONE;
	uint64_t y = 0;
	int rc = names_lookup(rt_names_handle(), "nt.echo", &echo);

	if (rc == 0)
		rc = echo_ping(echo, 6, &y);
	result("after_deadline", rc == 0 && y == 7, rc ? rc : (long)y);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *role = argc > 1 ? argv[1] : "";

	if (strcmp(role, "echo") == 0)
		return serve_as("nt.echo");
	if (strcmp(role, "crash") == 0)
		return crash();
	if (strcmp(role, "client") == 0)
		return client();
	if (strcmp(role, "mid") == 0) {
		uint64_t pid;

		return pager_spawn(rt_startup_info()->pager, "nametest.elf", "orphan", &pid) < 0;
	}
	if (strcmp(role, "malloc") == 0) {
		char *big = malloc(1 << 20), *small = malloc(16 << 10);
		bool ok = !big && small;

		if (small)
			memset(small, 0x5a, 16 << 10);
		printf("TEST limits.malloc %s\n", ok ? "PASS" : "FAIL");
		free(small);
		return ok ? 0 : 1;
	}
	if (strcmp(role, "leave") == 0) {
		uint64_t pid;

		return pager_spawn(rt_startup_info()->pager, "nametest.elf", "block", &pid) < 0;
	}
	if (strcmp(role, "block") == 0) {
		struct mica_msg m;
		int64_t r = mica_endpoint_create();

		/* Nobody else holds the endpoint: the receive never ends. */
		return r < 0 ? 1 : (int)mica_recv((mica_handle_t)r, &m, 0, 0) + 2;
	}
	if (strcmp(role, "orphan") == 0)
		return orphan();
	if (strcmp(role, "resolve") == 0)
		return resolve();
	if (strcmp(role, "silent") == 0)
		return silent();
	if (strcmp(role, "ping") == 0)
		return ping();
	printf("nametest: unknown role \"%s\"\n", role);
	return 1;
}
