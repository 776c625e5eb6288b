/*
 * init: the first process the pager starts (init=init.elf). It serves the
 * name service (idl/names.idl) on its own endpoint, hands that endpoint to
 * the pager (pager.set_names) so that every later process finds it in its
 * startup info, starts what the manifest module lists and supervises it
 * (README.md), and the orphans it adopts (orphans.c). Arguments: `exit_when_done` (the pager adds
 * it for the kernel command line option init.exit_when_done), `manifest=<module>`.
 */
#include <mica/errname.h>
#include <mica/notify.h>
#include <startup.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "init.h"

mica_handle_t init_pager;
static bool exit_when_done;
static struct ipc_server server; /* 8 KiB of buffers: not on the stack */

/* With exit_when_done, once every program has ended: end the servers and exit. */
static void maybe_exit(void)
{
	if (!exit_when_done || !supervise_done())
		return;
	unsigned failed = supervise_failures();

	supervise_stop_all();
	orphans_stop_all(); /* adopted processes do not hold the run up */
	printf("init: done, %u program%s failed\n", failed, failed == 1 ? "" : "s");
	exit(failed ? 1 : 0); /* through the pager and the kernel, QEMU's exit status */
}

/* How long to wait for a message: until supervision or the names' sweep is due. */
static uint64_t timeout(void)
{
	uint64_t a = supervise_timeout(), b = names_timeout();

	return a < b ? a : b;
}

/* Every message: the names interface, then a look at the children (and maybe the end). */
static int dispatch(const void *ops, void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	int rc = names_dispatch(ops, ctx, req, rep);

	supervise_poll();
	orphans_poll();
	names_sweep();
	maybe_exit();
	server.timeout_ns = timeout();
	return rc;
}

/*
 * The kernel's messages: the exit hint (our notification, bound to our
 * receive, which the pager signals when any process ends) is a look at the
 * children and at the owners of names. A hint signalled while we were busy is still set at the next
 * receive, which then returns at once: no exit waits for another message.
 */
static void on_kernel(void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	(void)ctx;
	rep->m.label = MICA_FAULT_KILL;
	if (req->m.label != MICA_LABEL_NOTIFY)
		return;
	supervise_poll();
	orphans_poll();
	names_exit_seen();
	names_sweep();
	maybe_exit();
	server.timeout_ns = timeout();
}

/* The exit hint: a notification bound to our receive, its signal right given to the pager. */
static void exit_hint(void)
{
	int64_t n = mica_notify_create();
	int rc;

	if (n < 0 || mica_notify_bind((mica_handle_t)n) < 0) {
		printf("init: no exit hint: error %s (names.exited it is)\n", mica_error_name(n));
		return;
	}
	int64_t sig = mica_handle_mint((mica_handle_t)n, MICA_RIGHT_SIGNAL | MICA_RIGHT_COPY, 0);
	if (sig < 0 || (rc = pager_set_exit_hint(init_pager, (mica_handle_t)sig)) < 0)
		printf("init: pager.set_exit_hint failed (names.exited it is)\n");
	if (sig >= 0)
		mica_handle_close((mica_handle_t)sig); /* the pager has its copy */
}

/* No message in time: a look at the children, the deadlines and the names all the same. */
static void idle(void *ctx)
{
	(void)ctx;
	supervise_poll();
	names_sweep();
	maybe_exit();
	server.timeout_ns = timeout();
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	const char *manifest = "manifest";
	int64_t r;
	int rc;

	rt_stdout_direct(); /* we are the name service the console's lookup calls */
	if (!st) {
		printf("init: no startup info\n");
		return 1;
	}
	init_pager = st->pager;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "exit_when_done") == 0)
			exit_when_done = true;
		else if (strncmp(argv[i], "manifest=", 9) == 0)
			manifest = argv[i] + 9;
	}
	/* Our endpoint, and the pager hands it out from now on. */
	if ((r = mica_endpoint_create()) < 0) {
		printf("init: no endpoint: error %s\n", mica_error_name(r));
		return 2;
	}
	mica_handle_t ep = (mica_handle_t)r;

	if ((rc = pager_set_names(init_pager, ep)) < 0) {
		printf("init: pager.set_names: error %s\n", mica_error_name(rc));
		return 3;
	}
	exit_hint();
	if ((rc = manifest_load(manifest)) < 0)
		printf("init: no manifest \"%s\": error %s\n", manifest, mica_error_name(rc));
	printf("init: %u entries\n", nentries);
	supervise_poll(); /* starts the first entries */
	maybe_exit();
	/*
	 * The kernel copies messages only into pages that are mapped, and the
	 * pager backs ours on first touch: touch the loop's buffers first.
	 */
	memset(&server, 0, sizeof(server));
	ipc_server_init(&server, dispatch, &names_handlers, 0);
	server.req_max = NAMES_REQ_MAX; /* names requests arrive in the IPC buffer */
	server.idle = idle;
	server.kernel = on_kernel;
	server.timeout_ns = timeout();
	r = ipc_serve(&server, ep);
	printf("init: serving ended: error %s\n", mica_error_name(r));
	return 4;
}
