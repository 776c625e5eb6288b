/*
 * Clients: the processes fs holds something for (descriptors they opened,
 * grants of file objects to them), so that what a process held goes when
 * it ends. Their pids are a set (idset.c: O(log n) lookups, bounded by
 * memory only). fs learns that processes ended from the pager's exit
 * watch (pager.exit_watch): a notification it polls (never blocking)
 * before each request that holds or reports something (open, create,
 * map_object, usage: ops.c), so an end the pager signalled before such a
 * request is seen by it. Reads and writes do not look, and the serving
 * thread has no bound notification, so their path stays the kernel's
 * fast one. When the poll finds a bit it asks pager.running about each
 * client and drops
 * what an ended one held: its descriptors are closed (fds_close_owner) and
 * its pid leaves the objects' lists (objects_forget; the pager drops its
 * grants itself at its exit). A pid the pager cannot answer for is kept.
 */
#include "fs.h"

#include <idl/pager_client.h>
#include <mica/error.h>

static mica_handle_t pager = MICA_HANDLE_NONE;
static mica_handle_t watch = MICA_HANDLE_NONE; /* the exit watch (WAIT), signalled by the pager */
static struct idset clients;

int clients_init(mica_handle_t p)
{
	int64_t n, sig;
	int rc;

	pager = p;
	if ((n = mica_notify_create()) < 0)
		return (int)n;
	watch = (mica_handle_t)n;
	if ((sig = mica_handle_mint((mica_handle_t)n, MICA_RIGHT_SIGNAL | MICA_RIGHT_COPY, 0)) < 0)
		return (int)sig;
	rc = pager_exit_watch(pager, (mica_handle_t)sig);
	mica_handle_close((mica_handle_t)sig); /* the pager has its copy */
	return rc;
}

int clients_add(uint64_t pid)
{
	return idset_add(&clients, pid);
}

void clients_poll(void)
{
	if (mica_notify_poll(watch) > 0)
		clients_sweep();
}

void clients_sweep(void)
{
	size_t k = 0;

	/* In place: the live (or unknown) ones are kept, in order. */
	for (size_t i = 0; i < clients.n; i++) {
		uint64_t pid = clients.v[i];
		uint32_t live = 1;

		if (pager_running(pager, pid, &live) < 0 || live) {
			clients.v[k++] = pid;
			continue;
		}
		(void)fds_close_owner(pid);
		objects_forget(pid);
	}
	clients.n = k;
	pages_trim(); /* a removed file's last close: its record back to the pager */
}
