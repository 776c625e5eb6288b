/*
 * fs: the file server (servers/fs/README.md). Reads the boot modules' list
 * from the pager, makes an endpoint, registers a send-only copy of it with
 * init as "fs", and serves idl/fs.idl on it (the handlers: ops.c; the
 * files: store.c), and idl/memobj.idl for the pager (objects.c: files as
 * memory objects).
 */
#include <idl/fs_server.h>
#include <idl/names_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

static struct ipc_server server; /* 8 KiB of buffers: not on the stack */

static int fail(const char *step, int64_t rc, int code)
{
	printf("fs: %s: error %s\n", step, mica_error_name(rc));
	return code;
}

int main(void)
{
	const struct mica_startup *st = rt_startup_info();
	int64_t r;

	if (!st)
		return fail("startup info", MICA_EINVAL, 1);
	pages_init(st->pager);
	store_init(modules_read);
	if ((r = modules_load(st->pager)) < 0)
		return fail("modules", r, 2);
	if ((r = mica_endpoint_create()) < 0)
		return fail("endpoint", r, 3);
	mica_handle_t ep = (mica_handle_t)r;

	/* A memory server too (objects.c): the pager gets a copy badged its own. */
	if ((r = objects_init(st->pager, ep)) < 0)
		return fail("memobj_serve", r, 7);
	/* Told when processes end (clients.c): their descriptors close. */
	if ((r = clients_init(st->pager)) < 0)
		return fail("exit_watch", r, 8);
	/*
	 * Others get a send-only copy: only we receive on ep. Unbadged: the name
	 * service badges each client's copy with its pid (idl/names.idl, lookup).
	 */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0)) < 0)
		return fail("mint", r, 4);
	if ((r = names_register_name(rt_names_handle(), "fs", (mica_handle_t)r)) < 0)
		return fail("register", r, 5);
	/* The pager backs pages on first touch; the kernel copies only into mapped ones. */
	memset(&server, 0, sizeof(server));
	/* One loop serves both idl/fs.idl and the pager's idl/memobj.idl (objects_dispatch). */
	ipc_server_init(&server, objects_dispatch, &fs_handlers, 0);
	r = ipc_serve(&server, ep);
	return fail("serving ended", r, 6);
}
