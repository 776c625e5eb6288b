/*
 * Host unit tests for runtime/malloc.c: the allocator over a fake rt_sbrk
 * (a static arena whose limit a test sets and which can refuse), with
 * AddressSanitizer poisoning everything above the break. Random workloads
 * with fixed seeds run rt_heap_check after every operation and check every
 * block's contents against the pattern written into it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sanitizer/asan_interface.h>

#include "runtime/rt.h"
#include "rng.h"

/* ---- the fake break ---- */

#define ARENA (64u << 20)

static _Alignas(4096) char arena[ARENA];

static struct {
	char *start; /* the break at the beginning */
	char *brk;
	size_t limit;    /* the break may not pass start + limit */
	int refuse_grow; /* refuse every growth */
	int refuse_shrink;
	unsigned grows, shrinks;
	size_t given_back; /* bytes returned by negative calls */
} fake;

void *rt_sbrk(intptr_t delta)
{
	char *old = fake.brk;

	if (delta > 0 &&
	    (fake.refuse_grow || (size_t)delta > fake.limit - (size_t)(old - fake.start)))
		return (void *)-1;
	if (delta < 0 && (fake.refuse_shrink || (size_t)-delta > (size_t)(old - fake.start)))
		return (void *)-1;
	if (delta > 0) {
		fake.grows++;
		ASAN_UNPOISON_MEMORY_REGION(old, (size_t)delta);
	} else if (delta < 0) {
		fake.shrinks++;
		fake.given_back += (size_t)-delta;
		ASAN_POISON_MEMORY_REGION(old + delta, (size_t)-delta);
	}
	fake.brk = old + delta;
	return old;
}

/* A fresh heap whose break starts `offset` bytes into the arena, limited to `limit` bytes. */
static void fake_reset(size_t offset, size_t limit)
{
	ASAN_UNPOISON_MEMORY_REGION(arena, sizeof(arena));
	memset(arena, 0xCD, sizeof(arena));
	ASAN_POISON_MEMORY_REGION(arena, sizeof(arena));
	memset(&fake, 0, sizeof(fake));
	fake.start = fake.brk = arena + offset;
	fake.limit = limit;
	rt_heap_forget();
}

static int teardown(void **state)
{
	(void)state;
	ASAN_UNPOISON_MEMORY_REGION(arena, sizeof(arena));
	return 0;
}

static void check_heap(void)
{
	const char *why = rt_heap_check();

	if (why)
		fail_msg("heap_check: %s", why);
}

/* The heap holds nothing: its padding and epilogue alone, less than 16 + 8 bytes. */
static void assert_heap_empty(void)
{
	struct rt_heap_stats st;

	rt_heap_stats(&st);
	assert_int_equal(st.used_blocks, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_true(st.heap_bytes <= 24);
	assert_true(fake.brk - fake.start <= 24);
}

/* ---- patterns ---- */

static unsigned char pat(unsigned tag, size_t i)
{
	return (unsigned char)(tag ^ (i * 31) ^ (i >> 8));
}

static void fill(void *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++)
		((unsigned char *)p)[i] = pat(tag, i);
}

static void verify(const void *p, size_t n, unsigned tag)
{
	for (size_t i = 0; i < n; i++) {
		if (((const unsigned char *)p)[i] != pat(tag, i))
			fail_msg("block %p byte %zu of %zu changed", p, i, n);
	}
}

/* ---- tests ---- */

static void test_basics(void **state)
{
	void *p[64];

	(void)state;
	for (size_t off = 0; off < 16; off++) {
		fake_reset(off, 1u << 20);
		rt_free(NULL);
		check_heap();
		p[0] = rt_malloc(0);
		p[1] = rt_malloc(0);
		assert_non_null(p[0]);
		assert_non_null(p[1]);
		assert_ptr_not_equal(p[0], p[1]);
		for (size_t i = 2; i < 64; i++) {
			size_t n = i * i * 3 + off;

			p[i] = rt_malloc(n);
			assert_non_null(p[i]);
			assert_int_equal((uintptr_t)p[i] % 16, 0);
			fill(p[i], n, (unsigned)i);
			check_heap();
		}
		for (size_t i = 2; i < 64; i++)
			verify(p[i], i * i * 3 + off, (unsigned)i);
		for (size_t i = 0; i < 64; i += 2)
			rt_free(p[i]);
		check_heap();
		for (size_t i = 1; i < 64; i += 2)
			rt_free(p[i]);
		check_heap();
		rt_malloc_trim();
		check_heap();
		assert_heap_empty();
	}
}

static void test_zeroed(void **state)
{
	unsigned char *p, *q;

	(void)state;
	fake_reset(0, 1u << 20);
	p = rt_malloc(4000);
	assert_non_null(p);
	memset(p, 0xFF, 4000);
	rt_free(p);
	q = rt_calloc(100, 40);
	assert_non_null(q);
	for (size_t i = 0; i < 4000; i++)
		assert_int_equal(q[i], 0);
	/* the product overflows */
	assert_null(rt_calloc(SIZE_MAX / 2 + 1, 2));
	assert_null(rt_calloc(SIZE_MAX, SIZE_MAX));
	assert_null(rt_calloc((size_t)1 << 32, (size_t)1 << 32));
	/* too large to ever fit */
	assert_null(rt_malloc(SIZE_MAX));
	assert_null(rt_malloc(SIZE_MAX - 8));
	assert_null(rt_malloc(SIZE_MAX / 2 + 1));
	p = rt_calloc(0, 5);
	assert_non_null(p);
	check_heap();
	rt_free(p);
	rt_free(q);
	rt_malloc_trim();
	assert_heap_empty();
}

static void test_resize(void **state)
{
	char *a, *b, *c, *d, *e;
	unsigned grows;

	(void)state;
	fake_reset(0, 8u << 20);
	assert_null(rt_realloc(NULL, SIZE_MAX));
	a = rt_realloc(NULL, 100);
	assert_non_null(a);
	fill(a, 100, 1);
	b = rt_malloc(100);
	c = rt_malloc(100);
	fill(c, 100, 3);
	/* shrinking stays in place */
	assert_ptr_equal(rt_realloc(a, 40), a);
	verify(a, 40, 1);
	check_heap();
	/* growing into the free block above (b, once freed) stays in place */
	rt_free(b);
	assert_ptr_equal(rt_realloc(a, 200), a);
	verify(a, 40, 1);
	fill(a, 200, 1);
	check_heap();
	/* growing past c moves, keeping the contents */
	b = rt_realloc(a, 1000);
	assert_non_null(b);
	assert_ptr_not_equal(b, a);
	verify(b, 200, 1);
	fill(b, 1000, 2);
	check_heap();
	/* the top used block grows the heap under it, in place */
	e = rt_malloc(10);
	assert_non_null(e);
	c = rt_realloc(c, 100); /* no change */
	verify(c, 100, 3);
	grows = fake.grows;
	a = rt_malloc(40000); /* past the top free block: the heap grows for it */
	d = rt_realloc(a, 3u << 20);
	assert_ptr_equal(d, a);
	assert_true(fake.grows > grows);
	fill(d, 3u << 20, 4);
	check_heap();
	/* too large: NULL, and the block is untouched */
	assert_null(rt_realloc(d, 16u << 20));
	assert_null(rt_realloc(d, SIZE_MAX - 4));
	verify(d, 3u << 20, 4);
	check_heap();
	/* shrinking the top block gives the heap's top back */
	grows = fake.shrinks;
	assert_ptr_equal(rt_realloc(d, 100), d);
	assert_true(fake.shrinks > grows);
	verify(d, 100, 4);
	/* realloc(p, 0) keeps a minimal block */
	a = rt_realloc(d, 0);
	assert_non_null(a);
	check_heap();
	rt_free(a);
	rt_free(b);
	rt_free(c);
	rt_free(e);
	check_heap();
	rt_malloc_trim();
	assert_heap_empty();
}

/* Allocation fails cleanly when the break cannot move, and works again after. */
static void test_sbrk_failure(void **state)
{
	void *p[4096];
	size_t n = 0;

	(void)state;
	fake_reset(3, 256u << 10);
	while (n < 4096 && (p[n] = rt_malloc(1000)) != NULL) {
		fill(p[n], 1000, (unsigned)n);
		n++;
	}
	assert_true(n > 200 && n < 300);
	check_heap();
	assert_null(rt_malloc(1000));
	assert_null(rt_calloc(10, 100));
	assert_null(rt_realloc(p[0], 5000));
	verify(p[0], 1000, 0);
	/* a small block still fits the remainder of the last growth */
	fake.refuse_grow = 1;
	for (size_t i = 0; i < n; i++)
		verify(p[i], 1000, (unsigned)i);
	rt_free(p[n / 2]);
	assert_non_null(p[n / 2] = rt_malloc(900));
	fill(p[n / 2], 900, (unsigned)(n / 2));
	check_heap();
	/* a first heap that cannot start */
	fake.refuse_grow = 0;
	for (size_t i = 0; i < n; i++)
		rt_free(p[i]);
	check_heap();
	assert_heap_empty();
	fake_reset(0, 0);
	assert_null(rt_malloc(1));
	assert_null(rt_malloc(0));
	check_heap();
	/* the minimum growth refused, the exact size granted */
	fake_reset(0, 10000);
	assert_non_null(p[0] = rt_malloc(9000));
	check_heap();
	rt_free(p[0]);
	rt_malloc_trim();
	assert_heap_empty();
}

/* The top goes back at 64 KiB; smaller tops stay until malloc_trim; freeing all empties the heap.
 */
static void test_give_back(void **state)
{
	void *p[2048];
	void *small, *big;

	(void)state;
	fake_reset(0, 32u << 20);
	small = rt_malloc(100);
	big = rt_malloc(1u << 20);
	assert_non_null(big);
	rt_free(big); /* a 1 MiB top block: given back at once */
	assert_int_equal(fake.shrinks, 1);
	assert_true(fake.brk - fake.start < 1024);
	big = rt_malloc(40u << 10); /* below the threshold: kept */
	rt_free(big);
	assert_int_equal(fake.shrinks, 1);
	rt_malloc_trim();
	assert_int_equal(fake.shrinks, 2);
	rt_free(small);
	rt_malloc_trim();
	assert_heap_empty();

	/* many blocks freed in random order: the heap shrinks back to its start */
	rng_seed(7);
	for (size_t i = 0; i < 2048; i++)
		p[i] = rt_malloc(rng_below(2000));
	assert_true(fake.brk - fake.start > (1 << 20));
	for (size_t i = 2047; i > 0; i--) {
		size_t j = rng_below(i + 1);
		void *t = p[i];

		p[i] = p[j];
		p[j] = t;
	}
	for (size_t i = 0; i < 2048; i++) {
		rt_free(p[i]);
		if (i % 64 == 0)
			check_heap();
	}
	check_heap();
	assert_heap_empty();
	assert_true(fake.given_back > (1 << 20));

	/* a refused give-back keeps the block, listed and usable */
	big = rt_malloc(1u << 20);
	fake.refuse_shrink = 1;
	rt_free(big);
	check_heap();
	assert_ptr_equal(rt_malloc(1u << 20), big);
	rt_free(big);
	fake.refuse_shrink = 0;
	rt_malloc_trim();
	assert_heap_empty();
}

/* ---- random workloads ---- */

#define SLOTS 512

struct slot {
	unsigned char *p;
	size_t n;
	unsigned tag;
};

static struct slot slots[SLOTS];

static size_t random_size(unsigned kind)
{
	switch (kind) {
	case 0: /* small */
		return rng_below(64);
	case 1: /* mixed, mostly small */
		return rng_below(8) ? rng_below(512) : rng_below(16384);
	default: /* some large enough to move the top by more than the threshold */
		return rng_below(16) ? rng_below(4096) : rng_below(300000);
	}
}

/* ops random operations with sizes of kind, limited to limit bytes of heap. */
static void workload(uint64_t seed, unsigned kind, unsigned ops, size_t limit)
{
	unsigned failures = 0;

	fake_reset(seed % 16, limit);
	memset(slots, 0, sizeof(slots));
	rng_seed(seed);
	for (unsigned op = 0; op < ops; op++) {
		struct slot *s = &slots[rng_below(SLOTS)];
		unsigned what = (unsigned)rng_below(10);
		size_t n = random_size(kind);
		unsigned char *q;

		if (s->p)
			verify(s->p, s->n, s->tag);
		if (s->p && what < 4) { /* free */
			rt_free(s->p);
			s->p = NULL;
			s->n = 0;
		} else if (what < 7) { /* realloc (or malloc, for an empty slot) */
			q = rt_realloc(s->p, n);
			if (!q) {
				failures++;
			} else {
				size_t keep = n < s->n ? n : s->n;

				verify(q, s->p ? keep : 0, s->tag);
				s->p = q;
				s->n = n;
				for (size_t i = keep; i < n; i++)
					q[i] = pat(s->tag, i);
			}
		} else if (!s->p) { /* malloc or calloc */
			int zero = what == 9;

			q = zero ? rt_calloc(n, 1) : rt_malloc(n);
			if (!q) {
				failures++;
			} else {
				assert_int_equal((uintptr_t)q % 16, 0);
				for (size_t i = 0; zero && i < n; i++)
					assert_int_equal(q[i], 0);
				s->p = q;
				s->n = n;
				s->tag = (unsigned)rng();
				fill(q, n, s->tag);
			}
		}
		check_heap();
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		if (slots[i].p) {
			verify(slots[i].p, slots[i].n, slots[i].tag);
			rt_free(slots[i].p);
			check_heap();
		}
	}
	rt_malloc_trim();
	assert_heap_empty();
	if (limit < ARENA)
		assert_true(failures > 0); /* the limit was reached */
}

static void test_random_small(void **state)
{
	(void)state;
	workload(101, 0, 100000, ARENA);
	workload(102, 0, 50000, 16u << 10);
}

static void test_random_mixed(void **state)
{
	(void)state;
	workload(201, 1, 100000, ARENA);
	workload(202, 1, 50000, 512u << 10);
}

static void test_random_large(void **state)
{
	(void)state;
	workload(301, 2, 100000, ARENA);
	workload(302, 2, 50000, 4u << 20);
}

/* Heap bytes per requested byte, for the README: n blocks of each size. */
static void test_overhead(void **state)
{
	static const size_t sizes[] = {1, 8, 16, 24, 32, 48, 100, 1000, 4096};
	enum { COUNT = 1000 };
	static void *p[COUNT];

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct rt_heap_stats st;

		fake_reset(0, ARENA);
		for (size_t i = 0; i < COUNT; i++)
			p[i] = rt_malloc(sizes[k]);
		rt_heap_stats(&st);
		printf("  malloc(%4zu): %4zu-byte blocks, %5.1f%% over the bytes asked for\n",
		       sizes[k], st.used_bytes / COUNT,
		       100.0 * ((double)st.used_bytes / (double)(COUNT * sizes[k]) - 1));
		for (size_t i = 0; i < COUNT; i++)
			rt_free(p[i]);
		check_heap();
	}
}

/* The checker finds damage: each corruption is reported, then undone. */
static void test_check_catches(void **state)
{
	uint64_t *h, save;
	char *a, *b, *c;

	(void)state;
	fake_reset(0, 1u << 20);
	a = rt_malloc(100);
	b = rt_malloc(100);
	c = rt_malloc(100);
	rt_free(b);
	check_heap();
	h = (uint64_t *)(void *)(a - 8); /* a's header */
	save = *h;
	*h += 16;
	assert_non_null(rt_heap_check());
	*h = save;
	*h &= ~(uint64_t)2; /* PREV_USED of the first block */
	assert_non_null(rt_heap_check());
	*h = save;
	*h &= ~(uint64_t)1; /* a free block beside b */
	assert_non_null(rt_heap_check());
	*h = save;
	h = (uint64_t *)(void *)(b - 8 + 112 - 8); /* b's footer */
	save = *h;
	*h = 64;
	assert_non_null(rt_heap_check());
	*h = save;
	h = (uint64_t *)(void *)b; /* b's next link */
	save = *h;
	*h = (uint64_t)(uintptr_t)b;
	assert_non_null(rt_heap_check());
	*h = save;
	check_heap();
	rt_free(a);
	rt_free(c);
	rt_malloc_trim();
	assert_heap_empty();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_basics, teardown),
	    cmocka_unit_test_teardown(test_zeroed, teardown),
	    cmocka_unit_test_teardown(test_resize, teardown),
	    cmocka_unit_test_teardown(test_sbrk_failure, teardown),
	    cmocka_unit_test_teardown(test_give_back, teardown),
	    cmocka_unit_test_teardown(test_random_small, teardown),
	    cmocka_unit_test_teardown(test_random_mixed, teardown),
	    cmocka_unit_test_teardown(test_random_large, teardown),
	    cmocka_unit_test_teardown(test_overhead, teardown),
	    cmocka_unit_test_teardown(test_check_catches, teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
