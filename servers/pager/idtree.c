/*
 * An intrusive AVL tree keyed by a 64-bit id (idtree.h). The recursive
 * insert and remove go at most 1.44 log2(n + 2) deep (under 100 for any
 * n that fits in memory), so the stack they use is small and bounded.
 */
#include "idtree.h"

static int height(const struct idnode *n)
{
	return n ? n->height : 0;
}

static void fix(struct idnode *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = (l > r ? l : r) + 1;
}

static struct idnode *rotate_right(struct idnode *n)
{
	struct idnode *l = n->left;

	n->left = l->right;
	l->right = n;
	fix(n);
	fix(l);
	return l;
}

static struct idnode *rotate_left(struct idnode *n)
{
	struct idnode *r = n->right;

	n->right = r->left;
	r->left = n;
	fix(n);
	fix(r);
	return r;
}

/* Restore balance at n after one of its subtrees changed height by one; the new subtree root. */
static struct idnode *balance(struct idnode *n)
{
	int d = height(n->left) - height(n->right);

	fix(n);
	if (d > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (d < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

void idtree_init(struct idtree *t)
{
	t->root = NULL;
	t->count = 0;
}

static struct idnode *insert(struct idnode *at, struct idnode *n, int *err)
{
	if (!at) {
		n->left = n->right = NULL;
		n->height = 1;
		return n;
	}
	if (n->key == at->key) {
		*err = MICA_EEXIST;
		return at;
	}
	if (n->key < at->key)
		at->left = insert(at->left, n, err);
	else
		at->right = insert(at->right, n, err);
	return *err ? at : balance(at);
}

/* Add n to t (idtree.h). */
int idtree_insert(struct idtree *t, struct idnode *n)
{
	int err = 0;

	t->root = insert(t->root, n, &err);
	if (!err)
		t->count++;
	return err;
}

/* Unlink the lowest node of the subtree at (into *min); the subtree's new root. */
static struct idnode *take_min(struct idnode *at, struct idnode **min)
{
	if (!at->left) {
		*min = at;
		return at->right;
	}
	at->left = take_min(at->left, min);
	return balance(at);
}

static struct idnode *remove(struct idnode *at, uint64_t key, struct idnode **gone)
{
	if (!at)
		return NULL;
	if (key < at->key) {
		at->left = remove(at->left, key, gone);
	} else if (key > at->key) {
		at->right = remove(at->right, key, gone);
	} else {
		struct idnode *m;

		*gone = at;
		if (!at->left || !at->right)
			return at->left ? at->left : at->right;
		/* Two children: the lowest node of the right subtree takes its place. */
		at->right = take_min(at->right, &m);
		m->left = at->left;
		m->right = at->right;
		at = m;
	}
	return *gone ? balance(at) : at;
}

/* Take the node with key out of t (idtree.h). */
struct idnode *idtree_remove(struct idtree *t, uint64_t key)
{
	struct idnode *gone = NULL;

	t->root = remove(t->root, key, &gone);
	if (gone)
		t->count--;
	return gone;
}

/* The node with key (idtree.h). */
struct idnode *idtree_find(const struct idtree *t, uint64_t key)
{
	struct idnode *n = t->root;

	while (n && n->key != key)
		n = key < n->key ? n->left : n->right;
	return n;
}

/* The node with the lowest key above key (idtree.h). */
struct idnode *idtree_next(const struct idtree *t, uint64_t key)
{
	struct idnode *n = t->root, *best = NULL;

	while (n) {
		if (n->key > key) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

size_t idtree_count(const struct idtree *t)
{
	return t->count;
}

/* Check the subtree at n with keys in (lo, hi) (bounds open when has_*); its height or -1. */
static int check(const struct idnode *n, uint64_t lo, int has_lo, uint64_t hi, int has_hi,
                 size_t *seen, size_t cap, const char **why)
{
	if (!n)
		return 0;
	if (++*seen > cap || n->height > 128) {
		*why = "more nodes than counted, or a cycle";
		return -1;
	}
	if ((has_lo && n->key <= lo) || (has_hi && n->key >= hi)) {
		*why = "keys out of order";
		return -1;
	}
	int l = check(n->left, lo, has_lo, n->key, 1, seen, cap, why);

	if (l < 0)
		return -1;
	int r = check(n->right, n->key, 1, hi, has_hi, seen, cap, why);

	if (r < 0)
		return -1;
	if (n->height != (l > r ? l : r) + 1) {
		*why = "wrong height";
		return -1;
	}
	if (l - r > 1 || r - l > 1) {
		*why = "out of balance";
		return -1;
	}
	return n->height;
}

/* Verify t (idtree.h). */
int idtree_check(const struct idtree *t, const char **why)
{
	const char *w = NULL;
	size_t seen = 0;

	if (check(t->root, 0, 0, 0, 0, &seen, t->count, &w) < 0 || seen != t->count) {
		if (why)
			*why = w ? w : "fewer nodes than counted";
		return MICA_EINVAL;
	}
	return MICA_OK;
}
