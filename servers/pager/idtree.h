/*
 * A set of nodes keyed by a 64-bit id (the pager's processes by pid, a
 * process's threads by thread id): an intrusive AVL tree, so insert,
 * remove, find and next are O(log n) and nothing is allocated here (the
 * caller embeds a struct idnode in its own object). A standalone module:
 * freestanding C11, no libc; only the ABI headers (host test
 * tests/host/test_idtree.c).
 */
#ifndef PAGER_IDTREE_H
#define PAGER_IDTREE_H

#include <stddef.h>
#include <stdint.h>

#include <mica/error.h>

struct idnode {
	uint64_t key;                /* set by the caller before insert; fixed while in a tree */
	struct idnode *left, *right; /* private to idtree.c */
	int height;                  /* 1 for a leaf */
};

struct idtree {
	struct idnode *root;
	size_t count;
};

/* An empty tree. */
void idtree_init(struct idtree *t);
/* Add n (its key set). MICA_EEXIST if a node with that key is in t (nothing changes). */
int idtree_insert(struct idtree *t, struct idnode *n);
/* Take the node with key out of t: it, or NULL if there is none. */
struct idnode *idtree_remove(struct idtree *t, uint64_t key);
/* The node with key, or NULL. */
struct idnode *idtree_find(const struct idtree *t, uint64_t key);
/* The node with the lowest key above key (0 and then each key: a walk in order), or NULL. */
struct idnode *idtree_next(const struct idtree *t, uint64_t key);
/* Nodes in t. */
size_t idtree_count(const struct idtree *t);
/*
 * Verify t: keys in order, heights and balance right, count right. MICA_OK,
 * or MICA_EINVAL with *why (if why is not NULL) naming the broken rule. O(n).
 */
int idtree_check(const struct idtree *t, const char **why);

#endif /* PAGER_IDTREE_H */
