/*
 * A process's threads beyond its first (pager.thread_create and
 * thread_join): each has a stack area of its own (a growing stack region
 * and a guard page below it, fault.c grows it), and reaches the pager by
 * an endpoint handle badged with its pid and its tid above it
 * (SPACE_TID_SHIFT), so its faults and exit notice name its process and
 * itself. The pager keeps no handle of a thread or of its badged endpoint:
 * the kernel holds what the thread needs, and a process's end
 * (aspace_destroy in space_teardown) ends all its threads.
 */
#include "pager.h"

#define PAGE           MICA_PAGE_SIZE
#define THREAD_PRIO    8 /* the first thread's: a process's threads share the CPU in turn */
#define THREAD_AREA    (MICA_PAGER_THREAD_STACK_LIMIT + PAGE)
#define THREAD_TID_MAX ((1ULL << (64 - SPACE_TID_SHIFT)) - 1)

static struct slab_cache threads_cache = {.size = sizeof(struct thread)};

static struct thread *thread_find(struct space *s, uint64_t tid)
{
	struct idnode *n = idtree_find(&s->threads, tid);

	return n ? (struct thread *)(uintptr_t)n : 0;
}

/* Remove the stack and guard regions in t's area, freeing their frames (a map placed there stays).
 */
static void stack_free(struct space *s, struct thread *t)
{
	struct region *r;
	uint64_t at = t->stack;

	while ((r = region_find_from(&s->regions, at)) && r->start < t->stack_top) {
		at = r->end;
		if (r->kind == REGION_STACK && space_remove_region(s, r) < 0)
			break;
	}
}

/*
 * Start a thread in s at entry with arg (pager.thread_create, idl/pager.idl):
 * its stack area, the stack region and guard, a badged endpoint, the
 * kernel's thread. Its tid goes to *tid. Errors: MICA_ERANGE entry outside
 * the user half, MICA_ELIMIT, MICA_ENOMEM (no room, no record, no frame),
 * the kernel's.
 */
int thread_start(struct space *s, uint64_t entry, uint64_t arg, uint64_t *tid)
{
	const uint64_t init = MICA_PAGER_THREAD_STACK_INIT;
	uint64_t area, top;
	struct thread *t;
	int64_t r;
	int e;

	/* An entry in the user half; tids left for the badge. */
	if (entry < MICA_USER_BASE || entry >= MICA_USER_TOP)
		return MICA_ERANGE;
	if (s->next_tid > THREAD_TID_MAX)
		return MICA_ENOMEM;
	/* Room for the thread's kernel block and its stack's first page under the memory limits. */
	if ((e = limit_mem_check(s, LIMIT_THREAD_PAGES + 1)) < 0)
		return e;
	/* An area for the whole stack and its guard, above the usual mappings. */
	if (region_find_gap(&s->regions, THREAD_AREA, MICA_PAGER_THREAD_BASE, &area) < 0 &&
	    (e = region_find_gap(&s->regions, THREAD_AREA, 0, &area)) < 0)
		return e;
	if (!(t = slab_alloc(&threads_cache)))
		return MICA_ENOMEM;
	top = area + THREAD_AREA;
	t->node.key = s->next_tid;
	t->stack = area;
	t->stack_top = top;
	if ((e = space_insert(s, top - init, top, REGION_READ | REGION_WRITE, REGION_STACK, t, 0)) <
	        0 ||
	    (e = space_insert(s, top - init - PAGE, top - init, 0, REGION_STACK, 0, 0)) < 0)
		goto undo;
	/* Its endpoint: pid and tid in the badge; the kernel keeps it for the thread. */
	if ((r = mica_handle_mint(pager_ep, MICA_RIGHT_SEND,
	                          s->pid | (s->next_tid << SPACE_TID_SHIFT))) < 0) {
		e = (int)r;
		goto undo;
	}
	mica_handle_t ep = (mica_handle_t)r;
	struct mica_thread_params p = {.entry = entry,
	                               .stack_top = top - 8, /* as if called: RSP + 8 aligned */
	                               .arg = arg,
	                               .priority = THREAD_PRIO,
	                               .pager = ep,
	                               .supervisor = ep};

	pool_feed_kernel(); /* the thread block comes from the kernel's reserve */
	r = mica_thread_create(s->as, &p);
	mica_handle_close(ep);
	if (r < 0) {
		e = (int)r;
		goto undo;
	}
	mica_handle_close((mica_handle_t)r); /* the process's end ends it: no handle needed */
	(void)idtree_insert(&s->threads, &t->node); /* a fresh tid: never there */
	s->threads_live++;
	*tid = s->next_tid++;
	return 0;
undo:
	stack_free(s, t);
	slab_free(&threads_cache, t);
	return e;
}

/*
 * Thread tid of s ended (its exit notice): its stack's frames back to the
 * pool; the record waits for thread_join. A notice for a thread not known
 * (already gone with its process) is ignored.
 */
void thread_ended(struct space *s, uint64_t tid, uint64_t reason, uint64_t code)
{
	struct thread *t = thread_find(s, tid);

	if (!t || t->state != THREAD_LIVE)
		return;
	stack_free(s, t);
	t->state = THREAD_ENDED;
	t->exit_reason = (uint32_t)reason;
	t->exit_code = code;
	s->threads_live--;
}

/*
 * pager.thread_join of s for tid: MICA_ENOENT no such thread, MICA_EAGAIN
 * it runs; else its reason and code, and the tid is forgotten.
 */
int thread_join(struct space *s, uint64_t tid, uint32_t *reason, uint64_t *code)
{
	struct thread *t = thread_find(s, tid);

	if (!t)
		return MICA_ENOENT;
	if (t->state == THREAD_LIVE)
		return MICA_EAGAIN;
	*reason = t->exit_reason;
	*code = t->exit_code;
	(void)idtree_remove(&s->threads, tid);
	slab_free(&threads_cache, t);
	return 0;
}

/* s has ended (space_teardown): forget its threads' records; their stacks went with it. */
void thread_forget_all(struct space *s)
{
	struct idnode *n;

	while ((n = idtree_next(&s->threads, 0))) {
		(void)idtree_remove(&s->threads, n->key);
		slab_free(&threads_cache, n);
	}
	s->threads_live = 0;
}

/* Records of threads, for the tests' frame counts. */
uint64_t thread_meta_frames(void)
{
	return threads_cache.slabs;
}
