/*
 * Files as memory objects (docs/MEMORY_SERVERS.md, fs.map_object): fs is a
 * memory server. A file gets an object at its first map_object (the
 * pager's number; found by file through the file's front-end pointer, by
 * number in an index sorted by number: O(log n), no limit but memory),
 * granted to each pid asked for (a set per object, left by a pid when its
 * process ends: clients.c);
 * the pager calls page_in and page_out (idl/memobj.idl) on fs's own
 * endpoint through a copy badged FS_BADGE_PAGER, and they are served
 * from and into the file's pages (store_page, store_page_put). The object
 * follows the file's size (RESIZE) and goes with the file (DESTROY).
 *
 * One thread serves both interfaces (objects_dispatch picks by the
 * label's interface), so no lock guards the store. That is safe because
 * fs never waits for the pager's workers: RESIZE, DESTROY, GRANT and the
 * page allocations are answered by the pager's main thread while a worker
 * waits on us.
 */
#include "fs.h"

#include <idl/fs_server.h>
#include <idl/memobj_server.h>
#include <idl/pager_client.h>
#include <mica/error.h>
#include <mica/idl.h>
#include <mica/pager.h>
#include <stdlib.h>
#include <string.h>

/* One file's object: its number, and the pids it was granted to. */
struct fs_object {
	uint64_t id;
	struct fs_file *file; /* whose front-end pointer is this record (store_front) */
	struct idset pids;
};

static mica_handle_t pager = MICA_HANDLE_NONE;
static void *scratch; /* a page of ours the pager copies a dirty page into (objects_pull) */
/* Every object, sorted by number (binary search: O(log n); the pager's numbers only grow). */
static struct fs_object **objects;
static size_t nobjects, cap;

static struct fs_object *by_file(const struct fs_file *f)
{
	return store_front(f);
}

/* The index of the first object numbered id or more. */
static size_t lower_bound(uint64_t id)
{
	size_t lo = 0, hi = nobjects;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (objects[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct fs_object *by_id(uint64_t id)
{
	size_t i = lower_bound(id);

	return i < nobjects && objects[i]->id == id ? objects[i] : NULL;
}

/* Room for one more object in the index: MICA_OK or MICA_ENOMEM. */
static int index_reserve(void)
{
	if (nobjects < cap)
		return MICA_OK;
	size_t n = cap ? cap * 2 : 8;
	struct fs_object **v = realloc(objects, n * sizeof(*v));

	if (!v)
		return MICA_ENOMEM;
	objects = v;
	cap = n;
	return MICA_OK;
}

/* Into the index (room reserved), at its place by number. */
static void index_insert(struct fs_object *o)
{
	size_t i = lower_bound(o->id);

	for (size_t k = nobjects; k > i; k--)
		objects[k] = objects[k - 1];
	objects[i] = o;
	nobjects++;
}

/* Out of the index and off its file, and freed. */
static void object_free(struct fs_object *o)
{
	size_t i = lower_bound(o->id);

	if (i < nobjects && objects[i] == o) {
		for (size_t k = i + 1; k < nobjects; k++)
			objects[k - 1] = objects[k];
		nobjects--;
	}
	store_set_front(o->file, NULL);
	idset_free(&o->pids);
	free(o);
}

int objects_init(mica_handle_t p, mica_handle_t ep)
{
	int64_t r;

	pager = p;
	if (!(scratch = page_alloc()))
		return MICA_ENOMEM;
	/* The pager's own copy, badged: page_in and page_out are taken from it alone. */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, FS_BADGE_PAGER)) < 0)
		return (int)r;
	int rc = pager_memobj_serve(pager, (mica_handle_t)r);

	mica_handle_close((mica_handle_t)r); /* the pager holds its copy */
	return rc;
}

int objects_map(struct fs_file *f, uint64_t pid, uint64_t *object)
{
	uint64_t size, out;
	uint32_t flags;
	struct fs_object *o = by_file(f);
	int rc;

	/* The file: writable, within an object's largest size. */
	store_stat(f, &size, &flags);
	if (flags & FS_READONLY)
		return MICA_EPERM;
	if (size > MICA_MEMOBJ_MAX_SIZE)
		return MICA_ERANGE;
	if (o && idset_has(&o->pids, pid)) {
		*object = o->id;
		return MICA_OK;
	}
	/* Our own room first (nothing to undo at the pager), then the pager's calls. */
	if ((rc = clients_add(pid)) < 0)
		return rc;
	bool made = !o;

	if (made) {
		if (index_reserve() < 0 || !(o = calloc(1, sizeof(*o))))
			return MICA_ENOMEM;
		if ((rc = pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, size,
		                           MICA_MAP_READ | MICA_MAP_WRITE, 0, &out)) < 0) {
			free(o);
			return rc;
		}
		o->id = out;
		o->file = f;
		index_insert(o);
		store_set_front(f, o);
	}
	if ((rc = idset_add(&o->pids, pid)) < 0 ||
	    (rc = pager_memobj_ctl(pager, MICA_MEMOBJ_GRANT, o->id, pid,
	                           MICA_MAP_READ | MICA_MAP_WRITE, &out)) < 0) {
		(void)idset_remove(&o->pids, pid);
		if (made) { /* new here: it goes again */
			(void)pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, o->id, 0, 0, &out);
			object_free(o);
		}
		return rc;
	}
	*object = o->id;
	return MICA_OK;
}

void objects_forget(uint64_t pid)
{
	for (size_t i = 0; i < nobjects; i++)
		(void)idset_remove(&objects[i]->pids, pid);
}

int objects_resize(struct fs_file *f, uint64_t size)
{
	struct fs_object *o = by_file(f);
	uint64_t out;

	if (!o)
		return MICA_OK;
	if (size > MICA_MEMOBJ_MAX_SIZE)
		return MICA_ERANGE;
	return pager_memobj_ctl(pager, MICA_MEMOBJ_RESIZE, o->id, size, 0, &out);
}

int objects_write(struct fs_file *f, uint64_t offset, const void *data, uint32_t len)
{
	struct fs_object *o = by_file(f);
	uint64_t pages;

	/* The pager's cached pages take the bytes the store took (pager.memobj_write). */
	return o && len ? pager_memobj_write(pager, o->id, offset, data, len, &pages) : MICA_OK;
}

int objects_pull(struct fs_file *f, uint64_t offset, uint32_t len)
{
	struct fs_object *o = by_file(f);
	uint64_t size, dirty;
	uint32_t flags;
	int rc;

	if (!o || !len)
		return MICA_OK;
	store_stat(f, &size, &flags);
	if (offset >= size)
		return MICA_OK;
	uint64_t end = len < size - offset ? offset + len : size;

	for (uint64_t idx = offset / FS_PAGE; idx * FS_PAGE < end; idx++) {
		/* Dirty in the pager? Only then a page here first (a hole gets one), then the
		 * bytes. */
		if ((rc = pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o->id, idx * FS_PAGE, 0,
		                           &dirty)) < 0)
			return rc;
		if (!dirty)
			continue;
		if (!store_page(f, idx)) {
			memset(scratch, 0, FS_PAGE); /* zeros: what the hole reads */
			if ((rc = store_page_put(f, idx, scratch)) < 0)
				return rc; /* MICA_ENOMEM: nothing changed, the page stays dirty */
		}
		if ((rc = pager_memobj_ctl(pager, MICA_MEMOBJ_WRITEBACK, o->id, idx * FS_PAGE,
		                           (uint64_t)(uintptr_t)scratch, &dirty)) < 0)
			return rc;
		if (dirty)
			(void)store_page_put(f, idx,
			                     scratch); /* the page is there: no allocation */
	}
	return MICA_OK;
}

void objects_drop(struct fs_file *f)
{
	struct fs_object *o = by_file(f);
	uint64_t out;

	if (!o)
		return;
	(void)pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, o->id, 0, 0, &out);
	object_free(o);
}

/* ---- idl/memobj.idl, called by the pager ---- */

/* The file page of a request: from the pager, one page, page aligned. */
static int request(uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                   struct fs_object **o)
{
	if (badge != FS_BADGE_PAGER)
		return MICA_EPERM; /* a client's message: the window would be any address */
	if (!(*o = by_id(object)))
		return MICA_ENOENT;
	if (npages != 1 || offset % FS_PAGE)
		return MICA_EINVAL;
	return MICA_OK;
}

static int page_in(void *ctx, uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                   uint64_t window)
{
	struct fs_object *o;
	uint64_t size;
	uint32_t flags;
	int rc = request(badge, object, offset, npages, &o);

	(void)ctx;
	if (rc)
		return rc;
	store_stat(o->file, &size, &flags);
	if (offset >= size)
		return MICA_ERANGE;
	const void *page = store_page(o->file, offset / FS_PAGE);

	if (page) /* a hole: the window's zeros */
		memcpy((void *)window, page, FS_PAGE);
	return MICA_OK;
}

static int page_out(void *ctx, uint64_t badge, uint64_t object, uint64_t offset, uint64_t npages,
                    uint64_t window)
{
	struct fs_object *o;
	int rc = request(badge, object, offset, npages, &o);

	(void)ctx;
	return rc ? rc : store_page_put(o->file, offset / FS_PAGE, (const void *)window);
}

static const struct memobj_ops memobj_handlers = {.page_in = page_in, .page_out = page_out};

int objects_dispatch(const void *ops, void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	/* idl/memobj.idl from the pager's copy only: to a client, fs has no such interface. */
	if (MICA_IDL_LABEL_IFACE(req->m.label) == 5 && req->badge == FS_BADGE_PAGER)
		return memobj_dispatch(&memobj_handlers, ctx, req, rep);
	return fs_dispatch(ops, ctx, req, rep);
}
