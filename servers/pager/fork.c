/*
 * fork (pager.fork): a new process that is a copy of its parent. Every
 * region is copied with its rights, kind and backing; every backed page
 * is shared copy on write (cow.c), a region made by share stays shared.
 * The child runs one thread, where the caller said (the runtime's fork()
 * passes a function that restores the caller's registers from its stack
 * and returns 0), and finds its own pid and handles in the record the
 * pager writes into its copy of memory (struct mica_fork_info).
 *
 * What the child gets, and what it does not:
 * - its own pid, a pager endpoint badged with it, and a copy of the
 *   name service's endpoint (what a spawned program gets); not the
 *   parent's other handles (IPC endpoints, notifications), nor its
 *   devices (interrupt line, I/O ports: a driver's are its own), nor the
 *   trace right;
 * - one thread; the parent's other threads are not copied, but their
 *   stacks are (as memory, with a thread's stack limit), as in POSIX;
 * - no limits of its own: it is in its parent's subtree, whose limits
 *   count its pages (each page mapped in it, shared or not) and it.
 * Its end is a child's end: its parent's wait, kill and kill_tree reach
 * it, and it passes to init if its parent ends first (process.c).
 */
#include "pager.h"

#define PAGE      MICA_PAGE_SIZE
#define FORK_PRIO 8 /* a process's threads all run at this priority (process.c) */

/*
 * The data of a child's stack region that was another thread's in the
 * parent: not NULL, so the fault path gives it a thread's stack limit,
 * and never a struct thread of the child's (it has none).
 */
static const char other_thread_stack;

/* Copy every region of s into d, sharing the backed pages copy on write. */
static int copy_regions(struct space *s, struct space *d)
{
	struct region *dr;
	int e;

	mem_copy(d->segs, s->segs, sizeof(d->segs));
	d->heap_start = s->heap_start;
	d->brk = s->brk;
	for (struct region *r = region_first(&s->regions); r; r = region_next(&s->regions, r)) {
		void *data = r->data;

		/* An image region's segment is d's copy; a thread's stack names no thread of d. */
		if (r->kind == REGION_IMAGE && data)
			data = &d->segs[(const struct seg *)data - s->segs];
		else if (r->kind == REGION_STACK && data)
			data = (void *)(uintptr_t)&other_thread_stack;
		/* An object's mapping gets a record of its own (memobj.c knows it by its region).
		 */
		else if (r->kind == REGION_OBJECT && data && !(data = memobj_fork_mapping(data, d)))
			return MICA_ENOMEM;
		if ((e = space_insert(d, r->start, r->end, r->rights, r->kind, data, &dr)) < 0) {
			if (r->kind == REGION_OBJECT && data)
				memobj_mapping_free(data);
			return e;
		}
		/* A shared object mapping's pages come from the object's cache at d's faults. */
		if (r->kind == REGION_OBJECT && memobj_region_shared(r))
			continue;
		if ((e = cow_share_region(s, r, d, dr)) < 0)
			return e;
	}
	return 0;
}

/* The steps of a fork into d, undone by the caller (space_teardown) on an error. */
static int fork_into(struct space *s, struct space *d, uint64_t entry, uint64_t stack,
                     uint64_t info)
{
	struct mica_fork_info fi = {.magic = MICA_FORK_MAGIC, .pid = d->pid};
	int64_t r;
	int e;

	if ((r = mica_aspace_create(boot->aspace)) < 0)
		return (int)r;
	d->as = (mica_handle_t)r;
	if ((e = copy_regions(s, d)) < 0)
		return e;
	/* The endpoint it reaches the pager by, badged with its pid: in our table and in its own.
	 */
	if ((r = mica_handle_mint(pager_ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, d->pid)) < 0)
		return (int)r;
	d->ep = (mica_handle_t)r;
	if ((r = mica_handle_give(d->as, d->ep, MICA_RIGHT_SEND)) < 0)
		return (int)r;
	fi.pager = (mica_handle_t)r;
	fi.names = names_give(d);
	if ((e = cow_write(d, info, &fi, sizeof(fi))) < 0)
		return e;
	struct mica_thread_params p = {.entry = entry,
	                               .stack_top = stack,
	                               .arg = info,
	                               .priority = FORK_PRIO,
	                               .pager = d->ep,
	                               .supervisor = d->ep};

	pool_feed_kernel(); /* the thread block comes from the kernel's reserve */
	if ((r = mica_thread_create(d->as, &p)) < 0)
		return (int)r;
	mica_handle_close((mica_handle_t)r); /* as spawn: the address space is our one handle */
	mica_handle_close(d->ep);
	d->ep = MICA_HANDLE_NONE;
	return 0;
}

/*
 * pager.fork of s (idl/pager.idl): a child copying s, its one thread
 * started at entry with RSP = stack and RDI = info, where its copy of
 * memory holds its struct mica_fork_info; its pid to *pid. Errors
 * (checked in this order; on any, nothing of the child is left and s's
 * memory reads as before, some of its pages mapped read-only until the
 * next write): MICA_ERANGE an address outside the user half; MICA_EINVAL
 * info misaligned, across a page, or not in a writable unshared region
 * (nor a memory object's mapping: its pages are the object's);
 * MICA_ELIMIT a descendants limit or the copy's pages past a memory
 * limit; MICA_ENOMEM no record, frame or kernel memory; MICA_EBUSY a
 * frame's count at its maximum; the kernel's.
 */
int fork_process(struct space *s, uint64_t entry, uint64_t stack, uint64_t info, uint64_t *pid)
{
	const uint64_t size = sizeof(struct mica_fork_info);
	struct region *r;
	struct space *d;
	int e;

	/* The entry, the stack and the record in the user half. */
	if (entry < MICA_USER_BASE || entry >= MICA_USER_TOP || stack <= MICA_USER_BASE ||
	    stack > MICA_USER_TOP || info < MICA_USER_BASE || info > MICA_USER_TOP - size)
		return MICA_ERANGE;
	/* The record aligned, within one page, in a writable region that is not shared. */
	r = region_find(&s->regions, info);
	if ((info & 7) || (info & (PAGE - 1)) + size > PAGE || !r || !(r->rights & REGION_WRITE) ||
	    r->kind == REGION_SHARED || r->kind == REGION_OBJECT)
		return MICA_EINVAL;
	/* A descendant more, and the child's pages (its record's page too), within the limits. */
	if ((e = limit_spawn_check(s)) < 0 || (e = limit_mem_check(s, s->resident + 1)) < 0)
		return e;
	if (!(d = space_alloc()))
		return MICA_ENOMEM;
	limit_inherit(d, s, 0, 0);
	pool_feed_kernel(); /* the address space and page tables come from the reserve */
	d->parent = s;
	mem_copy(d->name, s->name, sizeof(d->name));
	if ((e = fork_into(s, d, entry, stack, info)) < 0) {
		space_teardown(d);
		space_free(d);
		return e;
	}
	d->state = SPACE_LIVE;
	*pid = d->pid;
	return 0;
}
