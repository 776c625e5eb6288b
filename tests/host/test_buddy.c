/*
 * Host unit tests for servers/pager/buddy.c: the buddy allocator against a
 * per-frame reference model, exhaustive small pools, every refused free,
 * and full coalescing back to the initial state. buddy_check runs after
 * every operation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include "servers/pager/buddy.h"
#include "rng.h"

#define MAXO BUDDY_MAX_ORDER

/* An allocator with metadata of exactly the size asked for, full of garbage. */
struct fixture {
	struct buddy b;
	uint64_t *meta;
	size_t bytes;
};

static void fx_init(struct fixture *fx, uint64_t base, uint64_t n)
{
	fx->bytes = buddy_meta_size(base, n);
	assert_true(fx->bytes > 0);
	fx->meta = malloc(fx->bytes);
	assert_non_null(fx->meta);
	memset(fx->meta, 0xA5, fx->bytes);
	memset(&fx->b, 0x5A, sizeof(fx->b));
	assert_int_equal(buddy_init(&fx->b, fx->meta, fx->bytes, base, n), MICA_OK);
}

static void fx_done(struct fixture *fx)
{
	free(fx->meta);
	fx->meta = NULL;
}

static void check(const struct buddy *b)
{
	const char *why = NULL;

	if (buddy_check(b, &why) != MICA_OK)
		fail_msg("buddy_check: %s", why);
}

/* The whole state, to prove that an operation changed nothing or restored it. */
struct snap {
	struct buddy b;
	void *meta;
	size_t bytes;
};

static void snap_take(struct snap *s, const struct fixture *fx)
{
	s->b = fx->b;
	s->bytes = fx->bytes;
	s->meta = malloc(fx->bytes);
	assert_non_null(s->meta);
	memcpy(s->meta, fx->meta, fx->bytes);
}

/* Same counts and bit-identical metadata (the struct's pointers included). */
static void snap_expect(const struct snap *s, const struct fixture *fx)
{
	assert_memory_equal(&s->b, &fx->b, sizeof(fx->b));
	assert_memory_equal(s->meta, fx->meta, fx->bytes);
}

static void snap_drop(struct snap *s)
{
	free(s->meta);
	s->meta = NULL;
}

/* Same state in two allocators over the same span: counts and metadata words. */
static void expect_same_state(const struct fixture *x, const struct fixture *y)
{
	assert_int_equal(x->bytes, y->bytes);
	assert_int_equal(buddy_pool_count(&x->b), buddy_pool_count(&y->b));
	assert_int_equal(buddy_free_count(&x->b), buddy_free_count(&y->b));
	for (unsigned k = 0; k <= MAXO; k++)
		assert_int_equal(buddy_free_blocks(&x->b, k), buddy_free_blocks(&y->b, k));
	assert_memory_equal(x->meta, y->meta, x->bytes);
}

/*
 * The reference model: one entry per frame of the span, and the list of
 * allocated blocks. It knows nothing about buddies: only which frames are
 * in the pool, which are allocated, and which block each belongs to.
 */
enum { M_HOLE, M_FREE, M_ALLOC };

struct model {
	uint64_t base, n;
	uint8_t *state;  /* M_HOLE, M_FREE or M_ALLOC per frame */
	uint64_t *start; /* allocated frames: their block's first frame */
	uint8_t *order;  /* allocated frames: their block's order */
	uint64_t *live;  /* first frames of the allocated blocks */
	uint64_t *slot;  /* first frames of allocated blocks: their index in live */
	uint64_t nlive;
	uint64_t pool, nfree;
};

static void model_init(struct model *m, uint64_t base, uint64_t n)
{
	m->base = base;
	m->n = n;
	m->state = calloc(n, 1);
	m->start = calloc(n, sizeof(uint64_t));
	m->order = calloc(n, 1);
	m->live = calloc(n, sizeof(uint64_t));
	m->slot = calloc(n, sizeof(uint64_t));
	assert_true(m->state && m->start && m->order && m->live && m->slot);
	m->nlive = 0;
	m->pool = 0;
	m->nfree = 0;
}

static void model_done(struct model *m)
{
	free(m->state);
	free(m->start);
	free(m->order);
	free(m->live);
	free(m->slot);
}

static void model_add(struct model *m, uint64_t first, uint64_t count)
{
	for (uint64_t f = first; f < first + count; f++) {
		assert_int_equal(m->state[f - m->base], M_HOLE);
		m->state[f - m->base] = M_FREE;
	}
	m->pool += count;
	m->nfree += count;
}

/* Is [f, f + 2^k) inside the span and all free in the model? */
static bool model_run_free(const struct model *m, uint64_t f, unsigned k)
{
	if (f < m->base || f + (1ULL << k) > m->base + m->n)
		return false;
	for (uint64_t i = f; i < f + (1ULL << k); i++)
		if (m->state[i - m->base] != M_FREE)
			return false;
	return true;
}

/* Does the model hold any 2^k-aligned run of 2^k free frames? */
static bool model_fits(const struct model *m, unsigned k)
{
	uint64_t f = m->base & ~((1ULL << k) - 1);

	for (; f < m->base + m->n; f += 1ULL << k)
		if (model_run_free(m, f, k))
			return true;
	return false;
}

/* What buddy_free(frame, order) must return, by buddy.h's rules. */
static int model_free_result(const struct model *m, uint64_t f, unsigned k)
{
	if (k > MAXO)
		return MICA_EINVAL;
	if (f < m->base || f >= m->base + m->n)
		return MICA_ERANGE;
	switch (m->state[f - m->base]) {
	case M_HOLE:
		return MICA_EFRAME;
	case M_FREE:
		return MICA_ENOENT;
	}
	if (m->start[f - m->base] != f)
		return MICA_EBUSY;
	if (m->order[f - m->base] != k)
		return MICA_EINVAL;
	return MICA_OK;
}

static void model_alloc(struct model *m, uint64_t f, unsigned k)
{
	for (uint64_t i = f; i < f + (1ULL << k); i++) {
		m->state[i - m->base] = M_ALLOC;
		m->start[i - m->base] = f;
		m->order[i - m->base] = (uint8_t)k;
	}
	m->slot[f - m->base] = m->nlive;
	m->live[m->nlive++] = f;
	m->nfree -= 1ULL << k;
}

/* Drop live block number i from the model. */
static void model_free_live(struct model *m, uint64_t i)
{
	uint64_t f = m->live[i];
	unsigned k = m->order[f - m->base];

	for (uint64_t j = f; j < f + (1ULL << k); j++)
		m->state[j - m->base] = M_FREE;
	m->live[i] = m->live[--m->nlive];
	m->slot[m->live[i] - m->base] = i;
	m->nfree += 1ULL << k;
}

static void model_free_frame(struct model *m, uint64_t f)
{
	uint64_t i = m->slot[f - m->base];

	assert_true(i < m->nlive && m->live[i] == f);
	model_free_live(m, i);
}

/* Every frame of the span: the allocator agrees with the model. */
static void expect_model(const struct buddy *b, const struct model *m)
{
	assert_int_equal(buddy_pool_count(b), m->pool);
	assert_int_equal(buddy_free_count(b), m->nfree);
	for (uint64_t i = 0; i < m->n; i++) {
		uint64_t start;
		unsigned order;
		bool is_free;
		int err = buddy_block(b, m->base + i, &start, &order, &is_free);

		if (m->state[i] == M_HOLE) {
			assert_int_equal(err, MICA_EFRAME);
			continue;
		}
		assert_int_equal(err, MICA_OK);
		assert_int_equal(is_free, m->state[i] == M_FREE);
		if (!is_free) {
			assert_int_equal(start, m->start[i]);
			assert_int_equal(order, m->order[i]);
		}
	}
}

/* What the random workloads did: results by code, and successful allocations by order. */
static uint64_t tally_alloc[17], tally_free[17], tally_order[MAXO + 1];

/* Allocate through both; on ENOMEM the model must have no room either. */
static int do_alloc(struct buddy *b, struct model *m, unsigned k)
{
	uint64_t f = ~0ULL;
	int err = buddy_alloc(b, k, &f);

	tally_alloc[-err]++;
	if (k > MAXO) {
		assert_int_equal(err, MICA_EINVAL);
	} else if (err == MICA_OK) {
		assert_int_equal(f & ((1ULL << k) - 1), 0);
		assert_true(model_run_free(m, f, k));
		model_alloc(m, f, k);
		tally_order[k]++;
	} else {
		assert_int_equal(err, MICA_ENOMEM);
		assert_false(model_fits(m, k));
	}
	return err;
}

/* Free through both; the allocator must answer what the model predicts. */
static int do_free(struct buddy *b, struct model *m, uint64_t f, unsigned k)
{
	int want = model_free_result(m, f, k);
	int err = buddy_free(b, f, k);

	assert_int_equal(err, want);
	tally_free[-err]++;
	if (err == MICA_OK)
		model_free_frame(m, f);
	return err;
}

/* ---------------------------------------------------------------------------------------- */

static void test_meta_size(void **state)
{
	(void)state;
	/*
	 * Half a byte per frame (4 bits: a free and an allocated bit at each
	 * order, 1 + 1/2 + 1/4 ... positions per frame), 1/252 byte for the
	 * summaries, and a fixed few hundred bytes of word rounding, whatever
	 * the base. Within 4 bytes per frame from 100 frames on.
	 */
	for (uint64_t n = 1; n < (1ULL << 22); n = n * 3 + 1) {
		for (uint64_t base = 0; base < 4; base++) {
			size_t bytes = buddy_meta_size(base * 0x12345, n);

			assert_true(bytes >= n / 2);
			assert_true(bytes <= n / 2 + n / 200 + 512);
			assert_true(n < 100 || bytes <= n * 4);
			assert_int_equal(bytes % 8, 0);
		}
	}
	/* The largest span, 16 TiB: about 2 GiB, 0.504 bytes per frame. */
	assert_true(buddy_meta_size(0, BUDDY_MAX_FRAMES) <=
	            BUDDY_MAX_FRAMES / 2 + BUDDY_MAX_FRAMES / 200 + 512);
	/* Invalid spans. */
	assert_int_equal(buddy_meta_size(0, 0), 0);
	assert_int_equal(buddy_meta_size(0, BUDDY_MAX_FRAMES + 1), 0);
	assert_int_equal(buddy_meta_size(BUDDY_FRAME_END - 1, 2), 0);
	assert_int_equal(buddy_meta_size(BUDDY_FRAME_END, 1), 0);
	assert_true(buddy_meta_size(BUDDY_FRAME_END - 1, 1) > 0);
}

static void test_init_refusals(void **state)
{
	struct buddy b;
	size_t bytes = buddy_meta_size(100, 1000);
	uint64_t *meta = calloc(1, bytes + 8);

	(void)state;
	assert_int_equal(buddy_init(NULL, meta, bytes, 100, 1000), MICA_EINVAL);
	assert_int_equal(buddy_init(&b, NULL, bytes, 100, 1000), MICA_EINVAL);
	assert_int_equal(buddy_init(&b, (char *)meta + 4, bytes, 100, 1000), MICA_EINVAL);
	assert_int_equal(buddy_init(&b, meta, bytes, 100, 0), MICA_EINVAL);
	assert_int_equal(buddy_init(&b, meta, bytes, 100, BUDDY_MAX_FRAMES + 1), MICA_EINVAL);
	assert_int_equal(buddy_init(&b, meta, bytes, BUDDY_FRAME_END - 10, 1000), MICA_ERANGE);
	assert_int_equal(buddy_init(&b, meta, bytes - 8, 100, 1000), MICA_ENOMEM);
	assert_int_equal(buddy_init(&b, meta, bytes, 100, 1000), MICA_OK);
	/* Empty pool: consistent, nothing to allocate. */
	check(&b);
	assert_int_equal(buddy_free_count(&b), 0);
	assert_int_equal(buddy_pool_count(&b), 0);
	assert_int_equal(buddy_largest_free_order(&b), -1);
	uint64_t f;
	assert_int_equal(buddy_alloc(&b, 0, &f), MICA_ENOMEM);
	assert_int_equal(buddy_free(&b, 100, 0), MICA_EFRAME);
	free(meta);
}

static void test_add_range_refusals(void **state)
{
	struct fixture fx;
	struct snap s;

	(void)state;
	fx_init(&fx, 1000, 100); /* span [1000, 1100) */
	assert_int_equal(buddy_add_range(&fx.b, 1010, 20), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 1050, 1), MICA_OK);
	check(&fx.b);
	snap_take(&s, &fx);
	assert_int_equal(buddy_add_range(&fx.b, 1000, 0), MICA_EINVAL);
	assert_int_equal(buddy_add_range(&fx.b, 999, 1), MICA_ERANGE);
	assert_int_equal(buddy_add_range(&fx.b, 0, 2000), MICA_ERANGE);
	assert_int_equal(buddy_add_range(&fx.b, 1100, 1), MICA_ERANGE);
	assert_int_equal(buddy_add_range(&fx.b, 1090, 11), MICA_ERANGE);
	assert_int_equal(buddy_add_range(&fx.b, 1090, UINT64_MAX), MICA_ERANGE);
	/* Overlaps: the same range, inside, across either edge, one frame, around it. */
	assert_int_equal(buddy_add_range(&fx.b, 1010, 20), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1012, 3), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1000, 11), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1029, 5), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1050, 1), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1040, 60), MICA_EEXIST);
	assert_int_equal(buddy_add_range(&fx.b, 1000, 100), MICA_EEXIST);
	snap_expect(&s, &fx);
	/* Allocated frames are in the pool too. */
	uint64_t f;
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1050);
	assert_int_equal(buddy_add_range(&fx.b, 1045, 10), MICA_EEXIST);
	check(&fx.b);
	/* The exact neighbours fit and merge. */
	assert_int_equal(buddy_free(&fx.b, 1050, 0), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 1000, 10), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 1030, 20), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 1051, 49), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_pool_count(&fx.b), 100);
	assert_int_equal(buddy_free_count(&fx.b), 100);
	snap_drop(&s);

	/* Same state as adding the whole span at once. */
	struct fixture one;
	fx_init(&one, 1000, 100);
	assert_int_equal(buddy_add_range(&one.b, 1000, 100), MICA_OK);
	expect_same_state(&fx, &one);
	fx_done(&one);
	fx_done(&fx);
}

static void test_alloc_refusals(void **state)
{
	struct fixture fx;
	struct snap s;
	uint64_t f;

	(void)state;
	fx_init(&fx, 0, 64);
	assert_int_equal(buddy_add_range(&fx.b, 0, 64), MICA_OK);
	snap_take(&s, &fx);
	assert_int_equal(buddy_alloc(&fx.b, MAXO + 1, &f), MICA_EINVAL);
	assert_int_equal(buddy_alloc(&fx.b, 100, &f), MICA_EINVAL);
	assert_int_equal(buddy_alloc(&fx.b, 0, NULL), MICA_EINVAL);
	assert_int_equal(buddy_alloc(&fx.b, 7, &f), MICA_ENOMEM);
	snap_expect(&s, &fx);
	assert_int_equal(buddy_alloc(&fx.b, 6, &f), MICA_OK);
	assert_int_equal(f, 0);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_ENOMEM);
	check(&fx.b);
	snap_drop(&s);
	fx_done(&fx);
}

/* Lowest block of the smallest order that fits; split halves stay free. */
static void test_policy(void **state)
{
	struct fixture fx;
	uint64_t f;

	(void)state;
	fx_init(&fx, 0, 64);
	assert_int_equal(buddy_add_range(&fx.b, 0, 64), MICA_OK);
	assert_int_equal(buddy_largest_free_order(&fx.b), 6);
	assert_int_equal(buddy_free_blocks(&fx.b, 6), 1);

	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 0);
	check(&fx.b);
	/* 64 = 1 allocated + free 1, 2, 4, 8, 16, 32. */
	for (unsigned k = 0; k < 6; k++)
		assert_int_equal(buddy_free_blocks(&fx.b, k), 1);
	assert_int_equal(buddy_free_blocks(&fx.b, 6), 0);
	assert_int_equal(buddy_largest_free_order(&fx.b), 5);
	assert_int_equal(buddy_free_count(&fx.b), 63);

	assert_int_equal(buddy_alloc(&fx.b, 3, &f), MICA_OK);
	assert_int_equal(f, 8);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 2);
	/* No order-1 block is left (2's was split; 3 is free): 4's block splits into 4 and 6. */
	assert_int_equal(buddy_alloc(&fx.b, 1, &f), MICA_OK);
	assert_int_equal(f, 4);
	assert_int_equal(buddy_alloc(&fx.b, 1, &f), MICA_OK);
	assert_int_equal(f, 6);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 3);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 16);
	check(&fx.b);
	/* A freed single frame is reused before anything is split. */
	assert_int_equal(buddy_free(&fx.b, 1, 0), MICA_OK);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1);
	check(&fx.b);
	fx_done(&fx);
}

/* Blocks of the top orders: 2 MiB and 1 GiB, aligned in absolute frame numbers. */
static void test_large_orders(void **state)
{
	struct fixture fx;
	uint64_t base = 3ULL << MAXO, n = 2ULL << MAXO, f, g;

	(void)state;
	fx_init(&fx, base, n);
	assert_int_equal(buddy_add_range(&fx.b, base, n), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_largest_free_order(&fx.b), MAXO);
	assert_int_equal(buddy_free_blocks(&fx.b, MAXO), 2);
	assert_int_equal(buddy_alloc(&fx.b, MAXO, &f), MICA_OK);
	assert_int_equal(f, base);
	assert_int_equal(buddy_alloc(&fx.b, 9, &g), MICA_OK);
	assert_int_equal(g, base + (1ULL << MAXO));
	assert_int_equal(buddy_alloc(&fx.b, MAXO, &f), MICA_ENOMEM);
	assert_int_equal(buddy_largest_free_order(&fx.b), MAXO - 1);
	check(&fx.b);
	assert_int_equal(buddy_free(&fx.b, g, 9), MICA_OK);
	assert_int_equal(buddy_free(&fx.b, base, MAXO), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_free_blocks(&fx.b, MAXO), 2);
	fx_done(&fx);

	/* A 1 GiB span one frame off alignment has no 1 GiB block. */
	fx_init(&fx, base + 1, 1ULL << MAXO);
	assert_int_equal(buddy_add_range(&fx.b, base + 1, 1ULL << MAXO), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_largest_free_order(&fx.b), MAXO - 1);
	assert_int_equal(buddy_alloc(&fx.b, MAXO, &f), MICA_ENOMEM);
	assert_int_equal(buddy_alloc(&fx.b, 9, &f), MICA_OK);
	assert_int_equal(f % 512, 0);
	check(&fx.b);
	fx_done(&fx);
}

/* Frames [first, first + count) hold 2^k-aligned blocks of 2^k frames: how many? */
static uint64_t aligned_blocks(uint64_t first, uint64_t count, unsigned k)
{
	uint64_t lo = (first + (1ULL << k) - 1) >> k, hi = (first + count) >> k;

	return hi > lo ? hi - lo : 0;
}

/* Free the live blocks, checking after each: 0 lowest first, 1 highest first, 2 at random. */
static void free_all(struct buddy *b, struct model *m, int how)
{
	while (m->nlive > 0) {
		uint64_t i = rng_below(m->nlive), f;

		for (uint64_t j = 0; how != 2 && j < m->nlive; j++)
			if ((how == 0) == (m->live[j] < m->live[i]))
				i = j;
		f = m->live[i];
		assert_int_equal(buddy_free(b, f, m->order[f - m->base]), MICA_OK);
		model_free_live(m, i);
		check(b);
		assert_int_equal(buddy_free_count(b), m->nfree);
	}
}

/*
 * Every pool of 1 to 48 frames at every offset from a 2^MAXO boundary
 * (0-63 and the last 8 below the next one): the blocks after adding it,
 * then for orders 0-6 allocate until refused (exactly the aligned blocks
 * that fit), and free everything back to the bit-identical initial state.
 */
static void test_exhaustive_pools(void **state)
{
	uint64_t origin = 5ULL << MAXO;
	unsigned pools = 0;

	(void)state;
	rng_seed(1);
	for (uint64_t off = 0; off < 72; off++) {
		uint64_t base = off < 64 ? origin + off : origin + (1ULL << MAXO) - (off - 63);

		for (uint64_t n = 1; n <= 48; n++) {
			struct fixture fx;
			struct model m;
			struct snap s;

			fx_init(&fx, base, n);
			model_init(&m, base, n);
			assert_int_equal(buddy_add_range(&fx.b, base, n), MICA_OK);
			model_add(&m, base, n);
			check(&fx.b);
			expect_model(&fx.b, &m);
			snap_take(&s, &fx);
			for (unsigned k = 0; k <= 6; k++) {
				uint64_t got = 0;

				while (do_alloc(&fx.b, &m, k) == MICA_OK) {
					check(&fx.b);
					got++;
				}
				assert_int_equal(got, aligned_blocks(base, n, k));
				expect_model(&fx.b, &m);
				free_all(&fx.b, &m, (int)(k % 3));
				snap_expect(&s, &fx);
			}
			snap_drop(&s);
			model_done(&m);
			fx_done(&fx);
			pools++;
		}
	}
	assert_int_equal(pools, 72 * 48);
}

/*
 * Every set of frames of a 12-frame span as the pool (4096 hole patterns),
 * at two offsets, added as maximal runs last to first: the state equals
 * adding them first to last, allocation finds exactly what fits, and
 * freeing restores it.
 */
static void test_exhaustive_holes(void **state)
{
	const uint64_t span = 12;

	(void)state;
	rng_seed(2);
	for (uint64_t base = 64; base <= 67; base += 3) {
		for (uint64_t mask = 0; mask < (1ULL << span); mask++) {
			struct fixture fx, fwd;
			struct model m;
			struct snap s;
			uint64_t runs[12][2], nruns = 0;

			for (uint64_t i = 0; i < span; i++) {
				if (!((mask >> i) & 1))
					continue;
				if (nruns > 0 &&
				    runs[nruns - 1][0] + runs[nruns - 1][1] == base + i) {
					runs[nruns - 1][1]++;
				} else {
					runs[nruns][0] = base + i;
					runs[nruns][1] = 1;
					nruns++;
				}
			}
			fx_init(&fx, base, span);
			fx_init(&fwd, base, span);
			model_init(&m, base, span);
			for (uint64_t r = nruns; r-- > 0;) {
				assert_int_equal(buddy_add_range(&fx.b, runs[r][0], runs[r][1]),
				                 MICA_OK);
				model_add(&m, runs[r][0], runs[r][1]);
				check(&fx.b);
			}
			for (uint64_t r = 0; r < nruns; r++)
				assert_int_equal(buddy_add_range(&fwd.b, runs[r][0], runs[r][1]),
				                 MICA_OK);
			expect_same_state(&fx, &fwd);
			expect_model(&fx.b, &m);
			snap_take(&s, &fx);
			for (unsigned k = 0; k <= 3; k++) {
				uint64_t got = 0, want = 0;

				while (do_alloc(&fx.b, &m, k) == MICA_OK) {
					check(&fx.b);
					got++;
				}
				for (uint64_t f = base & ~((1ULL << k) - 1); f < base + span;
				     f += 1ULL << k)
					want +=
					    f >= base && f + (1ULL << k) <= base + span &&
					    ((mask >> (f - base)) & ((1ULL << (1ULL << k)) - 1)) ==
					        (1ULL << (1ULL << k)) - 1;
				assert_int_equal(got, want);
				expect_model(&fx.b, &m);
				free_all(&fx.b, &m, (int)((mask + k) % 3));
				snap_expect(&s, &fx);
			}
			snap_drop(&s);
			model_done(&m);
			fx_done(&fwd);
			fx_done(&fx);
		}
	}
}

/* The named refusals, one by one; each changes nothing. */
static void test_refused_frees(void **state)
{
	struct fixture fx;
	struct snap s;
	uint64_t a, b, c;

	(void)state;
	/* Span [100, 164), pool [100, 150) and [152, 164): a hole at 150-151. */
	fx_init(&fx, 100, 64);
	assert_int_equal(buddy_add_range(&fx.b, 100, 50), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 152, 12), MICA_OK);
	assert_int_equal(buddy_alloc(&fx.b, 2, &a), MICA_OK); /* an order-2 block */
	assert_int_equal(buddy_alloc(&fx.b, 0, &b), MICA_OK);
	assert_int_equal(buddy_alloc(&fx.b, 3, &c), MICA_OK);
	assert_int_equal(buddy_free(&fx.b, b, 0), MICA_OK);
	check(&fx.b);
	snap_take(&s, &fx);

	/* Double free, and free of a frame never allocated. */
	assert_int_equal(buddy_free(&fx.b, b, 0), MICA_ENOENT);
	for (uint64_t f = 100; f < 164; f++) {
		uint64_t start;
		unsigned order;
		bool is_free;

		if (buddy_block(&fx.b, f, &start, &order, &is_free) == MICA_OK && is_free)
			assert_int_equal(buddy_free(&fx.b, f, 0), MICA_ENOENT);
	}
	/* Wrong order, smaller and larger; order out of range. */
	assert_int_equal(buddy_free(&fx.b, a, 0), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, a, 1), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, a, 3), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, c, 2), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, c, MAXO), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, a, MAXO + 1), MICA_EINVAL);
	assert_int_equal(buddy_free(&fx.b, a, ~0u), MICA_EINVAL);
	/* Interior frames of allocated blocks, with their own or the block's order. */
	for (uint64_t i = 1; i < 4; i++) {
		assert_int_equal(buddy_free(&fx.b, a + i, 0), MICA_EBUSY);
		assert_int_equal(buddy_free(&fx.b, a + i, 2), MICA_EBUSY);
	}
	for (uint64_t i = 1; i < 8; i++)
		assert_int_equal(buddy_free(&fx.b, c + i, 3), MICA_EBUSY);
	/* Out of the span, and in the hole. */
	assert_int_equal(buddy_free(&fx.b, 99, 0), MICA_ERANGE);
	assert_int_equal(buddy_free(&fx.b, 0, 0), MICA_ERANGE);
	assert_int_equal(buddy_free(&fx.b, 164, 0), MICA_ERANGE);
	assert_int_equal(buddy_free(&fx.b, UINT64_MAX, 0), MICA_ERANGE);
	assert_int_equal(buddy_free(&fx.b, 150, 0), MICA_EFRAME);
	assert_int_equal(buddy_free(&fx.b, 151, 1), MICA_EFRAME);
	check(&fx.b);
	snap_expect(&s, &fx);

	/* The real frees still work, and merge everything back. */
	assert_int_equal(buddy_free(&fx.b, a, 2), MICA_OK);
	assert_int_equal(buddy_free(&fx.b, a, 2), MICA_ENOENT);
	assert_int_equal(buddy_free(&fx.b, c, 3), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_free_count(&fx.b), 62);
	snap_drop(&s);
	fx_done(&fx);
}

/*
 * Every (frame, order) pair around a mixed state, frames from 3 below the
 * span to 3 above and orders 0 to MAXO + 1: each refused free returns what
 * the model predicts and changes nothing; every kind of refusal occurs.
 */
static void test_every_refused_free(void **state)
{
	const uint64_t base = 1021, n = 200;
	struct fixture fx;
	struct model m;
	struct snap s;
	unsigned seen[17] = {0};

	(void)state;
	rng_seed(3);
	fx_init(&fx, base, n);
	model_init(&m, base, n);
	/* Holes at 1021-1023, 1090-1099 and 1200-1220. */
	assert_int_equal(buddy_add_range(&fx.b, 1024, 66), MICA_OK);
	model_add(&m, 1024, 66);
	assert_int_equal(buddy_add_range(&fx.b, 1100, 100), MICA_OK);
	model_add(&m, 1100, 100);
	for (int i = 0; i < 60; i++) {
		do_alloc(&fx.b, &m, (unsigned)rng_below(5));
		if (rng_below(3) == 0 && m.nlive > 0) {
			uint64_t f = m.live[rng_below(m.nlive)];

			do_free(&fx.b, &m, f, m.order[f - base]);
		}
	}
	check(&fx.b);
	expect_model(&fx.b, &m);
	snap_take(&s, &fx);
	for (uint64_t f = base - 3; f < base + n + 3; f++) {
		for (unsigned k = 0; k <= MAXO + 1; k++) {
			int want = model_free_result(&m, f, k);

			if (want == MICA_OK)
				continue;
			seen[-want]++;
			assert_int_equal(buddy_free(&fx.b, f, k), want);
		}
	}
	check(&fx.b);
	snap_expect(&s, &fx);
	assert_true(seen[-MICA_EINVAL] > 0);
	assert_true(seen[-MICA_ERANGE] > 0);
	assert_true(seen[-MICA_EFRAME] > 0);
	assert_true(seen[-MICA_ENOENT] > 0);
	assert_true(seen[-MICA_EBUSY] > 0);
	snap_drop(&s);

	free_all(&fx.b, &m, 2);
	expect_model(&fx.b, &m);
	model_done(&m);
	fx_done(&fx);
}

/*
 * A random workload against the model: allocations of mostly small orders,
 * frees, refused frees, and pool growth with add_range (including refused
 * overlapping adds), in phases of mostly allocating and mostly freeing.
 * The checker runs every `every` operations (1: after each), the per-frame
 * comparison every `compare` operations. At the end everything is freed
 * and the state must equal a fresh allocator given the same pool at once.
 */
struct workload {
	uint64_t seed;
	uint64_t base, n;
	uint64_t ops;
	uint64_t compare; /* operations between full model comparisons */
	unsigned every;   /* operations between buddy_check calls (1: after each) */
};

static uint64_t random_order(void)
{
	uint64_t r = rng_below(1000);

	if (r < 2)
		return MAXO + 1 + rng_below(3); /* refused */
	if (r < 10)
		return 9 + rng_below(MAXO - 8); /* large pages */
	unsigned k = 0;
	while (k < 8 && rng_below(2) == 0)
		k++;
	return k;
}

static void run_workload(const struct workload *w)
{
	struct fixture fx, fresh;
	struct model m;
	uint64_t *pending, npending = 0; /* ranges not yet added: [first, count] pairs */
	uint64_t ops_done[4] = {0};

	rng_seed(w->seed);
	fx_init(&fx, w->base, w->n);
	model_init(&m, w->base, w->n);
	pending = calloc(2 * w->n, sizeof(uint64_t));
	assert_non_null(pending);

	/*
	 * Cut the span into ranges of log-uniform length (1 frame to the whole
	 * span), add half, hold 4 in 10 back for later, leave the rest out.
	 */
	for (uint64_t f = w->base; f < w->base + w->n;) {
		uint64_t len = 1 + rng_below(1ULL << rng_below(64 - __builtin_clzll(w->n)));
		uint64_t r = rng_below(10);

		if (len > w->base + w->n - f)
			len = w->base + w->n - f;
		if (r < 5) {
			assert_int_equal(buddy_add_range(&fx.b, f, len), MICA_OK);
			model_add(&m, f, len);
		} else if (r < 9) {
			pending[2 * npending] = f;
			pending[2 * npending + 1] = len;
			npending++;
		}
		f += len;
	}
	check(&fx.b);

	/* Phases of mostly allocating and mostly freeing, so the pool fills up and drains. */
	uint64_t phase_end = 0, alloc_pct = 0;
	for (uint64_t op = 0; op < w->ops; op++) {
		uint64_t r = rng_below(100);

		if (op == phase_end) {
			alloc_pct = alloc_pct == 70 ? 20 : 70;
			phase_end = op + 500 + rng_below(4000);
		}
		if (r < alloc_pct) {
			do_alloc(&fx.b, &m, (unsigned)random_order());
			ops_done[0]++;
		} else if (r < 90) {
			if (m.nlive > 0) {
				uint64_t f = m.live[rng_below(m.nlive)];

				assert_int_equal(do_free(&fx.b, &m, f, m.order[f - w->base]),
				                 MICA_OK);
			}
			ops_done[1]++;
		} else if (r < 99) {
			/* A free the model says is wrong (or, by chance, right). */
			uint64_t f = w->base - 2 + rng_below(w->n + 4);
			unsigned k = (unsigned)rng_below(MAXO + 3);

			if (m.nlive > 0 && rng_below(2) == 0) {
				uint64_t g = m.live[rng_below(m.nlive)];
				unsigned go = m.order[g - w->base];

				/* Near a live block: its interior, or its start with another order.
				 */
				f = g + rng_below(1ULL << go);
				if (f == g)
					k = (go + 1 + (unsigned)rng_below(MAXO)) % (MAXO + 1);
			}
			do_free(&fx.b, &m, f, k);
			ops_done[2]++;
		} else if (npending > 0) {
			uint64_t i = rng_below(npending);
			uint64_t f = pending[2 * i], len = pending[2 * i + 1];

			/* First a refused add overlapping pool frames, when there is a neighbour.
			 */
			if (f > w->base && m.state[f - 1 - w->base] != M_HOLE)
				assert_int_equal(buddy_add_range(&fx.b, f - 1, len + 1),
				                 MICA_EEXIST);
			assert_int_equal(buddy_add_range(&fx.b, f, len), MICA_OK);
			model_add(&m, f, len);
			pending[2 * i] = pending[2 * (npending - 1)];
			pending[2 * i + 1] = pending[2 * (npending - 1) + 1];
			npending--;
			ops_done[3]++;
		}
		if (op % w->every == 0)
			check(&fx.b);
		assert_int_equal(buddy_free_count(&fx.b), m.nfree);
		if (op % w->compare == 0)
			expect_model(&fx.b, &m);
	}
	check(&fx.b);
	expect_model(&fx.b, &m);
	assert_true(ops_done[0] > 0 && ops_done[1] > 0 && ops_done[2] > 0);

	/* Free everything: the same state as a fresh allocator given this pool. */
	while (m.nlive > 0) {
		uint64_t i = rng_below(m.nlive), f = m.live[i];

		assert_int_equal(buddy_free(&fx.b, f, m.order[f - w->base]), MICA_OK);
		model_free_live(&m, i);
		if (m.nlive % w->every == 0)
			check(&fx.b);
	}
	check(&fx.b);
	fx_init(&fresh, w->base, w->n);
	for (uint64_t f = w->base; f < w->base + w->n;) {
		uint64_t len = 0;

		while (f + len < w->base + w->n && m.state[f + len - w->base] == M_FREE)
			len++;
		if (len > 0)
			assert_int_equal(buddy_add_range(&fresh.b, f, len), MICA_OK);
		f += len > 0 ? len : 1;
	}
	expect_same_state(&fx, &fresh);
	fx_done(&fresh);
	free(pending);
	model_done(&m);
	fx_done(&fx);
}

static void tally_reset(void)
{
	memset(tally_alloc, 0, sizeof(tally_alloc));
	memset(tally_free, 0, sizeof(tally_free));
	memset(tally_order, 0, sizeof(tally_order));
}

/* Every outcome of alloc and free happened in the workloads just run. */
static void expect_all_outcomes(void)
{
	assert_true(tally_alloc[-MICA_OK] > 0 && tally_alloc[-MICA_ENOMEM] > 0 &&
	            tally_alloc[-MICA_EINVAL] > 0);
	assert_true(tally_free[-MICA_OK] > 0 && tally_free[-MICA_EINVAL] > 0 &&
	            tally_free[-MICA_ERANGE] > 0 && tally_free[-MICA_EFRAME] > 0 &&
	            tally_free[-MICA_ENOENT] > 0 && tally_free[-MICA_EBUSY] > 0);
}

/* Small pools (40-200 frames): the checker and the model comparison after every operation. */
static void test_random_small(void **state)
{
	(void)state;
	tally_reset();
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct workload w = {seed, 0x3000 - 7 * seed, 40 + 20 * seed, 40000, 1, 1};

		run_workload(&w);
	}
	expect_all_outcomes();
}

/* Medium pools (1500 frames), many operations: the checker after every one. */
static void test_random_medium(void **state)
{
	(void)state;
	tally_reset();
	for (uint64_t seed = 100; seed < 104; seed++) {
		struct workload w = {seed, 0x40000 + 13 * (seed - 100), 1500, 300000, 997, 1};

		run_workload(&w);
	}
	expect_all_outcomes();
	assert_true(tally_order[9] > 0 && tally_order[10] > 0);
}

/*
 * A span of a million frames (4 GiB) where 1 GiB blocks fit: the checker
 * every 512 operations, the model comparison every 100003.
 */
static void test_random_large(void **state)
{
	(void)state;
	tally_reset();
	for (uint64_t seed = 7777; seed < 7779; seed++) {
		struct workload w = {seed, (1ULL << 20) + 3, 1ULL << 20, 200000, 100003, 512};

		run_workload(&w);
	}
	assert_true(tally_alloc[-MICA_OK] > 0 && tally_alloc[-MICA_ENOMEM] > 0);
	assert_true(tally_order[MAXO] > 0);
}

/* Run every test, or with an argument only those whose names match it (a cmocka pattern). */
/* Flip bit i of a bitmap. */
static void flip(uint64_t *map, uint64_t i)
{
	map[i / 64] ^= 1ULL << (i % 64);
}

/* Flip free bit i of an order, and rebuild its summary levels to match. */
static void flip_free(struct buddy_order *o, uint64_t i)
{
	flip(o->free[0], i);
	for (unsigned l = 0; l + 1 < o->levels; l++)
		for (uint64_t w = 0; w < o->nwords[l]; w++)
			if ((o->free[l][w] != 0) != ((o->free[l + 1][w / 64] >> (w % 64)) & 1))
				flip(o->free[l + 1], w);
}

/* buddy_check must refuse the corrupted state with this rule, then the repair must pass. */
static void expect_broken(const struct buddy *b, const char *rule)
{
	const char *why = NULL;

	assert_int_equal(buddy_check(b, &why), MICA_EINVAL);
	assert_non_null(why);
	assert_string_equal(why, rule);
}

/*
 * The checker itself: each kind of corruption, made by hand in the
 * metadata, is reported by name; undoing it makes the state valid again.
 */
static void test_check_catches_corruption(void **state)
{
	struct fixture fx;
	struct buddy_order *o0, *o1, *o2;
	uint64_t a;

	(void)state;
	/* Span [64, 191), pool [64, 128) and [189, 191): 128-188 are a hole. */
	fx_init(&fx, 64, 127);
	assert_int_equal(buddy_add_range(&fx.b, 64, 64), MICA_OK);
	assert_int_equal(buddy_add_range(&fx.b, 189, 2), MICA_OK);
	assert_int_equal(buddy_alloc(&fx.b, 2, &a), MICA_OK); /* splits 64-127 */
	assert_int_equal(a, 64);
	check(&fx.b);
	o0 = &fx.b.order[0];
	o1 = &fx.b.order[1];
	o2 = &fx.b.order[2];

	/* A free frame inside the allocated block 64-67, counted. */
	flip_free(o0, 65 - 64);
	o0->nfree++;
	expect_broken(&fx.b, "a block starts inside another");
	flip_free(o0, 65 - 64);
	o0->nfree--;
	/* The allocated block also marked free. */
	flip_free(o2, 0);
	o2->nfree++;
	expect_broken(&fx.b, "block both free and allocated");
	flip_free(o2, 0);
	o2->nfree--;
	/* A second block starting at 64 (order 1, allocated). */
	flip(o1->alloc, 0);
	expect_broken(&fx.b, "two blocks start at one frame");
	flip(o1->alloc, 0);
	/* Split the free 68-71 into two free halves: unmerged buddies. */
	assert_true(o2->free[0][0] & 2);
	flip_free(o2, 1);
	o2->nfree--;
	flip_free(o1, 2);
	flip_free(o1, 3);
	o1->nfree += 2;
	expect_broken(&fx.b, "free buddies not merged");
	flip_free(o1, 2);
	flip_free(o1, 3);
	o1->nfree -= 2;
	flip_free(o2, 1);
	o2->nfree++;
	check(&fx.b);
	/* A free block in the hole. */
	flip_free(o0, 128 - 64);
	o0->nfree++;
	fx.b.nfree++;
	expect_broken(&fx.b, "blocks do not cover exactly the pool");
	flip_free(o0, 128 - 64);
	o0->nfree--;
	fx.b.nfree--;
	/* An order's hint above its lowest free block (alloc would miss that block). */
	assert_true(o2->free[0][0] & 2);
	o2->hint = 1;
	expect_broken(&fx.b, "free block below an order's hint");
	o2->hint = 0;
	check(&fx.b);
	/* Counts: per order, total, pool. */
	o1->nfree++;
	expect_broken(&fx.b, "free block count of an order is wrong");
	o1->nfree--;
	fx.b.nfree--;
	expect_broken(&fx.b, "free frame count is wrong");
	fx.b.nfree++;
	fx.b.pool++;
	expect_broken(&fx.b, "blocks do not cover exactly the pool");
	fx.b.pool--;
	/* Summaries: a stale bit, a missing bit, a bit past the end. */
	flip(o0->free[1], 1);
	expect_broken(&fx.b, "summary bit disagrees with its word");
	flip(o0->free[1], 1);
	flip(o0->free[1], 5);
	expect_broken(&fx.b, "summary bit past the last word");
	flip(o0->free[1], 5);
	flip(o0->alloc, 127);
	expect_broken(&fx.b, "bit past the last position");
	flip(o0->alloc, 127);
	check(&fx.b);
	/* A stale word that is not empty, or out of range; an empty one passes only as stale. */
	fx.b.stale = 0; /* word 0 of order 0: empty (order 0 has no free block here) */
	expect_broken(&fx.b, "summary bit disagrees with its word");
	flip(o0->free[1], 0);
	check(&fx.b);   /* word 0 stale, its summary bit set: valid */
	fx.b.stale = 1; /* word 1 holds 189 and 190 */
	expect_broken(&fx.b, "stale word is not an empty word");
	fx.b.stale = 2;
	expect_broken(&fx.b, "stale word is not an empty word");
	fx.b.stale = 0;
	flip_free(o0, 0); /* frame 64 free in word 0 (inside the allocated block) */
	expect_broken(&fx.b, "stale word is not an empty word");
	flip_free(o0, 0); /* rebuilds the summary: bit 0 clear again */
	fx.b.stale = BUDDY_NO_STALE;
	check(&fx.b);
	fx_done(&fx);

	/* Blocks sticking out of an unaligned span at either edge. */
	fx_init(&fx, 3, 10);          /* [3, 13) */
	flip(fx.b.order[2].alloc, 0); /* [0, 4) */
	expect_broken(&fx.b, "block starts below the span");
	flip(fx.b.order[2].alloc, 0);
	flip(fx.b.order[2].alloc, 3); /* [12, 16) */
	expect_broken(&fx.b, "block ends past the span");
	flip(fx.b.order[2].alloc, 3);
	check(&fx.b);
	fx_done(&fx);
}

/* Allocate every frame of the pool at order 0 (the pool must be all order 0 afterwards). */
static void alloc_all_order0(struct buddy *b)
{
	uint64_t f;

	while (buddy_alloc(b, 0, &f) == MICA_OK)
		;
	assert_int_equal(buddy_free_count(b), 0);
}

/*
 * A split for order 0 whose free half lands in the stale word takes the
 * word back without touching the summaries (alloc_slow's split_to_frame);
 * one whose half lands in another word settles the stale word first.
 * Frames taken one after another, as the pager's faults take them.
 */
static void test_split_into_stale(void **state)
{
	struct fixture fx;
	uint64_t f;

	(void)state;
	fx_init(&fx, 0, 128); /* one free block [0, 128); order 0's words 0 and 1 */
	assert_int_equal(buddy_add_range(&fx.b, 0, 128), MICA_OK);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 0);
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1);
	assert_int_equal(fx.b.stale, 0); /* word 0 went empty */
	check(&fx.b);
	/* [2, 4) split: frame 3 goes free in word 0, the stale word, which is settled so. */
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 2);
	assert_int_equal(fx.b.stale, BUDDY_NO_STALE);
	assert_int_equal(fx.b.order[0].free[0][0], 1ULL << 3);
	assert_true(fx.b.order[0].free[1][0] & 1);
	check(&fx.b);
	/* Up to frame 63: word 0 empty and stale again. */
	for (uint64_t want = 3; want < 64; want++) {
		assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
		assert_int_equal(f, want);
		check(&fx.b);
	}
	assert_int_equal(fx.b.stale, 0);
	/* [64, 128) split: frame 65 goes free in word 1; word 0's summary bit is cleared. */
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 64);
	assert_int_equal(fx.b.stale, BUDDY_NO_STALE);
	assert_int_equal(fx.b.order[0].free[1][0] & 3, 2);
	check(&fx.b);
	assert_int_equal(buddy_free_count(&fx.b), 128 - 65);
	for (f = 0; f < 65; f++)
		assert_int_equal(buddy_free(&fx.b, f, 0), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_free_count(&fx.b), 128);
	fx_done(&fx);
}

/*
 * The fast paths and order 0's stale word (buddy.h): an allocation that
 * empties a word leaves its summary bit set, the free of that frame finds
 * it so, and every other operation settles it first. Each step is checked
 * (buddy_check knows the rule) and the states after frees equal a fresh
 * allocator's.
 */
static void test_fast_paths(void **state)
{
	struct fixture fx, fresh;
	struct snap s;
	uint64_t f, g;
	bool is_free;
	unsigned order;

	(void)state;
	/* Span [0, 192): order 0's words 0, 1, 2. Free frames 1 and 129 only (buddies held). */
	fx_init(&fx, 0, 192);
	assert_int_equal(buddy_add_range(&fx.b, 0, 192), MICA_OK);
	alloc_all_order0(&fx.b);
	assert_int_equal(buddy_free(&fx.b, 1, 0), MICA_OK);
	assert_int_equal(buddy_free(&fx.b, 129, 0), MICA_OK);
	check(&fx.b);
	snap_take(&s, &fx);

	/* Frame 1 empties word 0: stale, the check agrees; its free puts everything back. */
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1);
	assert_int_equal(fx.b.stale, 0);
	assert_true(fx.b.order[0].free[1][0] & 1); /* the summary bit left set */
	check(&fx.b);
	assert_int_equal(buddy_free(&fx.b, 1, 0), MICA_OK);
	assert_int_equal(fx.b.stale, BUDDY_NO_STALE);
	check(&fx.b);
	snap_expect(&s, &fx);

	/* Double free and foreign frames, with word 0 stale: refused, nothing changes. */
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	snap_drop(&s);
	snap_take(&s, &fx);
	assert_int_equal(buddy_free(&fx.b, 129, 0), MICA_ENOENT); /* free already */
	assert_int_equal(buddy_free(&fx.b, 1, 1), MICA_EINVAL);   /* wrong order */
	assert_int_equal(buddy_free(&fx.b, 192, 0), MICA_ERANGE); /* not in the span */
	snap_expect(&s, &fx);
	assert_int_equal(buddy_free(&fx.b, 1, 0), MICA_OK);
	assert_int_equal(buddy_free(&fx.b, 1, 0), MICA_ENOENT); /* double free */
	check(&fx.b);

	/*
	 * The descent settles the stale word first: with word 0 stale and
	 * its summary bit set, the next allocation (hint's word empty) must
	 * find frame 129, not the empty word 0.
	 */
	assert_int_equal(buddy_alloc(&fx.b, 0, &f), MICA_OK);
	assert_int_equal(f, 1);
	assert_int_equal(buddy_alloc(&fx.b, 0, &g), MICA_OK);
	assert_int_equal(g, 129);
	check(&fx.b);
	assert_int_equal(buddy_alloc(&fx.b, 0, &g), MICA_ENOMEM);

	/* A free into an empty word that is not the stale one sets its summary bits. */
	assert_int_equal(buddy_free(&fx.b, 65, 0), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_alloc(&fx.b, 0, &g), MICA_OK);
	assert_int_equal(g, 65);
	check(&fx.b);

	/* Coalescing: frees whose buddies are free merge up, back to one block. */
	for (f = 0; f < 192; f++) {
		assert_int_equal(buddy_free(&fx.b, f, 0), MICA_OK);
		if (f % 16 == 15)
			check(&fx.b);
	}
	check(&fx.b);
	assert_int_equal(buddy_free_count(&fx.b), 192);
	assert_int_equal(buddy_free_blocks(&fx.b, 0), 0);
	assert_int_equal(buddy_block(&fx.b, 5, &f, &order, &is_free), MICA_OK);
	assert_true(is_free && f == 0 && order == 7); /* [0, 128) */
	fx_init(&fresh, 0, 192);
	assert_int_equal(buddy_add_range(&fresh.b, 0, 192), MICA_OK);
	expect_same_state(&fx, &fresh);
	fx_done(&fresh);
	snap_drop(&s);
	fx_done(&fx);

	/*
	 * An odd first position (span from frame 1): a buddy may lie in the
	 * next word, and the fast path looks there. Frames 64 and 65 are
	 * buddies at order 0's positions 63 and 64, words 0 and 1.
	 */
	fx_init(&fx, 1, 191);
	assert_int_equal(buddy_add_range(&fx.b, 1, 191), MICA_OK);
	alloc_all_order0(&fx.b);
	assert_int_equal(buddy_free(&fx.b, 65, 0), MICA_OK);
	assert_int_equal(buddy_free_blocks(&fx.b, 0), 1);
	assert_int_equal(buddy_free(&fx.b, 64, 0), MICA_OK); /* merges with 65 */
	assert_int_equal(buddy_free_blocks(&fx.b, 0), 0);
	assert_int_equal(buddy_free_blocks(&fx.b, 1), 1);
	check(&fx.b);
	assert_int_equal(buddy_free(&fx.b, 63, 0), MICA_OK); /* buddy 62 held: no merge */
	assert_int_equal(buddy_free_blocks(&fx.b, 0), 1);
	assert_int_equal(buddy_free(&fx.b, 62, 0), MICA_OK); /* [62, 64); [60, 62) held */
	assert_int_equal(buddy_free_blocks(&fx.b, 0), 0);
	assert_int_equal(buddy_free_blocks(&fx.b, 1), 2);
	check(&fx.b);
	for (f = 1; f < 192; f++)
		if (f < 62 || f > 65)
			assert_int_equal(buddy_free(&fx.b, f, 0), MICA_OK);
	check(&fx.b);
	assert_int_equal(buddy_free_count(&fx.b), 191);
	fx_init(&fresh, 1, 191);
	assert_int_equal(buddy_add_range(&fresh.b, 1, 191), MICA_OK);
	expect_same_state(&fx, &fresh);
	fx_done(&fresh);
	fx_done(&fx);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_meta_size),
	    cmocka_unit_test(test_init_refusals),
	    cmocka_unit_test(test_add_range_refusals),
	    cmocka_unit_test(test_alloc_refusals),
	    cmocka_unit_test(test_policy),
	    cmocka_unit_test(test_large_orders),
	    cmocka_unit_test(test_exhaustive_pools),
	    cmocka_unit_test(test_exhaustive_holes),
	    cmocka_unit_test(test_refused_frees),
	    cmocka_unit_test(test_every_refused_free),
	    cmocka_unit_test(test_random_small),
	    cmocka_unit_test(test_random_medium),
	    cmocka_unit_test(test_random_large),
	    cmocka_unit_test(test_check_catches_corruption),
	    cmocka_unit_test(test_fast_paths),
	    cmocka_unit_test(test_split_into_stale),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
