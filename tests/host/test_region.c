/*
 * Host unit tests for servers/pager/region.c: the region set against a
 * plain sorted-array model, exhaustive small layouts, every refusal, and
 * the AVL height bound. region_check runs after every operation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include <mica/layout.h>
#include "servers/pager/region.h"
#include "rng.h"

#define PAGE MICA_PAGE_SIZE
#define BASE MICA_USER_BASE
#define TOP  MICA_USER_TOP
#define R    REGION_READ
#define W    REGION_WRITE
#define X    REGION_EXEC
#define RW   (R | W)
#define RX   (R | X)

static void check(const struct region_set *s)
{
	const char *why = NULL;

	if (region_check(s, &why) != MICA_OK)
		fail_msg("region_check: %s", why);
}

/* A set over a node array of the given capacity, full of garbage. */
struct fixture {
	struct region_set s;
	struct region *nodes;
};

static void fx_init(struct fixture *fx, size_t capacity)
{
	fx->nodes = malloc(capacity * sizeof(struct region) + 1);
	assert_non_null(fx->nodes);
	memset(fx->nodes, 0xA5, capacity * sizeof(struct region));
	region_set_init(&fx->s, fx->nodes, capacity);
	check(&fx->s);
}

static void fx_done(struct fixture *fx)
{
	free(fx->nodes);
}

static void *tag(uint64_t n)
{
	return (void *)(uintptr_t)(n * 16 + 8);
}

/* The reference model: the regions in a sorted array, searched linearly. */
struct mreg {
	uint64_t start, end;
	uint32_t rights;
	enum region_kind kind;
	void *data;
};

struct model {
	struct mreg *r;
	size_t n, capacity;
};

static void model_init(struct model *m, size_t capacity)
{
	m->r = calloc(capacity + 1, sizeof(struct mreg));
	assert_non_null(m->r);
	m->n = 0;
	m->capacity = capacity;
}

static void model_done(struct model *m)
{
	free(m->r);
}

/* Index of the first region ending above addr (m->n if none). */
static size_t model_from(const struct model *m, uint64_t addr)
{
	size_t i = 0;

	while (i < m->n && m->r[i].end <= addr)
		i++;
	return i;
}

/* What region_insert must return, by region.h's rules, in its order. */
static int model_insert_result(const struct model *m, uint64_t start, uint64_t end, uint32_t rights,
                               unsigned kind)
{
	size_t i;

	if ((start % PAGE) != 0 || (end % PAGE) != 0)
		return MICA_EALIGN;
	if (end <= start)
		return MICA_EINVAL;
	if (start < BASE || end > TOP)
		return MICA_ERANGE;
	if ((rights & W) && (rights & X))
		return MICA_EPERM;
	if ((rights & ~7u) != 0 || (rights != 0 && !(rights & R)) || kind >= REGION_KINDS)
		return MICA_EINVAL;
	i = model_from(m, start);
	if (i < m->n && m->r[i].start < end)
		return MICA_EEXIST;
	if (m->n == m->capacity)
		return MICA_ENOMEM;
	return MICA_OK;
}

static void model_insert(struct model *m, uint64_t start, uint64_t end, uint32_t rights,
                         enum region_kind kind, void *data)
{
	size_t i = model_from(m, start);

	memmove(&m->r[i + 1], &m->r[i], (m->n - i) * sizeof(struct mreg));
	m->r[i] = (struct mreg){start, end, rights, kind, data};
	m->n++;
}

/* Index of the region starting at start, or m->n. */
static size_t model_at(const struct model *m, uint64_t start)
{
	size_t i = model_from(m, start);

	return i < m->n && m->r[i].start == start ? i : m->n;
}

static void model_remove(struct model *m, size_t i)
{
	memmove(&m->r[i], &m->r[i + 1], (m->n - i - 1) * sizeof(struct mreg));
	m->n--;
}

static int model_resize_result(const struct model *m, uint64_t start, uint64_t new_end)
{
	size_t i = model_at(m, start);

	if (i == m->n)
		return MICA_ENOENT;
	if (new_end % PAGE != 0)
		return MICA_EALIGN;
	if (new_end <= start)
		return MICA_EINVAL;
	if (new_end > TOP)
		return MICA_ERANGE;
	if (i + 1 < m->n && new_end > m->r[i + 1].start)
		return MICA_EEXIST;
	return MICA_OK;
}

/* region_find_gap by a walk over every region. */
static int model_gap(const struct model *m, uint64_t size, uint64_t hint, uint64_t *start)
{
	uint64_t a;

	if (size == 0)
		return MICA_EINVAL;
	if (size % PAGE != 0)
		return MICA_EALIGN;
	a = hint < BASE ? BASE : hint;
	if (a > TOP)
		return MICA_ENOMEM;
	a = (a + PAGE - 1) / PAGE * PAGE;
	for (size_t i = 0; i < m->n; i++) {
		if (m->r[i].end <= a)
			continue;
		if (m->r[i].start > a && m->r[i].start - a >= size) {
			*start = a;
			return MICA_OK;
		}
		a = m->r[i].end;
	}
	if (TOP - a >= size) {
		*start = a;
		return MICA_OK;
	}
	return MICA_ENOMEM;
}

static void expect_region(const struct region *r, const struct mreg *e)
{
	assert_non_null(r);
	assert_int_equal(r->start, e->start);
	assert_int_equal(r->end, e->end);
	assert_int_equal(r->rights, e->rights);
	assert_int_equal(r->kind, e->kind);
	assert_ptr_equal(r->data, e->data);
}

/* The set holds exactly the model's regions, in order (first/next). */
static void expect_model(const struct region_set *s, const struct model *m)
{
	const struct region *r = region_first(s);

	assert_int_equal(region_count(s), m->n);
	for (size_t i = 0; i < m->n; i++) {
		expect_region(r, &m->r[i]);
		r = region_next(s, r);
	}
	assert_null(r);
}

/* find and find_from at addr agree with the model. */
static void expect_lookup(const struct region_set *s, const struct model *m, uint64_t addr)
{
	size_t i = model_from(m, addr);
	const struct region *from = region_find_from(s, addr), *in = region_find(s, addr);

	if (i == m->n) {
		assert_null(from);
		assert_null(in);
		return;
	}
	expect_region(from, &m->r[i]);
	if (m->r[i].start <= addr)
		expect_region(in, &m->r[i]);
	else
		assert_null(in);
}

static void expect_gap(const struct region_set *s, const struct model *m, uint64_t size,
                       uint64_t hint)
{
	uint64_t want = 0, got = 0;
	int err = model_gap(m, size, hint, &want);

	assert_int_equal(region_find_gap(s, size, hint, &got), err);
	if (err == MICA_OK)
		assert_int_equal(got, want);
}

/* Insert through both, expecting what the model predicts. */
static int do_insert(struct region_set *s, struct model *m, uint64_t start, uint64_t end,
                     uint32_t rights, unsigned kind, void *data)
{
	struct region *r = NULL;
	int want = model_insert_result(m, start, end, rights, kind);
	int err = region_insert(s, start, end, rights, (enum region_kind)kind, data, &r);

	assert_int_equal(err, want);
	if (err == MICA_OK) {
		model_insert(m, start, end, rights, (enum region_kind)kind, data);
		assert_non_null(r);
		assert_ptr_equal(region_find(s, start), r);
	}
	check(s);
	return err;
}

static int do_remove(struct region_set *s, struct model *m, uint64_t start)
{
	size_t i = model_at(m, start);
	int err = region_remove(s, start);

	assert_int_equal(err, i == m->n ? MICA_ENOENT : MICA_OK);
	if (err == MICA_OK)
		model_remove(m, i);
	check(s);
	return err;
}

static int do_resize(struct region_set *s, struct model *m, uint64_t start, uint64_t new_end)
{
	int want = model_resize_result(m, start, new_end);
	int err = region_resize(s, start, new_end);

	assert_int_equal(err, want);
	if (err == MICA_OK)
		m->r[model_at(m, start)].end = new_end;
	check(s);
	return err;
}

/* ---------------------------------------------------------------------------------------- */

static void test_empty(void **state)
{
	struct fixture fx;
	uint64_t a = 0;

	(void)state;
	fx_init(&fx, 4);
	assert_int_equal(region_count(&fx.s), 0);
	assert_null(region_first(&fx.s));
	assert_null(region_find(&fx.s, BASE));
	assert_null(region_find_from(&fx.s, 0));
	assert_int_equal(region_remove(&fx.s, BASE), MICA_ENOENT);
	assert_int_equal(region_resize(&fx.s, BASE, BASE + PAGE), MICA_ENOENT);
	assert_int_equal(region_find_gap(&fx.s, PAGE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE);
	assert_int_equal(region_find_gap(&fx.s, TOP - BASE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE);
	assert_int_equal(region_find_gap(&fx.s, TOP - BASE + PAGE, 0, &a), MICA_ENOMEM);
	check(&fx.s);
	fx_done(&fx);

	/* A set with no nodes at all. */
	struct region_set none;
	region_set_init(&none, NULL, 0);
	check(&none);
	assert_int_equal(region_insert(&none, BASE, BASE + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_ENOMEM);
	check(&none);
}

static void test_insert_refusals(void **state)
{
	struct fixture fx;
	struct region *r = NULL;

	(void)state;
	fx_init(&fx, 4);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 4 * PAGE, BASE + 8 * PAGE, RW, REGION_HEAP, tag(1), &r),
	    MICA_OK);
	assert_non_null(r);
	/* Alignment, emptiness, range. */
	assert_int_equal(region_insert(&fx.s, BASE + 1, BASE + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_EALIGN);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE - 1, R, REGION_ANON, NULL, NULL),
	                 MICA_EALIGN);
	assert_int_equal(region_insert(&fx.s, BASE, BASE, R, REGION_ANON, NULL, NULL), MICA_EINVAL);
	assert_int_equal(region_insert(&fx.s, BASE + PAGE, BASE, R, REGION_ANON, NULL, NULL),
	                 MICA_EINVAL);
	assert_int_equal(region_insert(&fx.s, 0, PAGE, R, REGION_ANON, NULL, NULL), MICA_ERANGE);
	assert_int_equal(region_insert(&fx.s, BASE - PAGE, BASE + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_ERANGE);
	assert_int_equal(region_insert(&fx.s, TOP - PAGE, TOP + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_ERANGE);
	assert_int_equal(region_insert(&fx.s, TOP, TOP + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_ERANGE);
	assert_int_equal(region_insert(&fx.s, MICA_KERNEL_HALF, MICA_KERNEL_HALF + PAGE, R,
	                               REGION_ANON, NULL, NULL),
	                 MICA_ERANGE);
	/* Rights and kind. */
	assert_int_equal(
	    region_insert(&fx.s, BASE, BASE + PAGE, R | W | X, REGION_ANON, NULL, NULL),
	    MICA_EPERM);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, W | X, REGION_ANON, NULL, NULL),
	                 MICA_EPERM);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, W, REGION_ANON, NULL, NULL),
	                 MICA_EINVAL);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, X, REGION_IMAGE, NULL, NULL),
	                 MICA_EINVAL);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, R | 8, REGION_ANON, NULL, NULL),
	                 MICA_EINVAL);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, R, REGION_KINDS, NULL, NULL),
	                 MICA_EINVAL);
	assert_int_equal(
	    region_insert(&fx.s, BASE, BASE + PAGE, R, (enum region_kind) - 1, NULL, NULL),
	    MICA_EINVAL);
	/* Overlaps: same, inside, around, either edge. */
	assert_int_equal(
	    region_insert(&fx.s, BASE + 4 * PAGE, BASE + 8 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_EEXIST);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 5 * PAGE, BASE + 6 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_EEXIST);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + 9 * PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_EEXIST);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + 5 * PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_EEXIST);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 7 * PAGE, BASE + 9 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_EEXIST);
	check(&fx.s);
	assert_int_equal(region_count(&fx.s), 1);
	/* Touching on either side is fine; so are rights 0, R, R|X and every kind. */
	assert_int_equal(region_insert(&fx.s, BASE, BASE + 4 * PAGE, RX, REGION_IMAGE, NULL, NULL),
	                 MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 8 * PAGE, BASE + 9 * PAGE, 0, REGION_STACK, NULL, NULL),
	    MICA_OK);
	assert_int_equal(region_insert(&fx.s, TOP - PAGE, TOP, R, REGION_SHARED, NULL, NULL),
	                 MICA_OK);
	check(&fx.s);
	/* The array is full: refused, until a region goes. */
	assert_int_equal(
	    region_insert(&fx.s, BASE + 20 * PAGE, BASE + 21 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_ENOMEM);
	/* Overlap is reported before a full array. */
	assert_int_equal(region_insert(&fx.s, BASE, BASE + PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_EEXIST);
	assert_int_equal(region_remove(&fx.s, BASE + 8 * PAGE), MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 20 * PAGE, BASE + 21 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_OK);
	check(&fx.s);
	assert_int_equal(region_count(&fx.s), 4);
	/* The first region is untouched by all of that. */
	r = region_find(&fx.s, BASE + 6 * PAGE + 123);
	assert_non_null(r);
	assert_int_equal(r->start, BASE + 4 * PAGE);
	assert_int_equal(r->end, BASE + 8 * PAGE);
	assert_int_equal(r->rights, RW);
	assert_int_equal(r->kind, REGION_HEAP);
	assert_ptr_equal(r->data, tag(1));
	fx_done(&fx);
}

/*
 * region_find_last: the region found last answers first, and only for
 * addresses within it; a removal forgets it, so a node reused for another
 * region is found by its new bounds; a resize is seen at once.
 */
static void test_find_last(void **state)
{
	struct fixture fx;
	struct region *a, *b;

	(void)state;
	fx_init(&fx, 4);
	assert_int_equal(region_insert(&fx.s, BASE, BASE + 2 * PAGE, RW, REGION_HEAP, tag(1), &a),
	                 MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 4 * PAGE, BASE + 6 * PAGE, RW, REGION_ANON, tag(2), &b),
	    MICA_OK);
	assert_null(fx.s.last);
	assert_ptr_equal(region_find_last(&fx.s, BASE + PAGE + 8), a);
	assert_ptr_equal(fx.s.last, a);
	assert_ptr_equal(region_find_last(&fx.s, BASE), a);
	assert_null(region_find_last(&fx.s, BASE + 2 * PAGE)); /* just past a: the gap */
	assert_ptr_equal(fx.s.last, a);
	assert_ptr_equal(region_find_last(&fx.s, BASE + 6 * PAGE - 1), b);
	assert_ptr_equal(fx.s.last, b);
	/* b removed: forgotten; its node comes back as [8, 9), found by those bounds only. */
	assert_int_equal(region_remove(&fx.s, BASE + 4 * PAGE), MICA_OK);
	assert_null(fx.s.last);
	assert_null(region_find_last(&fx.s, BASE + 5 * PAGE));
	assert_int_equal(
	    region_insert(&fx.s, BASE + 8 * PAGE, BASE + 9 * PAGE, R, REGION_ANON, tag(3), &b),
	    MICA_OK);
	assert_ptr_equal(region_find_last(&fx.s, BASE + 8 * PAGE), b);
	assert_null(region_find_last(&fx.s, BASE + 5 * PAGE));
	/* a grown: its new pages are found through it, from the cache too. */
	assert_ptr_equal(region_find_last(&fx.s, BASE), a);
	assert_int_equal(region_resize(&fx.s, BASE, BASE + 3 * PAGE), MICA_OK);
	assert_ptr_equal(region_find_last(&fx.s, BASE + 2 * PAGE), a);
	assert_int_equal(region_resize(&fx.s, BASE, BASE + PAGE), MICA_OK);
	assert_null(region_find_last(&fx.s, BASE + PAGE));
	check(&fx.s);
	fx_done(&fx);
}

static void test_lookup_and_iteration(void **state)
{
	struct fixture fx;
	const struct region *r;

	(void)state;
	fx_init(&fx, 8);
	/* Regions at pages [10, 12), [12, 13), [20, 30); inserted out of order. */
	assert_int_equal(
	    region_insert(&fx.s, BASE + 20 * PAGE, BASE + 30 * PAGE, RW, REGION_ANON, tag(3), NULL),
	    MICA_OK);
	assert_int_equal(region_insert(&fx.s, BASE + 10 * PAGE, BASE + 12 * PAGE, RX, REGION_IMAGE,
	                               tag(1), NULL),
	                 MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 12 * PAGE, BASE + 13 * PAGE, R, REGION_IMAGE, tag(2), NULL),
	    MICA_OK);
	check(&fx.s);
	assert_null(region_find(&fx.s, BASE + 10 * PAGE - 1));
	assert_int_equal(region_find(&fx.s, BASE + 10 * PAGE)->start, BASE + 10 * PAGE);
	assert_int_equal(region_find(&fx.s, BASE + 12 * PAGE - 1)->start, BASE + 10 * PAGE);
	assert_int_equal(region_find(&fx.s, BASE + 12 * PAGE)->start, BASE + 12 * PAGE);
	assert_null(region_find(&fx.s, BASE + 13 * PAGE));
	assert_null(region_find(&fx.s, BASE + 19 * PAGE + PAGE - 1));
	assert_int_equal(region_find(&fx.s, BASE + 30 * PAGE - 1)->start, BASE + 20 * PAGE);
	assert_null(region_find(&fx.s, BASE + 30 * PAGE));
	assert_null(region_find(&fx.s, UINT64_MAX));
	assert_int_equal(region_find_from(&fx.s, 0)->start, BASE + 10 * PAGE);
	assert_int_equal(region_find_from(&fx.s, BASE + 13 * PAGE)->start, BASE + 20 * PAGE);
	assert_int_equal(region_find_from(&fx.s, BASE + 25 * PAGE)->start, BASE + 20 * PAGE);
	assert_null(region_find_from(&fx.s, BASE + 30 * PAGE));

	r = region_first(&fx.s);
	assert_ptr_equal(r->data, tag(1));
	r = region_next(&fx.s, r);
	assert_ptr_equal(r->data, tag(2));
	r = region_next(&fx.s, r);
	assert_ptr_equal(r->data, tag(3));
	assert_null(region_next(&fx.s, r));

	/* Remove needs the exact start. */
	assert_int_equal(region_remove(&fx.s, BASE + 11 * PAGE), MICA_ENOENT);
	assert_int_equal(region_remove(&fx.s, BASE + 10 * PAGE + 1), MICA_ENOENT);
	assert_int_equal(region_remove(&fx.s, BASE + 12 * PAGE), MICA_OK);
	assert_int_equal(region_remove(&fx.s, BASE + 12 * PAGE), MICA_ENOENT);
	check(&fx.s);
	assert_null(region_find(&fx.s, BASE + 12 * PAGE));
	assert_int_equal(region_count(&fx.s), 2);
	fx_done(&fx);
}

static void test_resize(void **state)
{
	struct fixture fx;

	(void)state;
	fx_init(&fx, 4);
	/* A heap at [10, 12) below a region at [20, 21); a region at the very top. */
	assert_int_equal(
	    region_insert(&fx.s, BASE + 10 * PAGE, BASE + 12 * PAGE, RW, REGION_HEAP, NULL, NULL),
	    MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 20 * PAGE, BASE + 21 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, TOP - 2 * PAGE, TOP - PAGE, RW, REGION_STACK, NULL, NULL),
	    MICA_OK);
	/* Refusals, in the documented order. */
	assert_int_equal(region_resize(&fx.s, BASE + 11 * PAGE, BASE + 15 * PAGE), MICA_ENOENT);
	assert_int_equal(region_resize(&fx.s, BASE + 13 * PAGE, BASE + 15 * PAGE), MICA_ENOENT);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 15 * PAGE + 1), MICA_EALIGN);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 10 * PAGE), MICA_EINVAL);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE), MICA_EINVAL);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 21 * PAGE), MICA_EEXIST);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 20 * PAGE + PAGE),
	                 MICA_EEXIST);
	assert_int_equal(region_resize(&fx.s, TOP - 2 * PAGE, TOP + PAGE), MICA_ERANGE);
	check(&fx.s);
	assert_int_equal(region_find(&fx.s, BASE + 10 * PAGE)->end, BASE + 12 * PAGE);
	/* Grow up to the next region, shrink to one page, grow the top one to the top. */
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 20 * PAGE), MICA_OK);
	check(&fx.s);
	assert_int_equal(region_find(&fx.s, BASE + 19 * PAGE)->start, BASE + 10 * PAGE);
	assert_int_equal(region_resize(&fx.s, BASE + 10 * PAGE, BASE + 11 * PAGE), MICA_OK);
	check(&fx.s);
	assert_null(region_find(&fx.s, BASE + 11 * PAGE));
	assert_int_equal(region_resize(&fx.s, TOP - 2 * PAGE, TOP), MICA_OK);
	check(&fx.s);
	/* The gap search sees the new ends. */
	uint64_t a;
	assert_int_equal(region_find_gap(&fx.s, 9 * PAGE, BASE + 10 * PAGE, &a), MICA_OK);
	assert_int_equal(a, BASE + 11 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 10 * PAGE, BASE + 10 * PAGE, &a), MICA_OK);
	assert_int_equal(a, BASE + 21 * PAGE);
	fx_done(&fx);
}

static void test_find_gap(void **state)
{
	struct fixture fx;
	uint64_t a = 0;

	(void)state;
	fx_init(&fx, 8);
	/* Regions at pages [0, 2), [3, 5), [9, 10) from BASE; one ending at the top. */
	assert_int_equal(region_insert(&fx.s, BASE, BASE + 2 * PAGE, R, REGION_ANON, NULL, NULL),
	                 MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 3 * PAGE, BASE + 5 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 9 * PAGE, BASE + 10 * PAGE, R, REGION_ANON, NULL, NULL),
	    MICA_OK);
	assert_int_equal(region_insert(&fx.s, TOP - 4 * PAGE, TOP, R, REGION_STACK, NULL, NULL),
	                 MICA_OK);
	/* Refusals. */
	assert_int_equal(region_find_gap(&fx.s, 0, 0, &a), MICA_EINVAL);
	assert_int_equal(region_find_gap(&fx.s, PAGE + 1, 0, &a), MICA_EALIGN);
	assert_int_equal(region_find_gap(&fx.s, PAGE, TOP, &a), MICA_ENOMEM);
	assert_int_equal(region_find_gap(&fx.s, PAGE, TOP - PAGE, &a), MICA_ENOMEM);
	assert_int_equal(region_find_gap(&fx.s, PAGE, UINT64_MAX, &a), MICA_ENOMEM);
	assert_int_equal(region_find_gap(&fx.s, TOP - BASE, 0, &a), MICA_ENOMEM);
	/* The first fit from the bottom, from a hint in a gap, in a region, unaligned. */
	assert_int_equal(region_find_gap(&fx.s, PAGE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE + 2 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 2 * PAGE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE + 5 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 4 * PAGE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE + 5 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 5 * PAGE, 0, &a), MICA_OK);
	assert_int_equal(a, BASE + 10 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 2 * PAGE, BASE + 6 * PAGE, &a), MICA_OK);
	assert_int_equal(a, BASE + 6 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 4 * PAGE, BASE + 6 * PAGE, &a), MICA_OK);
	assert_int_equal(a, BASE + 10 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, PAGE, BASE + 3 * PAGE + 5, &a), MICA_OK);
	assert_int_equal(a, BASE + 5 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, PAGE, BASE + 5 * PAGE + 1, &a), MICA_OK);
	assert_int_equal(a, BASE + 6 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, PAGE, BASE + 2 * PAGE - 1, &a), MICA_OK);
	assert_int_equal(a, BASE + 2 * PAGE);
	/* The space just below the top region, and nothing past it. */
	assert_int_equal(region_find_gap(&fx.s, PAGE, TOP - 5 * PAGE, &a), MICA_OK);
	assert_int_equal(a, TOP - 5 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, 2 * PAGE, TOP - 5 * PAGE, &a), MICA_ENOMEM);
	assert_int_equal(region_find_gap(&fx.s, TOP - 4 * PAGE - (BASE + 10 * PAGE), 0, &a),
	                 MICA_OK);
	assert_int_equal(a, BASE + 10 * PAGE);
	assert_int_equal(region_find_gap(&fx.s, TOP - 4 * PAGE - (BASE + 10 * PAGE) + PAGE, 0, &a),
	                 MICA_ENOMEM);
	/* A size that would overflow any address. */
	assert_int_equal(region_find_gap(&fx.s, UINT64_MAX & ~(PAGE - 1), 0, &a), MICA_ENOMEM);
	check(&fx.s);
	fx_done(&fx);
}

/* The fewest nodes an AVL tree of height h can have. */
static uint64_t avl_min_nodes(int h)
{
	uint64_t below = 0, at = 0; /* heights h - 2 and h - 1, then h - 1 and h */

	for (int i = 1; i <= h; i++) {
		uint64_t next = i == 1 ? 1 : at + below + 1;

		below = at;
		at = next;
	}
	return at;
}

/* Heights stay within the AVL bound under ascending, descending and alternating inserts. */
static void test_balance(void **state)
{
	const size_t n = 4096;

	(void)state;
	for (int how = 0; how < 3; how++) {
		struct fixture fx;

		fx_init(&fx, n);
		for (size_t i = 0; i < n; i++) {
			uint64_t page = how == 0   ? i
			                : how == 1 ? n - 1 - i
			                : i % 2    ? n / 2 + i / 2
			                           : n / 2 - 1 - i / 2;

			assert_int_equal(region_insert(&fx.s, BASE + 2 * page * PAGE,
			                               BASE + (2 * page + 1) * PAGE, R, REGION_ANON,
			                               NULL, NULL),
			                 MICA_OK);
			if (i % 97 == 0)
				check(&fx.s);
			assert_true(avl_min_nodes(fx.s.root->height) <= i + 1);
		}
		check(&fx.s);
		assert_true(fx.s.root->height <=
		            14); /* 1.44 log2(4098) - 0.33 = 16.9; AVL builds tighter */
		/* Every other region out, then the rest from the top: balanced throughout. */
		for (size_t i = 0; i < n; i += 2) {
			assert_int_equal(region_remove(&fx.s, BASE + 2 * i * PAGE), MICA_OK);
			if (i % 98 == 0)
				check(&fx.s);
			assert_true(avl_min_nodes(fx.s.root->height) <= region_count(&fx.s));
		}
		for (size_t i = n; i-- > 1;)
			if (i % 2)
				assert_int_equal(region_remove(&fx.s, BASE + 2 * i * PAGE),
				                 MICA_OK);
		check(&fx.s);
		assert_int_equal(region_count(&fx.s), 0);
		assert_null(fx.s.root);
		fx_done(&fx);
	}
}

/*
 * Every sequence of three inserts of intervals of a 6-page window (21
 * intervals, 9261 sequences; overlapping ones refused): then lookups at
 * every page and page edge, gap searches for every size and hint, every
 * resize (undone), and removal in insertion order.
 */
static void test_exhaustive_small(void **state)
{
	const uint64_t win = 6;
	uint64_t iv[21][2], niv = 0;

	(void)state;
	for (uint64_t a = 0; a < win; a++)
		for (uint64_t b = a + 1; b <= win; b++) {
			iv[niv][0] = BASE + a * PAGE;
			iv[niv][1] = BASE + b * PAGE;
			niv++;
		}
	assert_int_equal(niv, 21);
	for (uint64_t seq = 0; seq < 21 * 21 * 21; seq++) {
		struct fixture fx;
		struct model m;
		uint64_t pick[3] = {seq % 21, seq / 21 % 21, seq / 441};

		fx_init(&fx, 3);
		model_init(&m, 3);
		for (int i = 0; i < 3; i++)
			do_insert(&fx.s, &m, iv[pick[i]][0], iv[pick[i]][1], R, REGION_ANON,
			          tag(i));
		expect_model(&fx.s, &m);
		for (uint64_t p = 0; p <= win + 1; p++) {
			expect_lookup(&fx.s, &m, BASE + p * PAGE);
			expect_lookup(&fx.s, &m, BASE + p * PAGE - 1);
		}
		for (uint64_t size = 1; size <= win + 1; size++)
			for (uint64_t h = 0; h <= win + 1; h++)
				expect_gap(&fx.s, &m, size * PAGE, BASE + h * PAGE);
		for (size_t i = 0; i < m.n; i++) {
			uint64_t start = m.r[i].start, end = m.r[i].end;

			for (uint64_t e = 0; e <= win + 1; e++)
				if (do_resize(&fx.s, &m, start, BASE + e * PAGE) == MICA_OK)
					assert_int_equal(do_resize(&fx.s, &m, start, end), MICA_OK);
		}
		expect_model(&fx.s, &m);
		for (int i = 0; i < 3; i++)
			do_remove(&fx.s, &m, iv[pick[i]][0]);
		assert_int_equal(region_count(&fx.s), 0);
		model_done(&m);
		fx_done(&fx);
	}
}

/* An address for the random workload: mostly page-aligned near the bottom or top. */
static uint64_t random_addr(uint64_t window)
{
	uint64_t r = rng_below(100);

	if (r < 80)
		return BASE + rng_below(window) * PAGE;
	if (r < 95)
		return TOP - rng_below(32) * PAGE;
	if (r < 98)
		return BASE + rng_below(window * PAGE); /* unaligned, mostly */
	return rng();                                   /* anywhere */
}

/*
 * A random workload against the model: 35% inserts (valid and refused),
 * remove_pct% removes, 15% resizes, 13% lookups, the rest gap searches;
 * the checker after every change, the full comparison every `compare`
 * operations. Returns the most regions the set held.
 */
static size_t run_workload(uint64_t seed, size_t capacity, uint64_t window, uint64_t remove_pct,
                           uint64_t ops, uint64_t compare, uint64_t *outcomes)
{
	struct fixture fx;
	struct model m;
	size_t most = 0;

	rng_seed(seed);
	fx_init(&fx, capacity);
	model_init(&m, capacity);
	for (uint64_t op = 0; op < ops; op++) {
		uint64_t r = rng_below(100);

		if (r < 35) {
			uint64_t start = random_addr(window);
			uint64_t len = rng_below(50) ? 1 + rng_below(8) : 1 + rng_below(window);
			uint64_t end = start + len * PAGE - (rng_below(50) == 0);
			uint32_t rights = (uint32_t)rng_below(rng_below(20) ? 8 : 16);
			unsigned kind = (unsigned)rng_below(REGION_KINDS + (rng_below(50) == 0));

			if (rng_below(2) && rights != 0)
				rights |= R;
			outcomes[-do_insert(&fx.s, &m, start, end, rights, kind, tag(op))]++;
		} else if (r < 35 + remove_pct) {
			uint64_t start = m.n > 0 && rng_below(4) ? m.r[rng_below(m.n)].start
			                                         : random_addr(window);

			outcomes[16 + (do_remove(&fx.s, &m, start) == MICA_OK)]++;
		} else if (r < 50 + remove_pct) {
			uint64_t start = m.n > 0 && rng_below(8) ? m.r[rng_below(m.n)].start
			                                         : random_addr(window);
			uint64_t new_end = start + (rng_below(12) * PAGE) - (rng_below(50) == 0);

			if (rng_below(20) == 0)
				new_end = random_addr(window);
			outcomes[20 - do_resize(&fx.s, &m, start, new_end)]++;
		} else if (r < 63 + remove_pct) {
			expect_lookup(&fx.s, &m, random_addr(window));
		} else {
			uint64_t size =
			    rng_below(10) ? (1 + rng_below(16)) * PAGE : rng() & ~(PAGE - 1);

			if (rng_below(100) == 0)
				size |= 1;
			expect_gap(&fx.s, &m, size, rng_below(4) ? random_addr(window) : 0);
		}
		if (op % compare == 0)
			expect_model(&fx.s, &m);
		if (m.n > most)
			most = m.n;
	}
	expect_model(&fx.s, &m);
	/* Remove everything: all nodes spare again. */
	while (m.n > 0)
		do_remove(&fx.s, &m, m.r[rng_below(m.n)].start);
	assert_null(fx.s.root);
	model_done(&m);
	fx_done(&fx);
	return most;
}

/*
 * Small sets in a dense 64-page window, arrays of 8 nodes (often full) or
 * 24: compared with the model after every operation.
 */
static void test_random_small(void **state)
{
	uint64_t outcomes[40] = {0};

	(void)state;
	for (uint64_t seed = 1; seed <= 6; seed++)
		run_workload(seed, seed % 2 ? 8 : 24, 64, 25, 200000, 1, outcomes);
	/* Every insert outcome, both remove outcomes, every resize outcome happened. */
	assert_true(outcomes[0] && outcomes[-MICA_EALIGN] && outcomes[-MICA_EINVAL] &&
	            outcomes[-MICA_ERANGE] && outcomes[-MICA_EPERM] && outcomes[-MICA_EEXIST] &&
	            outcomes[-MICA_ENOMEM]);
	assert_true(outcomes[16] && outcomes[17]);
	assert_true(outcomes[20] && outcomes[20 - MICA_ENOENT] && outcomes[20 - MICA_EALIGN] &&
	            outcomes[20 - MICA_EINVAL] && outcomes[20 - MICA_ERANGE] &&
	            outcomes[20 - MICA_EEXIST]);
}

/* Sets of hundreds of regions in a 4096-page window: compared every 1000 operations. */
static void test_random_large(void **state)
{
	uint64_t outcomes[40] = {0};
	size_t most = 0;

	(void)state;
	for (uint64_t seed = 100; seed < 103; seed++)
		most = run_workload(seed, 2000, 4096, 8, 500000, 1000, outcomes);
	assert_true(most >= 300);
	assert_true(outcomes[0] > 10000 && outcomes[17] > 10000 && outcomes[20] > 1000);
}

/* region_check names hand-made corruptions. */
static void test_check_catches_corruption(void **state)
{
	struct fixture fx;
	struct region *a, *b, *c;
	const char *why = NULL;

	(void)state;
	fx_init(&fx, 5);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 2 * PAGE, BASE + 3 * PAGE, R, REGION_ANON, NULL, &a),
	    MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 6 * PAGE, BASE + 7 * PAGE, R, REGION_ANON, NULL, &b),
	    MICA_OK);
	assert_int_equal(
	    region_insert(&fx.s, BASE + 9 * PAGE, BASE + 12 * PAGE, R, REGION_ANON, NULL, &c),
	    MICA_OK);
	check(&fx.s);
	assert_ptr_equal(fx.s.root, b);

#define BROKEN(rule)                                                                               \
	do {                                                                                       \
		assert_int_equal(region_check(&fx.s, &why), MICA_EINVAL);                          \
		assert_string_equal(why, rule);                                                    \
	} while (0)

	b->start = BASE + 2 * PAGE; /* overlaps a */
	BROKEN("regions out of order or overlapping");
	b->start = BASE + 6 * PAGE;
	a->rights = W | X;
	BROKEN("region rights or kind invalid");
	a->rights = R;
	c->start = BASE + 9 * PAGE + 1;
	BROKEN("region misaligned, empty or outside the user half");
	c->start = BASE + 9 * PAGE;
	c->end = BASE + 13 * PAGE; /* end moved without updating the parent's summary */
	BROKEN("subtree bounds or widest gap wrong");
	c->end = BASE + 12 * PAGE;
	b->gap = 2 * PAGE; /* the widest gap under b is a-b, 3 pages */
	BROKEN("subtree bounds or widest gap wrong");
	b->gap = 3 * PAGE;
	check(&fx.s);
	b->height = 3;
	BROKEN("AVL height or balance wrong");
	b->height = 2;
	/* A chain a -> b -> c: ordered, heights and summaries right, but unbalanced. */
	fx.s.root = a;
	a->right = b;
	b->left = NULL;
	b->height = 2;
	b->lo = b->start;
	b->gap = c->start - b->end;
	a->height = 3;
	a->hi = c->end;
	a->gap = b->start - a->end;
	BROKEN("AVL height or balance wrong");
	fx.s.root = b;
	b->left = a;
	a->right = NULL;
	a->height = 1;
	a->hi = a->end;
	a->gap = 0;
	b->lo = a->start;
	b->gap = b->start - a->end;
	check(&fx.s);
	fx.s.count++;
	BROKEN("region count wrong");
	fx.s.count--;
	check(&fx.s);
	/* A tree node that is not in the array. */
	struct region outside = *c;
	b->right = &outside;
	BROKEN("tree node outside the array, or a cycle");
	b->right = c;
	check(&fx.s);
	/* The two spare nodes: one lost, one also in the tree, one with a height, a loop. */
	struct region *first = fx.s.spare, *second = first->left;
	assert_non_null(second);
	assert_null(second->left);
	fx.s.spare = second;
	BROKEN("nodes neither in the tree nor spare, or both");
	fx.s.spare = first;
	second->left = a; /* a is a leaf: the list ends there */
	BROKEN("node both in the tree and spare");
	second->left = NULL;
	second->height = 1;
	BROKEN("node both in the tree and spare");
	second->height = 0;
	second->left = first;
	BROKEN("spare list leaves the array, or loops");
	second->left = NULL;
	check(&fx.s);
#undef BROKEN
	fx_done(&fx);
}

/* Nodes from an allocator (region_set_init_alloc): no capacity, each node back on remove. */
static long live_nodes;

static struct region *node_alloc(void *ctx)
{
	if (ctx != NULL && live_nodes == *(long *)ctx)
		return NULL;
	live_nodes++;
	return malloc(sizeof(struct region) + 24); /* the owner keeps data after the node */
}

static void node_release(void *ctx, struct region *n)
{
	(void)ctx;
	live_nodes--;
	free(n);
}

static void test_allocator(void **state)
{
	enum { N = 10000 };
	struct region_set s;
	long cap = 3;

	(void)state;
	region_set_init_alloc(&s, node_alloc, node_release, NULL);
	check(&s);
	/* Single pages with gaps, far past any array's size. */
	for (uint64_t i = 0; i < N; i++)
		assert_int_equal(region_insert(&s, BASE + 2 * i * PAGE, BASE + (2 * i + 1) * PAGE,
		                               RW, REGION_ANON, NULL, NULL),
		                 MICA_OK);
	check(&s);
	assert_int_equal(region_count(&s), N);
	assert_int_equal(live_nodes, N);
	for (uint64_t i = 0; i < N; i += 2)
		assert_int_equal(region_remove(&s, BASE + 2 * i * PAGE), MICA_OK);
	check(&s);
	assert_int_equal(live_nodes, N / 2);
	for (uint64_t i = 1; i < N; i += 2)
		assert_int_equal(region_remove(&s, BASE + 2 * i * PAGE), MICA_OK);
	assert_int_equal(live_nodes, 0);
	/* An allocator that gives none: ENOMEM, nothing changes. */
	region_set_init_alloc(&s, node_alloc, node_release, &cap);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(region_insert(&s, BASE + 2 * i * PAGE, BASE + (2 * i + 1) * PAGE,
		                               RW, REGION_ANON, NULL, NULL),
		                 MICA_OK);
	assert_int_equal(
	    region_insert(&s, BASE + 8 * PAGE, BASE + 9 * PAGE, RW, REGION_ANON, NULL, NULL),
	    MICA_ENOMEM);
	check(&s);
	assert_int_equal(region_count(&s), 3);
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(region_remove(&s, BASE + 2 * i * PAGE), MICA_OK);
	assert_int_equal(live_nodes, 0);
}

/* Run every test, or with an argument only those whose names match it (a cmocka pattern). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_insert_refusals),
	    cmocka_unit_test(test_lookup_and_iteration),
	    cmocka_unit_test(test_find_last),
	    cmocka_unit_test(test_resize),
	    cmocka_unit_test(test_find_gap),
	    cmocka_unit_test(test_balance),
	    cmocka_unit_test(test_exhaustive_small),
	    cmocka_unit_test(test_random_small),
	    cmocka_unit_test(test_random_large),
	    cmocka_unit_test(test_check_catches_corruption),
	    cmocka_unit_test(test_allocator),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
