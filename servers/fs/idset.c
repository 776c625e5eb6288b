/*
 * Sets of 64-bit ids (pids, object numbers): a sorted array grown by
 * doubling, so a lookup is a binary search, O(log n), and the set is
 * bounded by memory only. Adding and removing shift the tail (O(n) moves
 * of 8 bytes, no allocation but the growth). clients.c keeps its clients'
 * pids in one, objects.c each object's grantees.
 */
#include "fs.h"

#include <mica/error.h>
#include <stdlib.h>

/* The index of the first id >= id. */
static size_t lower_bound(const struct idset *s, uint64_t id)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->v[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

bool idset_has(const struct idset *s, uint64_t id)
{
	size_t i = lower_bound(s, id);

	return i < s->n && s->v[i] == id;
}

int idset_add(struct idset *s, uint64_t id)
{
	size_t i = lower_bound(s, id);

	if (i < s->n && s->v[i] == id)
		return MICA_OK;
	if (s->n == s->cap) {
		size_t n = s->cap ? s->cap * 2 : 8;
		uint64_t *v = realloc(s->v, n * sizeof(*v));

		if (!v)
			return MICA_ENOMEM;
		s->v = v;
		s->cap = n;
	}
	for (size_t k = s->n; k > i; k--)
		s->v[k] = s->v[k - 1];
	s->v[i] = id;
	s->n++;
	return MICA_OK;
}

bool idset_remove(struct idset *s, uint64_t id)
{
	size_t i = lower_bound(s, id);

	if (i >= s->n || s->v[i] != id)
		return false;
	for (size_t k = i + 1; k < s->n; k++)
		s->v[k - 1] = s->v[k];
	s->n--;
	return true;
}

void idset_free(struct idset *s)
{
	free(s->v);
	*s = (struct idset){0};
}
