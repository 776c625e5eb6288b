/*
 * The regions of one address space: a sorted set of disjoint, page-aligned
 * ranges of the user half, each with rights, a kind and a word for its owner.
 * A standalone module: freestanding C11, no libc; only the ABI headers.
 *
 * Structure: an AVL tree keyed by start address, its nodes taken from an
 * array the caller gives or from the caller's allocator. Each node also
 * keeps, for its subtree, the lowest start, the highest end and the widest
 * gap between two consecutive regions, so region_find_gap() finds the
 * lowest fitting gap in O(log n) instead of walking every region, and every
 * other operation (insert, remove, find, next, resize) is O(log n) too.
 * Why not a sorted array: its inserts and removes move O(n) entries, and a
 * gap search would still walk them; address spaces with many mappings
 * (a heap of mmaps, thread stacks) would pay for it on every fault path.
 * Why AVL: deterministic (no random seed), height at most 1.44 log2(n + 2),
 * and the recursive form is short.
 */
#ifndef PAGER_REGION_H
#define PAGER_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mica/error.h>
#include <mica/layout.h>
#include <mica/memory.h>

/* Rights: the kernel's mapping rights. Write and execute never go together. */
#define REGION_READ  MICA_MAP_READ
#define REGION_WRITE MICA_MAP_WRITE
#define REGION_EXEC  MICA_MAP_EXEC

/* What backs a region, which decides what a fault in it does. */
enum region_kind {
	REGION_ANON,   /* zero-filled on first touch */
	REGION_IMAGE,  /* a program image's segment */
	REGION_HEAP,   /* zero-filled, end moved by brk */
	REGION_STACK,  /* zero-filled, a thread's stack */
	REGION_SHARED, /* frames shared with other address spaces */
	REGION_OBJECT, /* a memory object's mapping (data: its record), or a server's window */
	REGION_KINDS   /* number of kinds, not a kind */
};

struct region {
	/* The region: set by region_insert (end also by region_resize); read-only to callers. */
	uint64_t start;  /* first byte, page aligned */
	uint64_t end;    /* first byte past it, page aligned, > start */
	uint32_t rights; /* REGION_READ | REGION_WRITE | REGION_EXEC */
	enum region_kind kind;
	void *data; /* the owner's: region.c never reads it */

	/* The tree: private to region.c. */
	struct region *left, *right; /* spare nodes are linked through left */
	uint64_t lo;                 /* lowest start in this subtree */
	uint64_t hi;                 /* highest end in this subtree */
	uint64_t gap;                /* widest gap between consecutive regions of this subtree */
	int height;                  /* 1 for a leaf, 0 for a spare node */
};

/* A set. The caller owns it and its node array; not thread-safe. */
struct region_set {
	struct region *root;
	struct region *spare; /* unused nodes */
	/* Or nodes from the owner (region_set_init_alloc): NULL for an array. */
	struct region *(*alloc)(void *ctx);
	void (*release)(void *ctx, struct region *node);
	void *ctx;
	struct region *nodes; /* the array given to region_set_init */
	size_t capacity;      /* nodes in it */
	size_t count;         /* regions in the tree */
	/* What region_find_last found last (NULL: nothing); cleared on removal. */
	struct region *last;
};

/* Start an empty set whose regions live in nodes[0 .. capacity). */
void region_set_init(struct region_set *s, struct region *nodes, size_t capacity);

/*
 * Start an empty set whose nodes come from alloc(ctx) (NULL: none left, the
 * insert fails with MICA_ENOMEM) and go back by release(ctx, node) when
 * removed: no fixed capacity. The owner may allocate more than a struct
 * region and keep its own data after it (the pager keeps what is backed).
 */
void region_set_init_alloc(struct region_set *s, struct region *(*alloc)(void *ctx),
                           void (*release)(void *ctx, struct region *node), void *ctx);

/*
 * Add the region [start, end) with the given rights, kind and owner data;
 * *out (if out is not NULL) points to it until it is removed. Errors,
 * checked in this order (nothing changes):
 *   MICA_EALIGN  start or end not page aligned
 *   MICA_EINVAL  empty (end <= start)
 *   MICA_ERANGE  not inside [MICA_USER_BASE, MICA_USER_TOP)
 *   MICA_EPERM   write and execute together
 *   MICA_EINVAL  unknown rights bits, write or execute without read (x86_64
 *                pages are always readable), or an unknown kind
 *   MICA_EEXIST  it overlaps a region of the set
 *   MICA_ENOMEM  the node array is full (or the owner's alloc gave none)
 * Rights 0 is allowed: a reservation (guard pages) that faults on any access.
 */
int region_insert(struct region_set *s, uint64_t start, uint64_t end, uint32_t rights,
                  enum region_kind kind, void *data, struct region **out);

/*
 * Remove the region starting at start; its node goes back to the array and
 * pointers to it are stale. Error: MICA_ENOENT (no region starts there).
 */
int region_remove(struct region_set *s, uint64_t start);

/* The region holding addr, or NULL. */
struct region *region_find(const struct region_set *s, uint64_t addr);
/*
 * region_find for a caller that asks about one region many times (a
 * process's faults, page after page): the region found last is tried
 * first, without a descent. Regions are disjoint and a node stays the same
 * region until it is removed (which forgets it), so the answer is
 * region_find's.
 */
struct region *region_find_remember(struct region_set *s, uint64_t addr);

static inline struct region *region_find_last(struct region_set *s, uint64_t addr)
{
	struct region *r = s->last;

	return r != NULL && r->start <= addr && addr < r->end ? r : region_find_remember(s, addr);
}

/* The region holding addr, else the first one above it, or NULL if there is none. */
struct region *region_find_from(const struct region_set *s, uint64_t addr);

/* The lowest region, or NULL if the set is empty. */
struct region *region_first(const struct region_set *s);

/* The region after r (a region of s), or NULL if r is the last. */
struct region *region_next(const struct region_set *s, const struct region *r);

/* Regions in the set. */
size_t region_count(const struct region_set *s);

/*
 * The lowest page-aligned address a >= hint with [a, a + size) free and
 * inside the user half (hint below MICA_USER_BASE counts as MICA_USER_BASE;
 * an unaligned hint is rounded up). Nothing below hint is considered: ask
 * again with hint 0 to search from the bottom. Errors: MICA_EINVAL (size
 * 0), MICA_EALIGN (size not page aligned), MICA_ENOMEM (no such gap).
 */
int region_find_gap(const struct region_set *s, uint64_t size, uint64_t hint, uint64_t *start);

/*
 * Move the end of the region starting at start to new_end, growing or
 * shrinking it (brk). Errors (nothing changes): MICA_ENOENT (no region
 * starts there), MICA_EALIGN (new_end not page aligned), MICA_EINVAL
 * (new_end <= start), MICA_ERANGE (new_end above MICA_USER_TOP),
 * MICA_EEXIST (it would overlap the next region).
 */
int region_resize(struct region_set *s, uint64_t start, uint64_t new_end);

/*
 * Verify the whole set: every region valid, in order and disjoint, AVL
 * heights and balance right, subtree bounds and gaps right, count right,
 * every node in the array and either in the tree or spare, never both.
 * MICA_OK, or MICA_EINVAL with *why (if why is not NULL) naming the first
 * broken rule. For tests and debug builds: O(capacity).
 */
int region_check(const struct region_set *s, const char **why);

#endif /* PAGER_REGION_H */
