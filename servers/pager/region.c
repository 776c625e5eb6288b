/*
 * Region set: an AVL tree of disjoint regions keyed by start, each node
 * carrying its subtree's lowest start, highest end and widest inner gap
 * (region.h says why). The tree is recursive: its height is at most about
 * 1.44 log2(capacity), so the stack depth is small and bounded. The public
 * functions, their errors and their callers are described in region.h.
 */
#include "region.h"

#define PAGE_MASK  (MICA_PAGE_SIZE - 1)
#define RIGHTS_ALL (REGION_READ | REGION_WRITE | REGION_EXEC)

static int height(const struct region *x)
{
	return x != NULL ? x->height : 0;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Recompute x's height, bounds and widest gap from its children. */
static void update(struct region *x)
{
	const struct region *l = x->left, *r = x->right;
	uint64_t gap = 0;

	x->height = 1 + (height(l) > height(r) ? height(l) : height(r));
	x->lo = l != NULL ? l->lo : x->start;
	x->hi = r != NULL ? r->hi : x->end;
	if (l != NULL)
		gap = max_u64(l->gap, x->start - l->hi);
	if (r != NULL)
		gap = max_u64(gap, max_u64(r->gap, r->lo - x->end));
	x->gap = gap;
}

static struct region *rotate_right(struct region *x)
{
	struct region *l = x->left;

	x->left = l->right;
	l->right = x;
	update(x);
	update(l);
	return l;
}

static struct region *rotate_left(struct region *x)
{
	struct region *r = x->right;

	x->right = r->left;
	r->left = x;
	update(x);
	update(r);
	return r;
}

/* Restore the AVL balance at x, whose subtrees are balanced and differ in height by at most 2. */
static struct region *rebalance(struct region *x)
{
	int bf;

	update(x);
	bf = height(x->left) - height(x->right);
	if (bf > 1) {
		if (height(x->left->left) < height(x->left->right))
			x->left = rotate_left(x->left);
		return rotate_right(x);
	}
	if (bf < -1) {
		if (height(x->right->right) < height(x->right->left))
			x->right = rotate_right(x->right);
		return rotate_left(x);
	}
	return x;
}

static struct region *insert_node(struct region *x, struct region *n)
{
	if (x == NULL)
		return n;
	if (n->start < x->start)
		x->left = insert_node(x->left, n);
	else
		x->right = insert_node(x->right, n);
	return rebalance(x);
}

/* Unlink the lowest node of x into *min; returns the new subtree. */
static struct region *remove_min(struct region *x, struct region **min)
{
	if (x->left == NULL) {
		*min = x;
		return x->right;
	}
	x->left = remove_min(x->left, min);
	return rebalance(x);
}

/* Unlink the node starting at start into *out (left NULL if there is none). */
static struct region *remove_node(struct region *x, uint64_t start, struct region **out)
{
	struct region *m;

	if (x == NULL)
		return NULL;
	if (start < x->start) {
		x->left = remove_node(x->left, start, out);
	} else if (start > x->start) {
		x->right = remove_node(x->right, start, out);
	} else {
		*out = x;
		if (x->left == NULL)
			return x->right;
		if (x->right == NULL)
			return x->left;
		x->right = remove_min(x->right, &m);
		m->left = x->left;
		m->right = x->right;
		x = m;
	}
	return rebalance(x);
}

/* Recompute the nodes on the path to the node starting at start, after its end moved. */
static void update_path(struct region *x, uint64_t start)
{
	if (x == NULL)
		return;
	if (start < x->start)
		update_path(x->left, start);
	else if (start > x->start)
		update_path(x->right, start);
	update(x);
}

void region_set_init(struct region_set *s, struct region *nodes, size_t capacity)
{
	s->root = NULL;
	s->spare = NULL;
	s->alloc = NULL;
	s->release = NULL;
	s->ctx = NULL;
	s->nodes = nodes;
	s->capacity = capacity;
	s->count = 0;
	s->last = NULL;
	for (size_t i = capacity; i-- > 0;) {
		nodes[i].left = s->spare;
		nodes[i].height = 0; /* spare nodes have height 0, tree nodes at least 1 */
		s->spare = &nodes[i];
	}
}

void region_set_init_alloc(struct region_set *s, struct region *(*alloc)(void *ctx),
                           void (*release)(void *ctx, struct region *node), void *ctx)
{
	region_set_init(s, NULL, 0);
	s->alloc = alloc;
	s->release = release;
	s->ctx = ctx;
}

int region_insert(struct region_set *s, uint64_t start, uint64_t end, uint32_t rights,
                  enum region_kind kind, void *data, struct region **out)
{
	struct region *n, *next;

	/* Page aligned, not empty, inside the user half. */
	if ((start & PAGE_MASK) != 0 || (end & PAGE_MASK) != 0)
		return MICA_EALIGN;
	if (end <= start)
		return MICA_EINVAL;
	if (start < MICA_USER_BASE || end > MICA_USER_TOP)
		return MICA_ERANGE;
	/* W^X, known rights, readable if accessible at all, a known kind. */
	if ((rights & REGION_WRITE) && (rights & REGION_EXEC))
		return MICA_EPERM;
	if ((rights & ~RIGHTS_ALL) != 0 || (rights != 0 && !(rights & REGION_READ)))
		return MICA_EINVAL;
	if ((unsigned)kind >= REGION_KINDS)
		return MICA_EINVAL;
	/* No overlap: the first region ending above start must begin at or after end. */
	next = region_find_from(s, start);
	if (next != NULL && next->start < end)
		return MICA_EEXIST;
	/* A free node: a spare one, or one from the owner's allocator. */
	if (s->alloc != NULL) {
		if ((n = s->alloc(s->ctx)) == NULL)
			return MICA_ENOMEM;
	} else {
		if (s->spare == NULL)
			return MICA_ENOMEM;
		n = s->spare;
		s->spare = n->left;
	}
	n->start = start;
	n->end = end;
	n->rights = rights;
	n->kind = kind;
	n->data = data;
	n->left = NULL;
	n->right = NULL;
	update(n);
	s->root = insert_node(s->root, n);
	s->count++;
	if (out != NULL)
		*out = n;
	return MICA_OK;
}

int region_remove(struct region_set *s, uint64_t start)
{
	struct region *gone = NULL;

	s->root = remove_node(s->root, start, &gone);
	if (gone == NULL)
		return MICA_ENOENT;
	gone->right = NULL;
	gone->height = 0;
	s->count--;
	if (s->last == gone)
		s->last = NULL;
	if (s->release != NULL) {
		s->release(s->ctx, gone);
		return MICA_OK;
	}
	gone->left = s->spare;
	s->spare = gone;
	return MICA_OK;
}

struct region *region_find_from(const struct region_set *s, uint64_t addr)
{
	struct region *x = s->root, *best = NULL;

	/* Regions are disjoint, so ends sort like starts: find the lowest end above addr. */
	while (x != NULL) {
		if (x->end > addr) {
			best = x;
			x = x->left;
		} else {
			x = x->right;
		}
	}
	return best;
}

struct region *region_find(const struct region_set *s, uint64_t addr)
{
	struct region *r = region_find_from(s, addr);

	return r != NULL && r->start <= addr ? r : NULL;
}

/* region_find_last when the region found last does not hold addr: a descent, remembered. */
struct region *region_find_remember(struct region_set *s, uint64_t addr)
{
	struct region *r = region_find(s, addr);

	if (r != NULL)
		s->last = r;
	return r;
}

struct region *region_first(const struct region_set *s)
{
	struct region *x = s->root;

	while (x != NULL && x->left != NULL)
		x = x->left;
	return x;
}

struct region *region_next(const struct region_set *s, const struct region *r)
{
	return region_find_from(s, r->end);
}

size_t region_count(const struct region_set *s)
{
	return s->count;
}

/*
 * Search the regions of x that start at or after key, in address order,
 * for the first gap of at least size bytes before one of them: between
 * *prev (the end of the region before them, or where the search began)
 * and the first, or between two of them. On success *prev is the gap's
 * start; otherwise it is the end of the last region visited. `whole` says
 * every region of x starts at or after key: then the subtree's bounds and
 * widest gap decide in O(1) whether it holds a fit, so only one path is
 * walked down after the path to key.
 */
static bool gap_search(const struct region *x, uint64_t key, uint64_t size, bool whole,
                       uint64_t *prev)
{
	if (x == NULL)
		return false;
	if (whole) {
		if (x->lo - *prev < size && x->gap < size) {
			*prev = x->hi;
			return false;
		}
	} else if (x->start < key) {
		return gap_search(x->right, key, size, false, prev);
	}
	if (gap_search(x->left, key, size, whole, prev))
		return true;
	if (x->start - *prev >= size)
		return true;
	*prev = x->end;
	return gap_search(x->right, key, size, true, prev);
}

int region_find_gap(const struct region_set *s, uint64_t size, uint64_t hint, uint64_t *start)
{
	const struct region *r;
	uint64_t at;

	/* A whole number of pages, not none. */
	if (size == 0)
		return MICA_EINVAL;
	if ((size & PAGE_MASK) != 0)
		return MICA_EALIGN;
	/* Start at the hint, rounded up into the user half, or past the region holding it. */
	if (hint < MICA_USER_BASE)
		hint = MICA_USER_BASE;
	if (hint > MICA_USER_TOP)
		return MICA_ENOMEM;
	at = (hint + PAGE_MASK) & ~PAGE_MASK;
	r = region_find(s, at);
	if (r != NULL)
		at = r->end;

	if (gap_search(s->root, at, size, false, &at))
		goto found;
	/* Past the last region: up to the top of the user half. */
	if (at <= MICA_USER_TOP && MICA_USER_TOP - at >= size)
		goto found;
	return MICA_ENOMEM;
found:
	*start = at;
	return MICA_OK;
}

int region_resize(struct region_set *s, uint64_t start, uint64_t new_end)
{
	struct region *r = region_find(s, start), *next;

	/* A region starting there; the new end aligned, above start, in the user half. */
	if (r == NULL || r->start != start)
		return MICA_ENOENT;
	if ((new_end & PAGE_MASK) != 0)
		return MICA_EALIGN;
	if (new_end <= start)
		return MICA_EINVAL;
	if (new_end > MICA_USER_TOP)
		return MICA_ERANGE;
	/* Not into the next region. */
	next = region_next(s, r);
	if (next != NULL && new_end > next->start)
		return MICA_EEXIST;

	r->end = new_end;
	update_path(s->root, start);
	return MICA_OK;
}

/* Report a broken rule from region_check. */
static int broken(const char **why, const char *rule)
{
	if (why != NULL)
		*why = rule;
	return MICA_EINVAL;
}

static bool in_array(const struct region_set *s, const struct region *x)
{
	/* Nodes from the owner's allocator are anywhere. */
	return s->alloc != NULL || (x >= s->nodes && x < s->nodes + s->capacity);
}

/* Walk of the tree for region_check: the state carried in address order. */
struct walk {
	uint64_t prev_end; /* end of the last region seen, 0 before the first */
	size_t nodes;      /* regions seen */
	const char *why;
};

/* Check the subtree x at the given depth; returns its height, or -1 with w->why set. */
static int check_node(const struct region_set *s, const struct region *x, int depth, struct walk *w)
{
	int hl, hr;
	uint64_t gap = 0;

	if (x == NULL)
		return 0;
	/* A node of the array, not reached twice (a cycle makes the tree too deep). */
	if (!in_array(s, x) || depth > 2 * 64 ||
	    w->nodes >= (s->alloc != NULL ? s->count : s->capacity)) {
		w->why = "tree node outside the array, or a cycle";
		return -1;
	}
	hl = check_node(s, x->left, depth + 1, w);
	if (hl < 0)
		return -1;
	/* The region itself, then its place after the previous one. */
	if ((x->start & PAGE_MASK) != 0 || (x->end & PAGE_MASK) != 0 || x->end <= x->start ||
	    x->start < MICA_USER_BASE || x->end > MICA_USER_TOP) {
		w->why = "region misaligned, empty or outside the user half";
		return -1;
	}
	if (((x->rights & REGION_WRITE) && (x->rights & REGION_EXEC)) ||
	    (x->rights & ~RIGHTS_ALL) != 0 || (x->rights != 0 && !(x->rights & REGION_READ)) ||
	    (unsigned)x->kind >= REGION_KINDS) {
		w->why = "region rights or kind invalid";
		return -1;
	}
	if (x->start < w->prev_end) {
		w->why = "regions out of order or overlapping";
		return -1;
	}
	w->prev_end = x->end;
	w->nodes++;
	hr = check_node(s, x->right, depth + 1, w);
	if (hr < 0)
		return -1;
	/* AVL shape and the cached subtree summary. */
	if (hl - hr > 1 || hr - hl > 1 || x->height != 1 + (hl > hr ? hl : hr)) {
		w->why = "AVL height or balance wrong";
		return -1;
	}
	if (x->left != NULL)
		gap = max_u64(x->left->gap, x->start - x->left->hi);
	if (x->right != NULL)
		gap = max_u64(gap, max_u64(x->right->gap, x->right->lo - x->end));
	if (x->lo != (x->left != NULL ? x->left->lo : x->start) ||
	    x->hi != (x->right != NULL ? x->right->hi : x->end) || x->gap != gap) {
		w->why = "subtree bounds or widest gap wrong";
		return -1;
	}
	return x->height;
}

int region_check(const struct region_set *s, const char **why)
{
	struct walk w = {0, 0, NULL};
	size_t spare = 0;

	if (check_node(s, s->root, 0, &w) < 0)
		return broken(why, w.why);
	if (w.nodes != s->count)
		return broken(why, "region count wrong");
	if (s->alloc != NULL)
		return MICA_OK; /* no spare list: removed nodes went back to the owner */
	/* Every other node spare: count the list, bounded so a cycle ends it. */
	for (const struct region *x = s->spare; x != NULL; x = x->left) {
		if (!in_array(s, x) || spare >= s->capacity)
			return broken(why, "spare list leaves the array, or loops");
		if (x->height != 0)
			return broken(why, "node both in the tree and spare");
		spare++;
	}
	if (spare + s->count != s->capacity)
		return broken(why, "nodes neither in the tree nor spare, or both");
	return MICA_OK;
}
