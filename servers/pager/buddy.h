/*
 * Buddy allocator for the pager's physical frames (the user pool). A
 * standalone module: freestanding C11, no libc, no other Mica code; only the
 * error codes of <mica/error.h>.
 *
 * Blocks are 2^order frames (4 KiB each), order 0 to BUDDY_MAX_ORDER, and
 * aligned to their size in absolute frame numbers, so an order-9 block is a
 * 2 MiB large page and an order-18 block a 1 GiB page. The managed span is
 * [base, base + nframes); the pool is the frames buddy_add_range() gave,
 * with holes anywhere and no alignment. Allocation takes the lowest free
 * block of the smallest order that fits and splits it; free merges a block
 * with its free buddy as long as there is one (full coalescing).
 *
 * Metadata (all in the caller's memory, nothing in the frames themselves,
 * which the pager need not have mapped): for each order k, one bit per
 * 2^k-aligned position of the span in two bitmaps, "a free block starts
 * here" and "an allocated block starts here", and above the free bitmap a
 * summary tree with one bit per non-empty 64-bit word. Per frame that is
 * 2 * (1 + 1/2 + 1/4 + ...) = 4 bits, plus 1/63 for the summaries: about
 * 0.51 bytes per frame, and a fixed ~300 bytes of rounding. The order of an
 * allocated block is the bitmap its start bit is in, so a free with the
 * wrong order is caught; the frame a block is freed at must be its start.
 *
 * Cost (n = frames in the span, L = summary levels, at most 6 and 5 for
 * any pool below 1 TiB): alloc and free touch at most BUDDY_MAX_ORDER + 1
 * orders and L words for each, so O(log n) with no scan of the pool. The
 * usual case is a few words, on fast paths that make no call but tail
 * calls (order 0, the pager's frame size, has its own copy, compiled for
 * it):
 *   - each order remembers the lowest bitmap word that may hold a free
 *     block (the hint): alloc takes the lowest set bit there, and the
 *     allocated bitmap's bit is the same word and bit;
 *   - free tests the allocated bit at the order given (blocks never
 *     overlap, so that one bit proves the free right; only a wrong free
 *     searches the orders for the precise error) and the buddy's free bit,
 *     in the same word when the order's first position is even;
 *   - the stale word: when an order-0 allocation empties its word, the
 *     word's summary bits are left set (at most one word is so, named in
 *     struct buddy). The usual next step, the frame coming back, then costs
 *     no summary work either; any other operation that changes the bitmaps
 *     settles it first (a descent of the summary tree would be led to the
 *     empty word), so after a free or an added range there is none, and the
 *     metadata is the same whatever the history.
 * buddy_add_range is O(count / 32) (it proves the range is not in the
 * pool yet); buddy_check is O(n / 64 + blocks + hole frames).
 */
#ifndef PAGER_BUDDY_H
#define PAGER_BUDDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/error.h>

#define BUDDY_MAX_ORDER  18           /* 2^18 frames: 1 GiB, the largest x86_64 page */
#define BUDDY_LEVELS     6            /* summary levels: 64^6 bits covers BUDDY_MAX_FRAMES */
#define BUDDY_MAX_FRAMES (1ULL << 32) /* largest span: 16 TiB */
#define BUDDY_FRAME_END  (1ULL << 40) /* frames lie below 2^52 bytes (x86_64 physical limit) */

/* One order's bitmaps. Private to buddy.c (its tests corrupt them to test buddy_check). */
struct buddy_order {
	uint64_t first;                /* position 0 is frame (first << order) */
	uint64_t nbits;                /* positions: aligned blocks meeting the span */
	uint64_t nfree;                /* free blocks of this order */
	uint64_t *alloc;               /* bit i: an allocated block starts at position i */
	uint64_t *free[BUDDY_LEVELS];  /* free[0] bit i: a free block starts at position i; */
	uint64_t nwords[BUDDY_LEVELS]; /*   free[l + 1] bit w: free[l][w] != 0 */
	unsigned levels;               /* free[levels - 1] is a single word */
	uint64_t hint;                 /* free[0] words below this one are all empty */
};

#define BUDDY_NO_STALE UINT64_MAX /* struct buddy's stale: no word is stale */

/*
 * An allocator. The caller owns this struct and the metadata memory passed
 * to buddy_init(); nothing else is allocated. Not thread-safe: the pager
 * calls it from one thread.
 */
struct buddy {
	uint64_t base;    /* first frame of the span */
	uint64_t nframes; /* frames in the span */
	uint64_t pool;    /* frames added with buddy_add_range() */
	uint64_t nfree;   /* of those, free now */
	uint64_t stale;   /* order 0's stale word, or BUDDY_NO_STALE (see above) */
	struct buddy_order order[BUDDY_MAX_ORDER + 1];
};

/*
 * Bytes of metadata buddy_init() needs for the span [base, base + nframes).
 * 0 if the span is invalid (empty, larger than BUDDY_MAX_FRAMES, or
 * reaching past BUDDY_FRAME_END).
 */
size_t buddy_meta_size(uint64_t base, uint64_t nframes);

/*
 * Start an allocator over the span [base, base + nframes) with an empty
 * pool, taking meta_size bytes at meta (8-byte aligned, at least
 * buddy_meta_size(base, nframes)) for its metadata until it is dropped.
 * Errors: MICA_EINVAL (NULL pointer, misaligned meta, nframes 0 or above
 * BUDDY_MAX_FRAMES), MICA_ERANGE (span reaching past BUDDY_FRAME_END),
 * MICA_ENOMEM (meta_size too small). On error b is left unusable.
 */
int buddy_init(struct buddy *b, void *meta, size_t meta_size, uint64_t base, uint64_t nframes);

/*
 * Give the frames [first, first + count) to the pool as free memory,
 * merged with free neighbours already there. Ranges may come in any order
 * and need no alignment. Errors (nothing changes): MICA_EINVAL (count 0),
 * MICA_ERANGE (not inside the span), MICA_EEXIST (a frame of it is in the
 * pool already).
 */
int buddy_add_range(struct buddy *b, uint64_t first, uint64_t count);

/*
 * Allocate a block of 2^order frames, aligned to its size; its first frame
 * goes to *frame. Takes the lowest block of the smallest free order that
 * fits. Errors (nothing changes): MICA_EINVAL (order above
 * BUDDY_MAX_ORDER, frame NULL), MICA_ENOMEM (no free block that large: the
 * pool has no 2^order-aligned run of 2^order free frames).
 */
int buddy_alloc(struct buddy *b, unsigned order, uint64_t *frame);

/*
 * Free the block of 2^order frames starting at frame, which buddy_alloc()
 * returned with this order. Errors (nothing changes; checked in this order):
 *   MICA_EINVAL  order above BUDDY_MAX_ORDER
 *   MICA_ERANGE  frame outside the span
 *   MICA_EFRAME  frame inside the span but not in the pool (never added)
 *   MICA_ENOENT  frame is free: a double free, or never allocated
 *   MICA_EBUSY   frame is inside an allocated block but not its first frame
 *   MICA_EINVAL  the block at frame was allocated with another order
 */
int buddy_free(struct buddy *b, uint64_t frame, unsigned order);

/*
 * The block holding frame: its first frame, order and whether it is free.
 * Any of the out pointers may be NULL. Errors: MICA_ERANGE (outside the
 * span), MICA_EFRAME (not in the pool).
 */
int buddy_block(const struct buddy *b, uint64_t frame, uint64_t *start, unsigned *order,
                bool *is_free);

/* Free frames in the pool. */
uint64_t buddy_free_count(const struct buddy *b);

/* Frames in the pool, free or allocated. */
uint64_t buddy_pool_count(const struct buddy *b);

/* Free blocks of exactly this order (0 above BUDDY_MAX_ORDER). */
uint64_t buddy_free_blocks(const struct buddy *b, unsigned order);

/* The order of the largest free block, or -1 if nothing is free. */
int buddy_largest_free_order(const struct buddy *b);

/*
 * Verify the whole structure: summaries match their bitmaps (order 0's
 * stale word, if any, is empty and its summary bit set), every block
 * lies in the span, no position is both free and allocated, no two blocks
 * overlap, no two free buddies are left unmerged, and the per-order and
 * total counts are exact. MICA_OK, or MICA_EINVAL with *why (if why is not
 * NULL) naming the first broken rule. For tests and debug builds: it walks
 * every word of the metadata.
 */
int buddy_check(const struct buddy *b, const char **why);

#endif /* PAGER_BUDDY_H */
