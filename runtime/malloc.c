/*
 * The heap (malloc, free, calloc, realloc): boundary-tag blocks with
 * segregated free lists, in one contiguous heap that grows through rt_sbrk
 * and gives its top back when a large free block ends there.
 *
 * Every block starts with an 8-byte header: its size (a multiple of 16,
 * header included) and two flags, USED and PREV_USED (the block just below
 * is in use). Headers sit 8 bytes below a 16-byte boundary, so payloads are
 * 16-byte aligned. A free block also holds its free-list links after the
 * header and a copy of its size in its last 8 bytes (the footer), which the
 * block above reads to merge with it; a used block has no footer, so its
 * overhead is the header alone. The heap ends with an epilogue: a header of
 * size 0 marked used, 8 bytes below the break.
 *
 * Free blocks are never adjacent (free merges both neighbours). Free lists:
 * one per size below 1 KiB (exact fit), then one per power of two (first
 * fit within it); a bitmap says which are not empty.
 *
 * Threads: every entry point holds one lock for the whole heap (a
 * test-and-set word; a thread that finds it held yields its turn and tries
 * again, as the runtime's mutex does: thread.c). A free that traps does so
 * holding it.
 */
#include "rt.h"
#ifndef MICA_HOST
#include <libipc/syscall.h>
#endif

#define ALIGN      16
#define HDR        8  /* header bytes of every block */
#define MIN_BLOCK  32 /* header, two links, footer */
#define USED       1u
#define PREV_USED  2u
#define FLAGS      15u
#define EXACT_MAX  1024 /* sizes below it have a list each */
#define EXACT_BINS (EXACT_MAX / ALIGN - MIN_BLOCK / ALIGN)
#define NBINS      (EXACT_BINS + 64 - 10)

/* The heap grows by at least this much, and gives back a free top block this large. */
#define GROW_MIN       (32u << 10)
#define TRIM_THRESHOLD (64u << 10)

struct node {
	struct node *next;
	struct node *prev;
};

static struct {
	int ready;
	char *base; /* the break when the heap began */
	char *lo;   /* the first block */
	char *end;  /* the break; the epilogue is the 8 bytes below it */
	struct node *bins[NBINS];
	uint64_t nonempty[(NBINS + 63) / 64];
	size_t used_bytes;
	size_t used_blocks;
} heap;

static inline uint64_t *hdr(char *b)
{
	return (uint64_t *)(void *)b;
}

static inline size_t bsize(char *b)
{
	return (size_t)(*hdr(b) & ~(uint64_t)FLAGS);
}

static inline char *epilogue(void)
{
	return heap.end - HDR;
}

/* The size stored in the footer of the free block ending at b. */
static inline size_t below_size(char *b)
{
	return (size_t)*hdr(b - HDR);
}

static inline void set_footer(char *b, size_t size)
{
	*hdr(b + size - HDR) = size;
}

static unsigned bin_of(size_t size)
{
	unsigned log2;

	if (size < EXACT_MAX)
		return (unsigned)(size / ALIGN - MIN_BLOCK / ALIGN);
	log2 = 63u - (unsigned)__builtin_clzll(size);
	return EXACT_BINS + (log2 - 10);
}

static void list_insert(char *b)
{
	unsigned i = bin_of(bsize(b));
	struct node *n = (struct node *)(void *)(b + HDR);

	n->prev = NULL;
	n->next = heap.bins[i];
	if (n->next)
		n->next->prev = n;
	heap.bins[i] = n;
	heap.nonempty[i / 64] |= 1ULL << (i % 64);
}

static void list_remove(char *b)
{
	unsigned i = bin_of(bsize(b));
	struct node *n = (struct node *)(void *)(b + HDR);

	if (n->prev)
		n->prev->next = n->next;
	else
		heap.bins[i] = n->next;
	if (n->next)
		n->next->prev = n->prev;
	if (!heap.bins[i])
		heap.nonempty[i / 64] &= ~(1ULL << (i % 64));
}

/* The first non-empty list at or above i, or NBINS. */
static unsigned next_bin(unsigned i)
{
	while (i < NBINS) {
		uint64_t w = heap.nonempty[i / 64] >> (i % 64);

		if (w)
			return i + (unsigned)__builtin_ctzll(w);
		i = (i / 64 + 1) * 64;
	}
	return NBINS;
}

/* A free block of at least asize bytes, still in its list; NULL if none. */
static char *find_fit(size_t asize)
{
	unsigned i = bin_of(asize);

	if (i >= EXACT_BINS && heap.bins[i]) {
		/* a power-of-two list: first fit */
		for (struct node *n = heap.bins[i]; n; n = n->next) {
			if (bsize((char *)n - HDR) >= asize)
				return (char *)n - HDR;
		}
		i++;
	}
	i = next_bin(i);
	return i < NBINS ? (char *)heap.bins[i] - HDR : NULL;
}

/* Start the heap at the break: padding up to the first header, then the epilogue. */
static int heap_init(void)
{
	char *base = rt_sbrk(0);
	size_t pad;

	if (base == (char *)-1)
		return 0;
	pad = (size_t)((ALIGN - HDR) - (uintptr_t)base % ALIGN) % ALIGN;
	if (rt_sbrk((intptr_t)(pad + HDR)) != base)
		return 0;
	heap.base = base;
	heap.lo = base + pad;
	heap.end = heap.lo + HDR;
	*hdr(heap.lo) = USED | PREV_USED;
	heap.ready = 1;
	return 1;
}

/* Give the free block b, which ends at the epilogue, back to rt_sbrk; 0 if it refuses. */
static int release_top(char *b)
{
	size_t size = bsize(b);

	if (rt_sbrk(-(intptr_t)size) == (void *)-1)
		return 0;
	*hdr(b) = (*hdr(b) & PREV_USED) | USED; /* the new epilogue */
	heap.end -= size;
	return 1;
}

/*
 * Make [b, b + size), in no list, a free block: merge it with its free
 * neighbours, then give it back if it is a large top block (and may_trim),
 * else list it. prev_used says whether the block below b is in use.
 */
static void free_block(char *b, size_t size, uint64_t prev_used, int may_trim)
{
	char *above = b + size;

	if (!(*hdr(above) & USED)) {
		list_remove(above);
		size += bsize(above);
	}
	if (!prev_used) {
		size_t below = below_size(b);

		b -= below;
		list_remove(b);
		size += below;
		prev_used = *hdr(b) & PREV_USED;
	}
	*hdr(b) = size | prev_used;
	set_footer(b, size);
	*hdr(b + size) &= ~(uint64_t)PREV_USED;
	if (may_trim && b + size == epilogue() && size >= TRIM_THRESHOLD && release_top(b))
		return;
	list_insert(b);
}

/*
 * Grow the heap so that its top free block has at least asize bytes;
 * returns that block (in its list), or NULL if rt_sbrk refuses.
 */
static char *extend(size_t asize)
{
	char *epi = epilogue();
	size_t have = (*hdr(epi) & PREV_USED) ? 0 : below_size(epi);
	size_t want = asize - have;
	size_t grow = want > GROW_MIN ? want : GROW_MIN;
	char *old;

	old = rt_sbrk((intptr_t)grow);
	if (old == (char *)-1 && grow > want) {
		grow = want; /* perhaps the little that was asked for still fits */
		old = rt_sbrk((intptr_t)grow);
	}
	if (old == (char *)-1)
		return NULL;
	if (old != heap.end) { /* someone else moved the break: not ours to use */
		rt_sbrk(-(intptr_t)grow);
		return NULL;
	}
	heap.end += grow;
	*hdr(epilogue()) = USED;
	free_block(epi, grow, *hdr(epi) & PREV_USED, 0);
	epi = epilogue();
	return epi - below_size(epi);
}

/* Mark the first asize bytes of free block b (in no list) used; free the rest if large enough. */
static void place(char *b, size_t asize)
{
	size_t size = bsize(b);
	uint64_t prev_used = *hdr(b) & PREV_USED;

	if (size - asize >= MIN_BLOCK) {
		*hdr(b) = asize | USED | prev_used;
		*hdr(b + asize) = (size - asize) | PREV_USED;
		set_footer(b + asize, size - asize);
		list_insert(b + asize);
	} else {
		asize = size;
		*hdr(b) = size | USED | prev_used;
		*hdr(b + size) |= PREV_USED;
	}
	heap.used_bytes += asize;
	heap.used_blocks++;
}

/* The block size for n payload bytes; 0 if n is too large. */
static size_t block_size(size_t n)
{
	if (n > SIZE_MAX / 2)
		return 0;
	n = (n + HDR + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	return n < MIN_BLOCK ? MIN_BLOCK : n;
}

/* The heap's lock (the host tests run one thread: nothing to yield to). */
static volatile int heap_locked;

static void heap_lock(void)
{
	while (__atomic_exchange_n(&heap_locked, 1, __ATOMIC_ACQUIRE)) {
#ifndef MICA_HOST
		(void)mica_yield();
#endif
	}
}

static void heap_unlock(void)
{
	__atomic_store_n(&heap_locked, 0, __ATOMIC_RELEASE);
}

/* fork.c: the heap's lock held across a fork, so the child's copy of the heap is whole. */
void rt_heap_fork_lock(void)
{
	heap_lock();
}

void rt_heap_fork_unlock(void)
{
	heap_unlock();
}

/* malloc: n bytes, 16-byte aligned (a unique pointer for n = 0); NULL if there is no memory. */
static void *heap_malloc(size_t n)
{
	size_t asize = block_size(n);
	char *b;

	if (!asize || (!heap.ready && !heap_init()))
		return NULL;
	b = find_fit(asize);
	if (!b)
		b = extend(asize);
	if (!b)
		return NULL;
	list_remove(b);
	place(b, asize);
	return b + HDR;
}

/* free: p from rt_malloc, rt_calloc or rt_realloc, or NULL. A block not in use traps. */
static void heap_free(void *p)
{
	char *b;
	size_t size;

	if (!p)
		return;
	b = (char *)p - HDR;
	if (!(*hdr(b) & USED))
		__builtin_trap(); /* a double free, or not a block */
	size = bsize(b);
	heap.used_bytes -= size;
	heap.used_blocks--;
	free_block(b, size, *hdr(b) & PREV_USED, 1);
}

/* calloc: count * size zeroed bytes; NULL if the product overflows or there is no memory. */
void *rt_calloc(size_t count, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(count, size, &n))
		return NULL;
	heap_lock();
	p = heap_malloc(n);
	heap_unlock();
	if (p)
		rt_memset(p, 0, n);
	return p;
}

/* Cut used block b down to asize bytes (<= its size), freeing the tail if large enough. */
static void shrink(char *b, size_t asize)
{
	size_t size = bsize(b);

	if (size - asize < MIN_BLOCK)
		return;
	*hdr(b) = asize | (*hdr(b) & (USED | PREV_USED));
	heap.used_bytes -= size - asize;
	*hdr(b + asize) = (size - asize) | USED | PREV_USED;
	free_block(b + asize, size - asize, PREV_USED, 1);
}

/*
 * realloc: p's block resized to n bytes, in place when it can shrink or the
 * block above is free (or the heap's top, which then grows), else moved.
 * NULL p is malloc; n = 0 keeps a minimal block. On failure returns NULL
 * and p is untouched.
 */
static void *heap_realloc(void *p, size_t n)
{
	size_t asize = block_size(n);
	char *b, *above, *top;
	size_t size, room;
	void *q;

	if (!p)
		return heap_malloc(n);
	b = (char *)p - HDR;
	if (!asize)
		return NULL;
	size = bsize(b);
	if (asize <= size) {
		shrink(b, asize);
		return p;
	}
	above = b + size;
	room = (*hdr(above) & USED) ? 0 : bsize(above);
	if (size + room < asize && (above == epilogue() || above + room == epilogue())) {
		/* b is the top used block: grow the heap under it */
		top = extend(asize - size);
		if (top) {
			room = bsize(top);
			above = top;
		}
	}
	if (size + room >= asize) {
		list_remove(above);
		heap.used_bytes += room;
		*hdr(b) += room;
		*hdr(b + size + room) |= PREV_USED;
		shrink(b, asize);
		return p;
	}
	q = heap_malloc(n);
	if (!q)
		return NULL;
	rt_memcpy(q, p, size - HDR);
	heap_free(p);
	return q;
}

void *rt_malloc(size_t n)
{
	heap_lock();
	void *p = heap_malloc(n);

	heap_unlock();
	return p;
}

void rt_free(void *p)
{
	heap_lock();
	heap_free(p);
	heap_unlock();
}

void *rt_realloc(void *p, size_t n)
{
	heap_lock();
	void *q = heap_realloc(p, n);

	heap_unlock();
	return q;
}

/* Give back the free top block, whatever its size. */
void rt_malloc_trim(void)
{
	char *epi;

	heap_lock();
	if (!heap.ready || (*hdr(epilogue()) & PREV_USED)) {
		heap_unlock();
		return;
	}
	epi = epilogue();
	epi -= below_size(epi);
	list_remove(epi);
	if (!release_top(epi))
		list_insert(epi);
	heap_unlock();
}

void rt_heap_forget(void)
{
	rt_memset(&heap, 0, sizeof(heap));
}

void rt_heap_stats(struct rt_heap_stats *st)
{
	rt_memset(st, 0, sizeof(*st));
	if (!heap.ready)
		return;
	st->heap_bytes = (size_t)(heap.end - heap.base);
	st->used_bytes = heap.used_bytes;
	st->used_blocks = heap.used_blocks;
	for (char *b = heap.lo; b < epilogue(); b += bsize(b)) {
		if (!(*hdr(b) & USED)) {
			st->free_bytes += bsize(b);
			st->free_blocks++;
		}
	}
}

/* Every list: each node a free block of the list's size class, linked both ways. */
static const char *check_lists(size_t free_blocks, size_t free_bytes)
{
	size_t blocks = 0, bytes = 0;

	for (unsigned i = 0; i < NBINS; i++) {
		struct node *prev = NULL;
		int bit = (heap.nonempty[i / 64] >> (i % 64)) & 1;

		/* the bitmap says which lists are not empty */
		if (bit != (heap.bins[i] != NULL))
			return "a list's bit in the bitmap is wrong";
		for (struct node *n = heap.bins[i]; n; prev = n, n = n->next) {
			char *b = (char *)n - HDR;

			/* each node is a free block inside the heap, of this list's class */
			if (blocks++ >= free_blocks)
				return "more blocks in the lists than free blocks (or a cycle)";
			if (b < heap.lo || b >= epilogue() || (uintptr_t)n % ALIGN)
				return "a list node outside the heap or misaligned";
			if (*hdr(b) & USED)
				return "a used block in a free list";
			if (bin_of(bsize(b)) != i)
				return "a free block in the wrong list";
			if (below_size(b + bsize(b)) != bsize(b) ||
			    (*hdr(b + bsize(b)) & PREV_USED))
				return "a listed block's footer or neighbour is wrong";
			if (n->prev != prev)
				return "a list's back link is wrong";
			bytes += bsize(b);
		}
	}
	if (blocks != free_blocks || bytes != free_bytes)
		return "the lists do not hold every free block";
	return NULL;
}

/* heap_check: walk every block, then every list; NULL if all is consistent. */
const char *rt_heap_check(void)
{
	size_t used_blocks = 0, used_bytes = 0, free_blocks = 0, free_bytes = 0;
	uint64_t prev_used = PREV_USED;
	char *b;

	if (!heap.ready)
		return NULL;
	/* the first header is 8 bytes below a 16-byte boundary, within 16 bytes of the start */
	if ((uintptr_t)(heap.lo + HDR) % ALIGN || heap.lo < heap.base ||
	    heap.lo >= heap.base + ALIGN)
		return "the first block is misplaced";
	for (b = heap.lo; b < epilogue(); b += bsize(b)) {
		size_t size = bsize(b);

		/* a size that is a multiple of 16, at least the minimum, inside the heap */
		if (size < MIN_BLOCK || (*hdr(b) & (FLAGS & ~(USED | PREV_USED))))
			return "a block's size or flags are bad";
		if (size > (size_t)(epilogue() - b))
			return "a block runs past the epilogue";
		/* PREV_USED tells the truth */
		if ((*hdr(b) & PREV_USED) != prev_used)
			return "a block's PREV_USED flag is wrong";
		if (*hdr(b) & USED) {
			used_blocks++;
			used_bytes += size;
			prev_used = PREV_USED;
			continue;
		}
		/* free: never beside another free block, footer equal to header */
		if (!prev_used)
			return "two free blocks side by side";
		if (below_size(b + size) != size)
			return "a free block's footer differs from its header";
		free_blocks++;
		free_bytes += size;
		prev_used = 0;
	}
	/* the walk ends exactly at the epilogue */
	if (b != epilogue())
		return "the blocks do not end at the epilogue";
	if (bsize(b) != 0 || !(*hdr(b) & USED) || (*hdr(b) & PREV_USED) != prev_used)
		return "the epilogue is bad";
	/* the counts kept match the walk */
	if (used_blocks != heap.used_blocks || used_bytes != heap.used_bytes)
		return "the used counts differ from the walk";
	return check_lists(free_blocks, free_bytes);
}

RT_ALIAS(malloc, rt_malloc)
RT_ALIAS(free, rt_free)
RT_ALIAS(calloc, rt_calloc)
RT_ALIAS(realloc, rt_realloc)
RT_ALIAS(malloc_trim, rt_malloc_trim)
RT_ALIAS(heap_check, rt_heap_check)
