/*
 * Clients: the processes fs holds something for (descriptors they opened,
 * grants of file objects to them), so that what a process held goes when
 * it ends. Their pids are kept in an array sorted by pid (found by binary
 * search in O(log n), grown by doubling; bounded by memory only). fs
 * learns that processes ended from the pager's exit watch
 * (pager.exit_watch): a notification bound to the serving thread, so its
 * signal arrives as a message of the server loop (main.c) and is never
 * missed. It then asks pager.running about each client and drops what an
 * ended one held: its descriptors are closed (fds_close_owner) and its pid
 * leaves the objects' lists (objects_forget; the pager drops its grants
 * itself at its exit). A pid the pager cannot answer for is kept.
 */
#include "fs.h"

#include <idl/pager_client.h>
#include <mica/error.h>
#include <stdlib.h>

static mica_handle_t pager = MICA_HANDLE_NONE;
static uint64_t *pids; /* sorted, no repeats */
static size_t npids, cap;

int clients_init(mica_handle_t p)
{
	int64_t n, sig;
	int rc;

	pager = p;
	/* Bound to this thread: the loop's receive returns its bits as a kernel message. */
	if ((n = mica_notify_create()) < 0)
		return (int)n;
	if ((rc = (int)mica_notify_bind((mica_handle_t)n)) < 0)
		return rc;
	if ((sig = mica_handle_mint((mica_handle_t)n, MICA_RIGHT_SIGNAL | MICA_RIGHT_COPY, 0)) < 0)
		return (int)sig;
	rc = pager_exit_watch(pager, (mica_handle_t)sig);
	mica_handle_close((mica_handle_t)sig); /* the pager has its copy */
	return rc;
}

/* The index of the first pid >= pid. */
static size_t lower_bound(uint64_t pid)
{
	size_t lo = 0, hi = npids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pids[mid] < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int clients_add(uint64_t pid)
{
	size_t i = lower_bound(pid);

	if (i < npids && pids[i] == pid)
		return MICA_OK;
	if (npids == cap) {
		size_t n = cap ? cap * 2 : 16;
		uint64_t *p = realloc(pids, n * sizeof(*p));

		if (!p)
			return MICA_ENOMEM;
		pids = p;
		cap = n;
	}
	for (size_t k = npids; k > i; k--)
		pids[k] = pids[k - 1];
	pids[i] = pid;
	npids++;
	return MICA_OK;
}

void clients_sweep(void)
{
	size_t k = 0;

	for (size_t i = 0; i < npids; i++) {
		uint32_t live = 1;

		if (pager_running(pager, pids[i], &live) < 0 || live) {
			pids[k++] = pids[i];
			continue;
		}
		(void)fds_close_owner(pids[i]);
		objects_forget(pids[i]);
	}
	npids = k;
	pages_trim(); /* a removed file's last close: its record back to the pager */
}
