/*
 * Memory objects served by other servers (docs/MEMORY_SERVERS.md): a
 * memory server registers (pager.memobj_serve) and creates objects, each
 * with a size and rights (pager.memobj_ctl); processes map them
 * (pager.memobj_map), shared or private. The pager keeps a cache of each
 * object's pages: a fault on a page not cached asks the object's server
 * for it (memobj.page_in, idl/memobj.idl) through a fresh frame mapped
 * into the server's window for that request only; shared mappings map
 * the cached frame itself, so every sharer sees every write; private ones
 * map it read-only and copy it at the first write. Dirty pages (those of
 * a shared writable mapping) go back to the server (memobj.page_out) when
 * the mapping is synced or unmapped. A wait on a server runs on a worker
 * thread of its own (worker.c), bounded by the call timeout, so the pager
 * never waits for a server: a server that dies or does not answer in time
 * fails the faults waiting on it (MICA_PAGER_KILL_SERVER, _TIMEOUT).
 */
#include <idl/memobj_client.h>

#include "pager.h"

#define PAGE MICA_PAGE_SIZE

/* A page of an object held in the pager: one frame reference is the cache's. */
struct cpage {
	struct idnode node; /* key: the page's index in the object */
	uint64_t pa;
	bool dirty; /* mapped writable by a shared mapping since it was last written back */
};

/*
 * Who else may map an object: a process and its descendants, with rights.
 * Each grant is in two lists: its object's, and its grantee's (struct
 * grantee, found by pid in O(log n)), so that both the object's end and
 * the grantee's end free it (memobj_space_gone: an ended pid's grants are
 * of no use, pids are never reused).
 */
struct grant {
	struct grant *next, **prev;   /* in its object's list */
	struct grant *pnext, **pprev; /* in its grantee's list */
	struct memobj *obj;
	uint64_t pid;
	uint32_t rights;
};

/* The grants one process holds. */
struct grantee {
	struct idnode node; /* key: its pid */
	struct grant *grants;
};

/* One mapping of an object: the data of its region (REGION_OBJECT). */
struct mapping {
	struct mapping *next; /* in its object's list */
	struct memobj *obj;   /* NULL once the object is gone */
	uint64_t serial;      /* never reused: tells a mapping from a later one at its place */
	uint64_t pid;         /* the process it is in */
	uint64_t start, end;  /* the region */
	uint64_t offset;      /* the object's byte at start */
	uint32_t flags;       /* MICA_MEMOBJ_SHARED */
	uint32_t gone_code;   /* the object is gone: the kill code of a touch */
};

struct memobj {
	struct idnode node; /* key: the object's number (from 1, never reused) */
	uint64_t size;      /* bytes */
	uint32_t rights;    /* the most a mapping may have */
	uint64_t owner;     /* the server's pid */
	struct idtree pages;
	struct mapping *maps;
	uint64_t nmaps;
	struct grant *grants;
	uint64_t gen; /* moves at each resize and memobj_write: a page fetched across it is stale */
};

/* A memory server: its endpoint and the window its requests' pages appear in. */
struct msrv {
	struct idnode node; /* key: its pid */
	mica_handle_t ep;   /* the endpoint it serves idl/memobj.idl on (ours to call) */
	uint64_t window;    /* WORKER_SLOTS pages, one for each worker's request */
	uint64_t serial;    /* never reused: tells a server from a later one with its pid */
};

static struct idtree objects, servers, grantees;
static uint64_t next_object = 1, next_serial = 1;
static struct slab_cache objects_cache = {.size = sizeof(struct memobj)};
static struct slab_cache pages_cache = {.size = sizeof(struct cpage)};
static struct slab_cache maps_cache = {.size = sizeof(struct mapping)};
static struct slab_cache grants_cache = {.size = sizeof(struct grant)};
static struct slab_cache servers_cache = {.size = sizeof(struct msrv)};
static struct slab_cache grantees_cache = {.size = sizeof(struct grantee)};

static void *zalloc(struct slab_cache *c)
{
	void *p = slab_alloc(c);

	if (p)
		mem_zero(p, c->size);
	return p;
}

static struct memobj *object_find(uint64_t id)
{
	struct idnode *n = idtree_find(&objects, id);

	return n ? (struct memobj *)(uintptr_t)n : 0;
}

static struct msrv *server_find(uint64_t pid)
{
	struct idnode *n = idtree_find(&servers, pid);

	return n ? (struct msrv *)(uintptr_t)n : 0;
}

static struct cpage *page_find(struct memobj *o, uint64_t idx)
{
	struct idnode *n = idtree_find(&o->pages, idx);

	return n ? (struct cpage *)(uintptr_t)n : 0;
}

/* The cached page of o with the lowest index >= idx, or NULL. */
static struct cpage *page_from(struct memobj *o, uint64_t idx)
{
	struct idnode *n = idtree_find(&o->pages, idx);

	if (!n)
		n = idtree_next(&o->pages, idx);
	return n ? (struct cpage *)(uintptr_t)n : 0;
}

static uint64_t page_up(uint64_t v)
{
	return (v + PAGE - 1) & ~(PAGE - 1);
}

/* Bytes of frames the pager holds for objects (make bench, the tests' counts). */
uint64_t memobj_meta_frames(void)
{
	return objects_cache.slabs + pages_cache.slabs + maps_cache.slabs + grants_cache.slabs +
	       servers_cache.slabs + grantees_cache.slabs;
}

/* ---- registering servers and objects ---- */

/*
 * pager.memobj_serve: s serves its objects on ep (a handle now ours).
 * Reserves the window in s (once). Errors: MICA_ENOMEM no room or record.
 */
int memobj_serve(struct space *s, mica_handle_t ep)
{
	struct msrv *v = server_find(s->pid);
	uint64_t at;
	int e;

	if (v) {
		mica_handle_close(v->ep);
		v->ep = ep;
		return 0;
	}
	if (!(v = zalloc(&servers_cache))) {
		mica_handle_close(ep);
		return MICA_ENOMEM;
	}
	/* A reservation (rights 0): touching it outside a request kills the server. */
	if ((e = region_find_gap(&s->regions, WORKER_SLOTS * PAGE, MICA_PAGER_MAP_BASE, &at)) < 0 ||
	    (e = space_insert(s, at, at + WORKER_SLOTS * PAGE, 0, REGION_OBJECT, 0, 0)) < 0) {
		slab_free(&servers_cache, v);
		mica_handle_close(ep);
		return e == MICA_EEXIST ? MICA_ENOMEM : e;
	}
	v->node.key = s->pid;
	v->ep = ep;
	v->window = at;
	v->serial = next_serial++;
	(void)idtree_insert(&servers, &v->node);
	return 0;
}

/* Is s pid, or a descendant of pid? */
static bool in_subtree(const struct space *s, uint64_t pid)
{
	for (; s; s = s->parent)
		if (s->pid == pid)
			return true;
	return false;
}

/* The rights s may map o with: the object's for its server's subtree, else a grant's; 0: none. */
static uint32_t may_map(const struct space *s, const struct memobj *o)
{
	uint32_t rights = 0;

	if (in_subtree(s, o->owner))
		return o->rights;
	for (const struct grant *g = o->grants; g; g = g->next)
		if (in_subtree(s, g->pid))
			rights |= g->rights;
	return rights & o->rights;
}

/* The region of mapping m, if its process still runs and the region is still m's. */
static struct region *mapping_region(const struct mapping *m, struct space **sp)
{
	struct space *s = space_by_pid(m->pid);
	struct region *r;

	if (!s || s->state != SPACE_LIVE)
		return 0;
	r = region_find(&s->regions, m->start);
	if (!r || r->kind != REGION_OBJECT || r->data != m)
		return 0;
	*sp = s;
	return r;
}

/*
 * The bytes of o's cached page that holds byte `from` (if cached), from
 * there to the page's end, become zeros: past the object's end a page
 * reads as zeros (docs/MEMORY_SERVERS.md), and a regrown object must not
 * show what lay there before the cut. Every mapping of that page sees it
 * at once (they map the cached frame; private copies already made keep
 * theirs).
 */
static void object_zero_tail(struct memobj *o, uint64_t from)
{
	struct cpage *p = from % PAGE ? page_find(o, from / PAGE) : 0;

	if (p)
		mem_zero((uint8_t *)PHYS(p->pa) + from % PAGE, PAGE - from % PAGE);
}

/* Take grant g out of both its lists and free it (and its grantee's record, if now empty). */
static void grant_free(struct grant *g)
{
	if ((*g->prev = g->next))
		g->next->prev = g->prev;
	if ((*g->pprev = g->pnext))
		g->pnext->pprev = g->pprev;
	struct idnode *n = idtree_find(&grantees, g->pid);
	struct grantee *e = n ? (struct grantee *)(uintptr_t)n : 0;

	if (e && !e->grants) {
		(void)idtree_remove(&grantees, e->node.key);
		slab_free(&grantees_cache, e);
	}
	slab_free(&grants_cache, g);
}

/*
 * Cut o to size bytes: unmap every mapped page past the new end (page
 * rounded) in every mapping, and drop those cached. A touch there later
 * faults past the end (MICA_PAGER_KILL_BUS).
 */
static void object_cut(struct memobj *o, uint64_t size)
{
	uint64_t keep = page_up(size);

	for (struct mapping *m = o->maps; m; m = m->next) {
		struct space *s;
		struct region *r = mapping_region(m, &s);

		if (!r || m->offset + (m->end - m->start) <= keep)
			continue;
		uint64_t from = m->offset >= keep ? m->start : m->start + (keep - m->offset);

		(void)space_unmap_range(s, r, from, m->end);
	}
	for (struct cpage *p = page_from(o, keep / PAGE); p; p = page_from(o, keep / PAGE)) {
		(void)idtree_remove(&o->pages, p->node.key);
		frame_free(p->pa);
		slab_free(&pages_cache, p);
	}
	object_zero_tail(o, size);
	o->size = size;
	o->gen++;
}

/* Forget o: every page unmapped and dropped; its mappings stay, and a touch kills with code. */
static void object_destroy(struct memobj *o, uint32_t code)
{
	object_cut(o, 0);
	for (struct mapping *m = o->maps, *n; m; m = n) {
		n = m->next;
		m->obj = 0;
		m->next = 0;
		m->gone_code = code;
	}
	while (o->grants)
		grant_free(o->grants);
	(void)idtree_remove(&objects, o->node.key);
	slab_free(&objects_cache, o);
}

/* ---- mapping ---- */

/*
 * pager.memobj_map for s (idl/pager.idl has the errors). The region's
 * pages are backed on first touch.
 */
int memobj_map(struct space *s, uint64_t id, uint64_t offset, uint64_t length, uint32_t rights,
               uint32_t flags, uint64_t addr, uint64_t *at)
{
	struct memobj *o = object_find(id);
	struct mapping *m;
	struct region *r;
	int e;

	/* An object s may map, with no more rights than it may. */
	if (!o)
		return MICA_ENOENT;
	if (!(rights & REGION_READ) || (rights & ~(REGION_READ | REGION_WRITE | REGION_EXEC)) ||
	    (flags & ~MICA_MEMOBJ_SHARED) || !length)
		return MICA_EINVAL;
	if ((rights & REGION_WRITE) && (rights & REGION_EXEC))
		return MICA_EPERM;
	if (rights & ~may_map(s, o))
		return MICA_EPERM;
	/* Whole pages within the object. */
	if ((offset | length) & (PAGE - 1))
		return MICA_EALIGN;
	if (offset > MICA_MEMOBJ_MAX_SIZE || length > MICA_MEMOBJ_MAX_SIZE ||
	    offset + length > page_up(o->size))
		return MICA_ERANGE;
	/* Room for its record under the limits, and in the address space. */
	uint64_t regions = region_count(&s->regions);

	if ((e = limit_mem_check(s, limit_region_pages(regions + 1) -
	                                limit_region_pages(regions))) < 0)
		return e;
	if (region_find_gap(&s->regions, length, addr ? addr : MICA_PAGER_MAP_BASE, at) < 0 &&
	    (e = region_find_gap(&s->regions, length, 0, at)) < 0)
		return e;
	if (!(m = zalloc(&maps_cache)))
		return MICA_ENOMEM;
	if ((e = space_insert(s, *at, *at + length, rights, REGION_OBJECT, m, &r)) < 0) {
		slab_free(&maps_cache, m);
		return e == MICA_EEXIST ? MICA_ENOMEM : e;
	}
	*m = (struct mapping){.next = o->maps,
	                      .obj = o,
	                      .serial = next_serial++,
	                      .pid = s->pid,
	                      .start = *at,
	                      .end = *at + length,
	                      .offset = offset,
	                      .flags = flags};
	o->maps = m;
	o->nmaps++;
	return 0;
}

/* Take m out of its object's list and free it (its region is going or gone). */
static void mapping_forget(struct mapping *m)
{
	struct memobj *o = m->obj;

	if (o) {
		struct mapping **p = &o->maps;

		while (*p && *p != m)
			p = &(*p)->next;
		if (*p)
			*p = m->next;
		o->nmaps--;
	}
	slab_free(&maps_cache, m);
}

/* ---- asking the server ---- */

/*
 * Call o's server for page idx of o (page_in, or page_out of the frame
 * pa): the frame is mapped in the server's window slot of this worker
 * (read-write for page_in, read-only for page_out) for the call only; the
 * token is handed to another worker for the wait. Returns 0, or the
 * MICA_PAGER_KILL_* code of the failure (SERVER: no server, it died or
 * refused; TIMEOUT: no answer in time; NOMEM: no worker or no memory:
 * the caller may try again; ASK_BUSY: no worker was free). The caller holds the token before and
 * after; anything it looked up may be gone after (look again).
 */
#define ASK_BUSY UINT64_MAX /* ask_server: every worker waits already (try again later) */

static uint64_t ask_server(struct memobj *o, uint64_t idx, uint64_t pa, bool out, int *status)
{
	struct msrv *v = server_find(o->owner);
	uint64_t id = o->node.key, serial, pid = o->owner, win;
	int64_t h;
	int rc;

	*status = MICA_EPEER;
	if (!v)
		return MICA_PAGER_KILL_SERVER;
	serial = v->serial;
	win = v->window + worker_current() * PAGE;
	struct space *srv = space_by_pid(pid);

	if (!srv || srv->state != SPACE_LIVE)
		return MICA_PAGER_KILL_SERVER;
	/* Our own handle to the server for the call: the record's may be replaced meanwhile. */
	if ((h = mica_handle_mint(v->ep, MICA_RIGHT_SEND, 0)) < 0)
		return MICA_PAGER_KILL_NOMEM;
	if (frame_ref(pa) < 0) {
		mica_handle_close((mica_handle_t)h);
		return MICA_PAGER_KILL_NOMEM;
	}
	uint32_t rights = out ? REGION_READ : REGION_READ | REGION_WRITE;
	int64_t e = mica_map(srv->as, win, pa, 1, rights);

	if (e == MICA_ENOMEM) {
		pool_feed_kernel();
		e = mica_map(srv->as, win, pa, 1, rights);
	}
	if (e < 0) {
		frame_free(pa);
		mica_handle_close((mica_handle_t)h);
		return MICA_PAGER_KILL_NOMEM;
	}
	int me = worker_release();

	if (me < 0) {
		rc = MICA_EBUSY;
	} else {
		/* Without the token: touch nothing shared until worker_acquire. */
		rc = out ? memobj_page_out((mica_handle_t)h, id, idx * PAGE, 1, win)
		         : memobj_page_in((mica_handle_t)h, id, idx * PAGE, 1, win);
		worker_acquire((unsigned)me);
	}
	mica_handle_close((mica_handle_t)h);
	/* The window is unmapped now, unless the server's address space went (and the frame with
	 * it). */
	v = server_find(pid);
	srv = space_by_pid(pid);
	if (v && v->serial == serial && srv && srv->state == SPACE_LIVE &&
	    mica_unmap(srv->as, win, 1, 0) == 1)
		frame_free(pa);
	*status = rc;
	if (rc == MICA_EBUSY)
		return ASK_BUSY;
	if (rc == MICA_ETIMEDOUT)
		return MICA_PAGER_KILL_TIMEOUT;
	return rc ? MICA_PAGER_KILL_SERVER : 0;
}

/*
 * The cached page idx of object id, fetched from its server if need be.
 * Returns 0 with *page, or a MICA_PAGER_KILL_* code (BUS: past the end or
 * the object went meanwhile). May hand the token over and back.
 */
static uint64_t page_get(uint64_t id, uint64_t idx, struct cpage **page)
{
	struct memobj *o = object_find(id);
	struct cpage *p;
	uint64_t pa, code;
	int status;

	if (!o || idx >= page_up(o->size) / PAGE)
		return MICA_PAGER_KILL_BUS;
	if ((*page = page_find(o, idx)))
		return 0;
	if (!(pa = frame_alloc()))
		return MICA_PAGER_KILL_NOMEM;
	uint64_t gen = o->gen;

	code = ask_server(o, idx, pa, false, &status);
	/* Look again: the object may have shrunk or gone, the page come by another fault. */
	o = object_find(id);
	if (!code && (!o || idx >= page_up(o->size) / PAGE))
		code = MICA_PAGER_KILL_BUS;
	/*
	 * Resized or written meanwhile (memobj_write): the server may have
	 * answered with the bytes from before, so the page is not cached and
	 * the thread faults again (and asks again).
	 */
	if (!code && o->gen != gen && !page_find(o, idx))
		code = ASK_BUSY;
	if (code) {
		frame_free(pa);
		return code;
	}
	if ((*page = page_find(o, idx))) {
		frame_free(pa);
		return 0;
	}
	if (!(p = zalloc(&pages_cache))) {
		frame_free(pa);
		return MICA_PAGER_KILL_NOMEM;
	}
	p->node.key = idx;
	p->pa = pa;
	(void)idtree_insert(&o->pages, &p->node);
	*page = p;
	return 0;
}

/*
 * A fault of process s at addr (MICA_FAULT_* access) in region r, a
 * REGION_OBJECT region. Returns 0 (resume) or a MICA_PAGER_KILL_* code
 * (the caller logs it). May wait for the object's server on a worker.
 */
uint64_t memobj_fault(struct space *s, struct region *r, uint64_t addr, uint64_t access)
{
	struct mapping *m = r->data;
	uint64_t va = addr & ~(PAGE - 1), pid = s->pid;
	uint32_t need = REGION_READ;
	struct cpage *p;

	/* A server's window outside a request, or an access the mapping forbids. */
	if (!m)
		return MICA_PAGER_KILL_ACCESS;
	if (access & MICA_FAULT_WRITE)
		need |= REGION_WRITE;
	if (access & MICA_FAULT_EXEC)
		need |= REGION_EXEC;
	if ((r->rights & need) != need)
		return MICA_PAGER_KILL_ACCESS;
	/* The page lies within the object (it may have shrunk or gone since the map). */
	if (!m->obj)
		return m->gone_code;
	bool shared = m->flags & MICA_MEMOBJ_SHARED, write = access & MICA_FAULT_WRITE;
	/* Present: only a private page's first write (copy on write) faults so. */
	if ((access & MICA_FAULT_PRESENT) && (shared || !write))
		return MICA_PAGER_KILL_ACCESS;
	/* That write copies what is mapped: the cached page, or after a fork a copy it shares. */
	if (access & MICA_FAULT_PRESENT)
		return cow_fault(s, r, va);
	if (limit_mem_room(s) == 0)
		return MICA_PAGER_KILL_LIMIT;
	uint64_t serial = m->serial, id = m->obj->node.key,
	         idx = (m->offset + va - m->start) / PAGE;
	uint64_t code = page_get(id, idx, &p);

	if (code == ASK_BUSY)
		return 0; /* every worker waits: the thread faults again, and finds one free later
		           */
	if (code)
		return code;
	/* Look again: s and its mapping may have gone while the server was asked. */
	s = space_by_pid(pid);
	if (!s || s->state != SPACE_LIVE || !(r = region_find(&s->regions, va)) ||
	    r->kind != REGION_OBJECT || !r->data || ((struct mapping *)r->data)->serial != serial)
		return MICA_PAGER_KILL_UNMAPPED;
	uint64_t pa = p->pa;
	uint32_t rights = r->rights;

	if (!shared && write) {
		/* Copy on write: a frame of its own, the cached page (or what was mapped) copied.
		 */
		uint64_t copy = frame_alloc();

		if (!copy)
			return MICA_PAGER_KILL_NOMEM;
		mem_copy(PHYS(copy), PHYS(pa), PAGE);
		if (access & MICA_FAULT_PRESENT)
			(void)space_unmap_range(s, r, va, va + PAGE);
		pa = copy;
	} else {
		if (frame_ref(pa) < 0)
			return MICA_PAGER_KILL_NOMEM;
		if (!shared)
			rights &= ~REGION_WRITE; /* read-only until the first write copies it */
		else if (rights & REGION_WRITE)
			p->dirty = true;
	}
	int e = space_map(s, r, va, pa, rights);

	if (e < 0) {
		frame_free(pa);
		if (e != MICA_EEXIST)
			return MICA_PAGER_KILL_NOMEM;
	}
	return 0;
}

/* Unmap page idx of o from every shared writable mapping of it (sync_mapping). */
static void page_unmap_shared(struct memobj *o, uint64_t idx)
{
	for (struct mapping *m = o->maps; m; m = m->next) {
		struct space *s;
		struct region *r = mapping_region(m, &s);
		uint64_t len = m->end - m->start;

		if (!r || !(m->flags & MICA_MEMOBJ_SHARED) || !(r->rights & REGION_WRITE) ||
		    idx * PAGE < m->offset || idx * PAGE >= m->offset + len)
			continue;
		uint64_t va = m->start + (idx * PAGE - m->offset);

		(void)space_unmap_range(s, r, va, va + PAGE);
	}
}

/*
 * Hand the dirty pages of s's mapping at start back to its server. Returns
 * how many went (in *n) and 0, or MICA_ENOENT (no mapping starts there),
 * or the server's failure (MICA_EPEER, MICA_ETIMEDOUT, its error). May
 * wait for the server on a worker.
 */
static int sync_mapping(uint64_t pid, uint64_t start, uint64_t *n)
{
	struct space *s = space_by_pid(pid);
	struct region *r = s ? region_find(&s->regions, start) : 0;
	struct mapping *m = r && r->start == start && r->kind == REGION_OBJECT ? r->data : 0;

	*n = 0;
	if (!m)
		return MICA_ENOENT;
	if (!m->obj || !(m->flags & MICA_MEMOBJ_SHARED) || !(r->rights & REGION_WRITE))
		return 0;
	uint64_t id = m->obj->node.key, first = m->offset / PAGE;
	uint64_t last = first + (m->end - m->start) / PAGE; /* past the last */

	for (uint64_t k = first; k < last;) {
		struct memobj *o = object_find(id);
		struct cpage *p = o ? page_from(o, k) : 0;
		int status;

		if (!p || p->node.key >= last)
			break;
		k = p->node.key + 1;
		if (!p->dirty)
			continue;
		/* Clean from now on: writable mappings lose it, so a new write marks it again. */
		uint64_t idx = p->node.key;

		p->dirty = false;
		page_unmap_shared(o, idx);
		if (ask_server(o, idx, p->pa, true, &status)) {
			/* Not taken: dirty still (if it is still cached), for a later sync. */
			if ((o = object_find(id)) && (p = page_find(o, idx)))
				p->dirty = true;
			return status;
		}
		(*n)++;
	}
	return 0;
}

/* ---- the calls ---- */

/*
 * MICA_MEMOBJ_WRITEBACK for s, o's creator: page `offset` of o, if cached
 * and dirty, is copied to s's page at dst (0: only say so) and is clean
 * from then on. Its writable shared mappings lose it first (a write after
 * faults and marks it dirty again), so no write lands between the copy
 * and the clean mark. The server's own page_out, for when it cannot serve
 * one (it is in this call): fs before a read. *out: 1 dirty, else 0.
 * MICA_EALIGN offset or dst, MICA_ERANGE offset past the end, MICA_EINVAL
 * dst not in a writable region of s made by map or brk, MICA_ELIMIT s is at
 * a memory limit, MICA_ENOMEM no frame to back dst.
 */
static int writeback(struct space *s, struct memobj *o, uint64_t offset, uint64_t dst,
                     uint64_t *out)
{
	struct region *r = 0;
	struct cpage *p;
	int e;

	*out = 0;
	if ((offset | dst) & (PAGE - 1))
		return MICA_EALIGN;
	if (offset >= o->size)
		return MICA_ERANGE;
	if (dst && (!(r = region_find(&s->regions, dst)) || !(r->rights & REGION_WRITE) ||
	            (r->kind != REGION_ANON && r->kind != REGION_HEAP)))
		return MICA_EINVAL;
	if (!(p = page_find(o, offset / PAGE)) || !p->dirty)
		return 0;
	*out = 1;
	if (!dst)
		return 0;
	/* dst may be a page not backed yet: backing it counts as any page does. */
	if (limit_mem_room(s) == 0) {
		*out = 0;
		return MICA_ELIMIT;
	}
	p->dirty = false;
	page_unmap_shared(o, p->node.key);
	if ((e = cow_write(s, dst, PHYS(p->pa), PAGE)) < 0) {
		p->dirty = true; /* not taken: dirty still */
		*out = 0;
	}
	return e;
}

/* pager.memobj_ctl for s (idl/pager.idl, include/mica/pager.h MICA_MEMOBJ_*). */
int memobj_ctl(struct space *s, uint32_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
	struct memobj *o;

	if (op == MICA_MEMOBJ_SYNC)
		return sync_mapping(s->pid, a, out);
	if (op == MICA_MEMOBJ_CREATE) {
		/* A memory server, a size, rights as a mapping's. */
		if (!server_find(s->pid))
			return MICA_EPERM;
		if (a > MICA_MEMOBJ_MAX_SIZE || !(b & REGION_READ) ||
		    (b & ~(uint64_t)(REGION_READ | REGION_WRITE | REGION_EXEC)) ||
		    ((b & REGION_WRITE) && (b & REGION_EXEC)))
			return MICA_EINVAL;
		if (!(o = zalloc(&objects_cache)))
			return MICA_ENOMEM;
		o->node.key = next_object++;
		o->size = a;
		o->rights = (uint32_t)b;
		o->owner = s->pid;
		idtree_init(&o->pages);
		(void)idtree_insert(&objects, &o->node);
		*out = o->node.key;
		return 0;
	}
	if (op < MICA_MEMOBJ_CREATE || op > MICA_MEMOBJ_WRITEBACK)
		return MICA_EINVAL;
	/* The other ops: the object's creator only. */
	if (!(o = object_find(a)))
		return MICA_ENOENT;
	if (o->owner != s->pid)
		return MICA_EPERM;
	if (op == MICA_MEMOBJ_WRITEBACK)
		return writeback(s, o, b, c, out);
	if (op == MICA_MEMOBJ_RESIZE) {
		if (b > MICA_MEMOBJ_MAX_SIZE)
			return MICA_EINVAL;
		if (b < o->size) {
			object_cut(o, b);
		} else {
			/* Grown: what the old end's page holds past it is no data (zeros). */
			object_zero_tail(o, o->size);
			o->size = b;
			o->gen++;
		}
		return 0;
	}
	if (op == MICA_MEMOBJ_GRANT) {
		struct space *t = space_by_pid(b);
		struct idnode *n = idtree_find(&grantees, b);
		struct grantee *e = n ? (struct grantee *)(uintptr_t)n : 0;
		struct grant *g;

		/* A running process (an ended one never maps again: pids are never reused). */
		if (!t || t->state != SPACE_LIVE || !(c & REGION_READ) ||
		    (c & ~(uint64_t)(REGION_READ | REGION_WRITE | REGION_EXEC)))
			return MICA_EINVAL;
		if (!(g = zalloc(&grants_cache)))
			return MICA_ENOMEM;
		if (!e) {
			if (!(e = zalloc(&grantees_cache))) {
				slab_free(&grants_cache, g);
				return MICA_ENOMEM;
			}
			e->node.key = b;
			(void)idtree_insert(&grantees, &e->node);
		}
		*g = (struct grant){.next = o->grants,
		                    .prev = &o->grants,
		                    .pnext = e->grants,
		                    .pprev = &e->grants,
		                    .obj = o,
		                    .pid = b,
		                    .rights = (uint32_t)c};
		if (o->grants)
			o->grants->prev = &g->next;
		o->grants = g;
		if (e->grants)
			e->grants->pprev = &g->pnext;
		e->grants = g;
		return 0;
	}
	object_destroy(o, MICA_PAGER_KILL_BUS);
	return 0;
}

/*
 * pager.memobj_write for s: len bytes of data into o's cached pages from
 * byte offset on (a server's own write to what backs o, fs.write): every
 * mapping of a cached page sees them at once (shared ones, and private
 * ones whose page is not copied yet); a page not cached is left alone (its
 * next fault asks the server, which has the bytes already). A page's
 * dirty mark stays: the bytes its mappers wrote elsewhere in it still go
 * back to the server, with these (so the server stores what it wrote).
 * *pages: how many cached pages took bytes. MICA_ENOENT no such object,
 * MICA_EPERM not its creator, MICA_ERANGE past the object's end.
 */
int memobj_write(struct space *s, uint64_t id, uint64_t offset, const uint8_t *data, uint32_t len,
                 uint64_t *pages)
{
	struct memobj *o = object_find(id);

	*pages = 0;
	if (!o)
		return MICA_ENOENT;
	if (o->owner != s->pid)
		return MICA_EPERM;
	if (offset > o->size || len > o->size - offset)
		return MICA_ERANGE;
	if (!len)
		return 0;
	/* A fault waiting on the server now may bring the page from before: it asks again. */
	o->gen++;
	for (uint64_t at = offset, end = offset + len; at < end;) {
		uint64_t in = at % PAGE, n = PAGE - in < end - at ? PAGE - in : end - at;
		struct cpage *p = page_find(o, at / PAGE);

		if (p) {
			mem_copy((uint8_t *)PHYS(p->pa) + in, data + (at - offset), n);
			(*pages)++;
		}
		at += n;
	}
	return 0;
}

/* pager.memobj_stat (anyone may ask). */
int memobj_stat(uint64_t id, uint64_t *size, uint32_t *rights, uint64_t *owner, uint64_t *cached,
                uint64_t *mappings)
{
	struct memobj *o = object_find(id);

	if (!o)
		return MICA_ENOENT;
	*size = o->size;
	*rights = o->rights;
	*owner = o->owner;
	*cached = idtree_count(&o->pages);
	*mappings = o->nmaps;
	return 0;
}

/*
 * pager.unmap of an object mapping (r, at its start) of s: its dirty pages
 * go back first (a server that fails them does not keep the mapping:
 * they are lost, and the failure is returned), then it goes. MICA_EBUSY
 * (nothing changed): every worker waits on a server already.
 */
int memobj_unmap(struct space *s, struct region *r)
{
	uint64_t pid = s->pid, start = r->start, n;
	int e = sync_mapping(pid, start, &n);

	if (e == MICA_EBUSY)
		return e; /* no worker to wait on the server: nothing changed, try again */

	/* Look again: the process or the region may have gone meanwhile. */
	s = space_by_pid(pid);
	if (!s || s->state != SPACE_LIVE || !(r = region_find(&s->regions, start)) ||
	    r->start != start || r->kind != REGION_OBJECT || !r->data)
		return MICA_ENOENT;
	mapping_forget(r->data);
	int u = space_remove_region(s, r);

	return e ? e : u;
}

/*
 * s's address space is going (space_teardown): forget its mappings and the
 * grants it held (of any object), and if it served objects, they go too (a
 * later touch of a mapping of them kills with MICA_PAGER_KILL_SERVER). Its
 * frames go with the address space.
 */
void memobj_space_gone(struct space *s)
{
	struct idnode *gn = idtree_find(&grantees, s->pid);
	struct msrv *v;

	/* Its grants: no use to an ended pid (the last one frees the grantee record too). */
	while (gn && ((struct grantee *)(uintptr_t)gn)->grants) {
		grant_free(((struct grantee *)(uintptr_t)gn)->grants);
		gn = idtree_find(&grantees, s->pid);
	}

	for (struct region *r = region_first(&s->regions); r; r = region_next(&s->regions, r))
		if (r->kind == REGION_OBJECT && r->data) {
			mapping_forget(r->data);
			r->data = 0;
		}
	if (!(v = server_find(s->pid)))
		return;
	for (struct idnode *n = idtree_next(&objects, 0); n;) {
		struct memobj *o = (struct memobj *)(uintptr_t)n;

		n = idtree_next(&objects, n->key);
		if (o->owner == s->pid)
			object_destroy(o, MICA_PAGER_KILL_SERVER);
	}
	(void)idtree_remove(&servers, s->pid);
	mica_handle_close(v->ep);
	slab_free(&servers_cache, v);
}

/* ---- programs run from objects (spawnobj.c) and fork ---- */

/* May s run object id (map it with read)? 0 and its size; MICA_ENOENT, MICA_EPERM. */
int memobj_run_check(const struct space *s, uint64_t id, uint64_t *size)
{
	struct memobj *o = object_find(id);

	if (!o)
		return MICA_ENOENT;
	if (!(may_map(s, o) & REGION_READ))
		return MICA_EPERM;
	*size = o->size;
	return 0;
}

/*
 * The frame of page idx of object id, cached (fetched from its server if
 * need be, which may hand the token over and back: look everything up
 * again after). 0 and *pa; MICA_ENOENT no such object, MICA_ERANGE past
 * its end, MICA_EPEER its server failed or died, MICA_ETIMEDOUT it did
 * not answer in time, MICA_EBUSY every worker waits already, MICA_ENOMEM.
 */
int memobj_page(uint64_t id, uint64_t idx, uint64_t *pa)
{
	struct cpage *p;
	uint64_t code;

	if (!object_find(id))
		return MICA_ENOENT;
	code = page_get(id, idx, &p);
	if (!code) {
		*pa = p->pa;
		return 0;
	}
	if (code == ASK_BUSY)
		return MICA_EBUSY;
	if (code == MICA_PAGER_KILL_BUS)
		return object_find(id) ? MICA_ERANGE : MICA_ENOENT;
	if (code == MICA_PAGER_KILL_TIMEOUT)
		return MICA_ETIMEDOUT;
	return code == MICA_PAGER_KILL_NOMEM ? MICA_ENOMEM : MICA_EPEER;
}

/* The frame of page idx of object id if it is cached now (nothing asked), else 0. */
uint64_t memobj_cached(uint64_t id, uint64_t idx)
{
	struct memobj *o = object_find(id);
	struct cpage *p = o ? page_find(o, idx) : 0;

	return p ? p->pa : 0;
}

/*
 * A private mapping of [offset, offset + length) of object id at [at, at +
 * length) in s, with rights (the caller decided them: a program's
 * segment). 0, MICA_ENOENT no such object, MICA_ERANGE past its end,
 * MICA_ENOMEM; region_insert's errors.
 */
int memobj_map_at(struct space *s, uint64_t id, uint64_t offset, uint64_t length, uint32_t rights,
                  uint64_t at)
{
	struct memobj *o = object_find(id);
	struct mapping *m;
	int e;

	if (!o)
		return MICA_ENOENT;
	if (offset > MICA_MEMOBJ_MAX_SIZE || length > MICA_MEMOBJ_MAX_SIZE ||
	    offset + length > page_up(o->size))
		return MICA_ERANGE;
	if (!(m = zalloc(&maps_cache)))
		return MICA_ENOMEM;
	if ((e = space_insert(s, at, at + length, rights, REGION_OBJECT, m, 0)) < 0) {
		slab_free(&maps_cache, m);
		return e;
	}
	*m = (struct mapping){.next = o->maps,
	                      .obj = o,
	                      .serial = next_serial++,
	                      .pid = s->pid,
	                      .start = at,
	                      .end = at + length,
	                      .offset = offset};
	o->maps = m;
	o->nmaps++;
	return 0;
}

/*
 * fork: the record for d's copy of s's object mapping m (the same object,
 * offset and flags, or gone with the same code), at the same place; NULL
 * if there is no memory. A server's window (no record) stays NULL.
 */
void *memobj_fork_mapping(const void *data, const struct space *d)
{
	const struct mapping *m = data;
	struct mapping *c;

	if (!(c = zalloc(&maps_cache)))
		return 0;
	*c = *m;
	c->serial = next_serial++;
	c->pid = d->pid;
	c->next = 0;
	if (c->obj) {
		c->next = c->obj->maps;
		c->obj->maps = c;
		c->obj->nmaps++;
	}
	return c;
}

/* Is region r (REGION_OBJECT) a shared mapping of an object (its pages never copy on write)? */
bool memobj_region_shared(const struct region *r)
{
	const struct mapping *m = r->data;

	return m && (m->flags & MICA_MEMOBJ_SHARED);
}

/* Forget a record memobj_fork_mapping made whose region could not be made. */
void memobj_mapping_free(void *data)
{
	mapping_forget(data);
}
