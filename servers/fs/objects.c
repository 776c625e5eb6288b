/*
 * Files as memory objects (docs/MEMORY_SERVERS.md, fs.map_object): fs is a
 * memory server. A file gets an object at its first map_object (the
 * pager's number, in a small table here), granted to each pid asked for;
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
#include <string.h>

/* One file's object: its number, and the pids it was granted to. */
struct fs_object {
	uint64_t id; /* 0: the slot is free */
	struct fs_file *file;
	uint64_t pids[FS_GRANTS_MAX];
	unsigned npids;
};

static mica_handle_t pager = MICA_HANDLE_NONE;
static struct fs_object objects[FS_OBJECTS_MAX];

static struct fs_object *by_file(const struct fs_file *f)
{
	for (unsigned i = 0; i < FS_OBJECTS_MAX; i++)
		if (objects[i].id && objects[i].file == f)
			return &objects[i];
	return NULL;
}

static struct fs_object *by_id(uint64_t id)
{
	for (unsigned i = 0; id && i < FS_OBJECTS_MAX; i++)
		if (objects[i].id == id)
			return &objects[i];
	return NULL;
}

int objects_init(mica_handle_t p, mica_handle_t ep)
{
	int64_t r;

	pager = p;
	/* The pager's own copy, badged: page_in and page_out are taken from it alone. */
	if ((r = mica_handle_mint(ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, FS_BADGE_PAGER)) < 0)
		return (int)r;
	int rc = pager_memobj_serve(pager, (mica_handle_t)r);

	mica_handle_close((mica_handle_t)r); /* the pager holds its copy */
	return rc;
}

/*
 * Forget the pids of o's grants whose processes have ended (pager.running:
 * pids are never reused, so an ended one cannot map again), so that a full
 * list makes room. A pid the pager cannot answer for is kept.
 */
static void forget_ended(struct fs_object *o)
{
	unsigned k = 0;

	for (unsigned i = 0; i < o->npids; i++) {
		uint32_t live = 1;

		if (pager_running(pager, o->pids[i], &live) < 0 || live)
			o->pids[k++] = o->pids[i];
	}
	o->npids = k;
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
	if (o) {
		for (unsigned i = 0; i < o->npids; i++)
			if (o->pids[i] == pid) {
				*object = o->id;
				return MICA_OK;
			}
		if (o->npids == FS_GRANTS_MAX)
			forget_ended(o);
		if (o->npids == FS_GRANTS_MAX)
			return MICA_ELIMIT;
	} else {
		for (unsigned i = 0; !o && i < FS_OBJECTS_MAX; i++)
			o = objects[i].id ? NULL : &objects[i];
		if (!o)
			return MICA_ELIMIT;
		if ((rc = pager_memobj_ctl(pager, MICA_MEMOBJ_CREATE, size,
		                           MICA_MAP_READ | MICA_MAP_WRITE, 0, &out)) < 0)
			return rc;
		*o = (struct fs_object){.id = out, .file = f};
	}
	rc = pager_memobj_ctl(pager, MICA_MEMOBJ_GRANT, o->id, pid, MICA_MAP_READ | MICA_MAP_WRITE,
	                      &out);
	if (rc < 0) {
		if (!o->npids) { /* new here: it goes again */
			(void)pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, o->id, 0, 0, &out);
			o->id = 0;
		}
		return rc;
	}
	o->pids[o->npids++] = pid;
	(void)clients_add(pid); /* else forget_ended makes room when the list is full */
	*object = o->id;
	return MICA_OK;
}

void objects_forget(uint64_t pid)
{
	for (unsigned i = 0; i < FS_OBJECTS_MAX; i++) {
		struct fs_object *o = &objects[i];
		unsigned k = 0;

		for (unsigned j = 0; o->id && j < o->npids; j++)
			if (o->pids[j] != pid)
				o->pids[k++] = o->pids[j];
		if (o->id)
			o->npids = k;
	}
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

void objects_drop(struct fs_file *f)
{
	struct fs_object *o = by_file(f);
	uint64_t out;

	if (!o)
		return;
	(void)pager_memobj_ctl(pager, MICA_MEMOBJ_DESTROY, o->id, 0, 0, &out);
	memset(o, 0, sizeof(*o));
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
