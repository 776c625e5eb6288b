/*
 * The kernel's whole memory interface: map, unmap, grant, address-space
 * create and destroy, donate, and the statistics. Every call but the
 * statistics needs MICA_RIGHT_MEMORY on an address-space handle (the
 * pager's). The kernel decides nothing here: the caller names the frames,
 * the addresses and the rights; the kernel checks that the frames are the
 * pool's (pool.c), that the addresses are user-half, canonical, aligned
 * and free, that the rights are W^X, and that its reserve has the page
 * tables. Each handler checks everything before it changes anything.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include <mica/memory.h>
#include "aspace.h"
#include "frame.h"
#include "kprintf.h"
#include "mem.h"
#include "pool.h"
#include "pt.h"
#include "sched.h"
#include "syscall.h"
#include "usercopy.h"

/* Frames one call removed, for its report (one CPU, never preempted: one buffer). */
static uint64_t report[MICA_MAP_MAX_PAGES];
static uint64_t nreport;

/* The address space behind handle `arg` of the caller, with `rights`, not destroyed. */
static int aspace_arg(uint64_t arg, uint32_t rights, struct aspace **as)
{
	const struct handle *h;
	int rc = syscall_handle(arg, MICA_OBJ_ASPACE, rights, &h);

	if (rc != MICA_OK)
		return rc;
	*as = (struct aspace *)h->obj;
	return (*as)->dead ? MICA_EPEER : MICA_OK;
}

/* npages pages at va: page-aligned and inside the user half. */
static int user_range_arg(uint64_t va, uint64_t npages)
{
	if (!IS_ALIGNED(va, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (va < MICA_USER_BASE || va >= MICA_USER_TOP ||
	    npages > (MICA_USER_TOP - va) >> MICA_PAGE_SHIFT)
		return MICA_ERANGE;
	return MICA_OK;
}

/* A page count for one call: 1 .. MICA_MAP_MAX_PAGES. */
static int count_arg(uint64_t n)
{
	return n == 0 || n > MICA_MAP_MAX_PAGES ? MICA_EINVAL : MICA_OK;
}

/*
 * The page-table flags of each combination of the four MICA_MAP_* rights,
 * or the error it gets (negative): readable always, never writable and
 * executable.
 */
#define RIGHTS_FLAGS(r)                                                                            \
	(!((r)&MICA_MAP_READ) ? MICA_EINVAL                                                        \
	 : ((r)&MICA_MAP_WRITE) && ((r)&MICA_MAP_EXEC)                                             \
	     ? MICA_EPERM                                                                          \
	     : (int)(PT_USER | (((r)&MICA_MAP_WRITE) ? PT_WRITE : 0) |                             \
	             (((r)&MICA_MAP_EXEC) ? PT_EXEC : 0) | (((r)&MICA_MAP_LARGE) ? PT_LARGE : 0)))
static const int rights_flags[16] = {
    RIGHTS_FLAGS(0),  RIGHTS_FLAGS(1),  RIGHTS_FLAGS(2),  RIGHTS_FLAGS(3),
    RIGHTS_FLAGS(4),  RIGHTS_FLAGS(5),  RIGHTS_FLAGS(6),  RIGHTS_FLAGS(7),
    RIGHTS_FLAGS(8),  RIGHTS_FLAGS(9),  RIGHTS_FLAGS(10), RIGHTS_FLAGS(11),
    RIGHTS_FLAGS(12), RIGHTS_FLAGS(13), RIGHTS_FLAGS(14), RIGHTS_FLAGS(15),
};
_Static_assert((MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC | MICA_MAP_LARGE) == 15,
               "rights_flags' index");

/* MICA_MAP_* rights to page-table flags (rights_flags). */
static int rights_arg(uint64_t rights, unsigned *flags)
{
	/* Known rights only. */
	if (rights > 15)
		return MICA_EINVAL;
	int f = rights_flags[rights];
	if (f < 0)
		return f;
	*flags = (unsigned)f;
	return MICA_OK;
}

/*
 * The shape MICA_MAP_LARGE asks for: the caller's own address space,
 * whole 2 MiB pages at 2 MiB-aligned virtual and physical addresses (so
 * pt_map makes every one a large page; its frames are checked as any).
 */
static int large_arg(const struct aspace *as, uint64_t va, uint64_t pa, uint64_t npages)
{
	if (as != sched_current()->as || npages % MICA_MAP_LARGE_PAGES)
		return MICA_EINVAL;
	if (!IS_ALIGNED(va, MICA_LARGE_PAGE_SIZE) || !IS_ALIGNED(pa, MICA_LARGE_PAGE_SIZE))
		return MICA_EALIGN;
	return MICA_OK;
}

/* A buffer of n frame addresses the caller can write (0: no report wanted). */
static int report_arg(uint64_t out, uint64_t n)
{
	if (out &&
	    usercopy_check(sched_current()->as->root, out, n * sizeof(uint64_t), true) != MICA_OK)
		return MICA_EFAULT;
	return MICA_OK;
}

/* pt_unmap_fn: count one mapping less of each frame and note it for the report. */
static void unmapped(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	aspace_unmapped(arg, va, pa, npages);
	for (uint64_t i = 0; i < npages; i++)
		report[nreport++] = pa + i * MICA_PAGE_SIZE;
}

/*
 * aspace_create(authority): a new, empty address space. The caller gets a
 * handle with MEMORY, MANAGE and COPY. Errors: MICA_EBADH, MICA_ERIGHTS
 * (authority lacks MEMORY), MICA_EPEER, MICA_ENOMEM.
 */
int64_t mem_aspace_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	struct aspace *auth, *as;
	mica_handle_t h;

	int rc = aspace_arg(s->a[0], MICA_RIGHT_MEMORY, &auth);
	if (rc != MICA_OK)
		return rc;
	if (handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	if (aspace_create(&as) != MICA_OK) {
		handle_room_undo(table);
		return MICA_ENOMEM;
	}
	(void)handle_alloc(table, &as->obj, MICA_RIGHT_MEMORY | MICA_RIGHT_MANAGE | MICA_RIGHT_COPY,
	                   0, &h);
	kobj_unref(&as->obj); /* the handle holds it now */
	return h;
}

/*
 * aspace_destroy(aspace, frames_out, cap): the first call ends every
 * thread in the address space (their supervisors hear MICA_EXIT_KILLED)
 * and closes its handles; every call then unmaps up to `cap` pages,
 * writes their frames to frames_out and returns how many. Fewer than cap:
 * the address space is empty (or the next mapping is a 2 MiB page, which
 * goes whole, that no longer fits in cap; only the address space's owner
 * maps those, and it cannot destroy itself). The object goes with its
 * last handle. Errors: MICA_EBADH, MICA_ERIGHTS (no MEMORY), MICA_EINVAL
 * (cap 0 or past MICA_MAP_MAX_PAGES, or the caller's own address space),
 * MICA_EFAULT (frames_out), MICA_EBUSY (cap below 512 with a 2 MiB page
 * next).
 */
int64_t mem_aspace_destroy(const struct syscall_args *s)
{
	const struct handle *h;
	uint64_t cap = s->a[2], budget = cap;

	int rc = syscall_handle(s->a[0], MICA_OBJ_ASPACE, MICA_RIGHT_MEMORY, &h);
	if (rc != MICA_OK)
		return rc;
	struct aspace *as = (struct aspace *)h->obj;
	if (count_arg(cap) != MICA_OK || as == sched_current()->as)
		return MICA_EINVAL;
	if (!s->a[1] || report_arg(s->a[1], cap) != MICA_OK)
		return MICA_EFAULT;

	if (!as->dead)
		aspace_kill(as);
	nreport = 0;
	bool more = pt_drain_user(as->root, &budget, unmapped, NULL);
	/* Empty now, and dead: nothing maps into it again (aspace_arg), so release need not look.
	 */
	as->drained = !more;
	/* Stopped before a 2 MiB page larger than cap: nothing done, say so. */
	if (more && nreport == 0)
		return MICA_EBUSY;
	(void)usercopy_to(s->a[1], report, nreport * sizeof(uint64_t));
	return (int64_t)nreport;
}

/*
 * map of one 4 KiB page (most calls: a fault's), its address space, count
 * and rights checked: the same checks in the same order as the general
 * path, each frame state and table entry found once.
 */
static int64_t map_page(struct aspace *as, uint64_t va, uint64_t pa, unsigned flags)
{
	struct pool_page pg;

	/* A pool frame that may be mapped once more. */
	int rc = pool_check_page(pa, &pg);
	if (rc != MICA_OK)
		return rc;
	/* A free user page at va (tables made if missing). */
	rc = pt_map_user_page(as->root, va, pa, flags);
	if (rc != MICA_OK) {
		pool_abort(); /* the shared counts' new table, if pool_check_page made one */
		return rc;
	}
	pool_ref_page(&pg);
	return MICA_OK;
}

/*
 * map(aspace, vaddr, frame, npages, rights): map npages pool frames from
 * `frame` at vaddr (in 2 MiB pages with MICA_MAP_LARGE). Errors:
 * MICA_EBADH, MICA_ERIGHTS, MICA_EPEER (a destroyed address space),
 * MICA_EINVAL (npages, unknown rights or no READ; with LARGE, npages not
 * a multiple of 512 or another address space), MICA_EPERM (WRITE with
 * EXEC), MICA_EALIGN (vaddr or frame; with LARGE, to 2 MiB), MICA_EFRAME
 * (a frame outside the pool), MICA_EBUSY (a frame already in
 * MICA_MAP_MAX_SHARERS mappings), MICA_ERANGE (vaddr not in the user half,
 * or the range leaves it), MICA_EEXIST (a page is mapped), MICA_ENOMEM
 * (the reserve has no frame for a page table or the shared counts).
 */
int64_t mem_map(const struct syscall_args *s)
{
	struct aspace *as;
	uint64_t npages = s->a[3];
	unsigned flags;

	int rc = aspace_arg(s->a[0], MICA_RIGHT_MEMORY, &as);
	if (rc == MICA_OK)
		rc = count_arg(npages);
	if (rc == MICA_OK)
		rc = rights_arg(s->a[4], &flags);
	if (rc == MICA_OK && npages == 1 && !(flags & PT_LARGE))
		return map_page(as, s->a[1], s->a[2], flags);
	if (rc == MICA_OK && (flags & PT_LARGE))
		rc = large_arg(as, s->a[1], s->a[2], npages);
	if (rc == MICA_OK)
		rc = pool_check(s->a[2], npages);
	if (rc != MICA_OK)
		return rc;
	rc = pt_map(as->root, s->a[1], s->a[2], npages, flags);
	if (rc != MICA_OK) {
		pool_abort(); /* the shared counts' new table, if pool_check made one */
		return rc;
	}
	pool_ref(s->a[2], npages);
	return MICA_OK;
}

/*
 * unmap(aspace, vaddr, npages, frames_out): remove the mappings of npages
 * pages at vaddr (every one must be mapped) and, if frames_out is not 0,
 * write each page's frame there. Returns npages. Errors: MICA_EBADH,
 * MICA_ERIGHTS, MICA_EPEER, MICA_EINVAL (npages, or frames_out inside the
 * range being unmapped), MICA_EFAULT (frames_out), MICA_EALIGN,
 * MICA_ERANGE, MICA_ENOENT (a page is not mapped), MICA_EBUSY (the range
 * covers part of a 2 MiB page).
 */
int64_t mem_unmap(const struct syscall_args *s)
{
	struct aspace *as;
	uint64_t va = s->a[1], npages = s->a[2], out = s->a[3];

	int rc = aspace_arg(s->a[0], MICA_RIGHT_MEMORY, &as);
	if (rc == MICA_OK)
		rc = count_arg(npages);
	if (rc == MICA_OK)
		rc = user_range_arg(va, npages);
	if (rc == MICA_OK)
		rc = report_arg(out, npages);
	if (rc != MICA_OK)
		return rc;
	/* The report must not vanish with the pages it reports. */
	if (out && as == sched_current()->as && out < va + npages * MICA_PAGE_SIZE &&
	    va < out + npages * sizeof(uint64_t))
		return MICA_EINVAL;
	if (npages == 1) {
		/* One page (most calls): one walk, its frame straight to the pool's count. */
		paddr_t pa;

		rc = pt_unmap_user_page(as->root, va, &pa);
		if (rc != MICA_OK)
			return rc;
		pool_unref(pa, 1);
		if (out)
			(void)usercopy_to(out, &pa, sizeof(pa));
		return 1;
	}
	nreport = 0;
	rc = pt_unmap(as->root, va, npages, unmapped, NULL);
	if (rc != MICA_OK)
		return rc;
	if (out)
		(void)usercopy_to(out, report, npages * sizeof(uint64_t));
	return (int64_t)npages;
}

/*
 * grant(src, src_vaddr, dst, dst_vaddr, npages): move npages mappings,
 * with their rights, from src to dst; src loses them. Every source page
 * must be mapped and every destination page free. Errors: MICA_EBADH,
 * MICA_ERIGHTS, MICA_EPEER, MICA_EINVAL (npages), MICA_EALIGN, MICA_ERANGE,
 * MICA_ENOENT (a source page is not mapped), MICA_EBUSY (a source page is
 * part of a 2 MiB page), MICA_EEXIST (a destination page is mapped),
 * MICA_ENOMEM (no frames for the destination's tables).
 */
int64_t mem_grant(const struct syscall_args *s)
{
	static uint8_t flags[MICA_MAP_MAX_PAGES];
	struct aspace *src, *dst;
	uint64_t sva = s->a[1], dva = s->a[3], npages = s->a[4], need;

	int rc = aspace_arg(s->a[0], MICA_RIGHT_MEMORY, &src);
	if (rc == MICA_OK)
		rc = aspace_arg(s->a[2], MICA_RIGHT_MEMORY, &dst);
	if (rc == MICA_OK)
		rc = count_arg(npages);
	if (rc == MICA_OK)
		rc = user_range_arg(sva, npages);
	if (rc != MICA_OK)
		return rc;
	/* The source: every page mapped. */
	for (uint64_t i = 0; i < npages; i++) {
		unsigned f;

		if (pt_translate(src->root, sva + i * MICA_PAGE_SIZE, &report[i], &f) != MICA_OK)
			return MICA_ENOENT;
		/* A 2 MiB page moves only whole, and grant moves 4 KiB pages. */
		if (f & PT_LARGE)
			return MICA_EBUSY;
		flags[i] = (uint8_t)(f & (PT_WRITE | PT_EXEC));
	}
	/* The destination: free, and tables for it in the reserve. */
	rc = pt_map_need(dst->root, dva, npages, PT_USER, &need);
	if (rc != MICA_OK)
		return rc;
	if (need > frame_free_count())
		return MICA_ENOMEM;
	/* Map first, then unmap: neither can fail now. */
	for (uint64_t i = 0; i < npages; i++)
		(void)pt_map(dst->root, dva + i * MICA_PAGE_SIZE, report[i], 1, flags[i] | PT_USER);
	(void)pt_unmap(src->root, sva, npages, NULL, NULL);
	return MICA_OK;
}

/*
 * donate(authority, frame, npages): give unmapped pool frames to the
 * kernel's reserve. Errors: MICA_EBADH, MICA_ERIGHTS, MICA_EPEER,
 * MICA_EINVAL (npages), MICA_EALIGN, MICA_EFRAME (not the pool's),
 * MICA_EBUSY (still mapped).
 */
int64_t mem_donate(const struct syscall_args *s)
{
	struct aspace *auth;

	int rc = aspace_arg(s->a[0], MICA_RIGHT_MEMORY, &auth);
	if (rc != MICA_OK)
		return rc;
	return pool_donate(s->a[1], s->a[2]);
}

/* The kernel's frame counts now. */
void mem_stats(struct mica_mem_stats *st)
{
	struct frame_stats fs;

	frame_stats(&fs);
	st->pool_total = pool_total();
	st->reserve_total = fs.total - st->pool_total;
	st->reserve_free = fs.free;
	st->pool_mapped = pool_mapped();
	st->mappings = pool_mappings();
	st->page_tables = pt_table_count();
	st->objects = kobj_count();
	st->frame_meta = frame_meta_size() + pool_meta_size();
}

/* The fixed serial line with the counts (tests compare it before and after). */
void mem_stats_print(void)
{
	struct mica_mem_stats st;

	mem_stats(&st);
	kprintf("memstats: reserve=%lu reserve_free=%lu pool=%lu pool_mapped=%lu mappings=%lu "
	        "tables=%lu objects=%lu\n",
	        st.reserve_total, st.reserve_free, st.pool_total, st.pool_mapped, st.mappings,
	        st.page_tables, st.objects);
}

/* mem_stats(out): the counts, for anyone. Errors: MICA_EFAULT. */
int64_t mem_stats_call(const struct syscall_args *s)
{
	struct mica_mem_stats st;

	mem_stats(&st);
	return usercopy_to(s->a[0], &st, sizeof(st)) == MICA_OK ? MICA_OK : MICA_EFAULT;
}
