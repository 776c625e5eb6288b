/*
 * Host unit tests for kernel/slab.c: object caches over fake reserve
 * frames. Objects never overlap, are aligned, come back for reuse, and a
 * slab's frames go back to the frame allocator with its last object, so
 * the reserve counts stay exact; a wrong free panics.
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
#include <mica/layout.h>
#include "fakes.h"
#include "panic.h"
#include "phys.h"
#include "slab.h"

#define PAGE    MICA_PAGE_SIZE
#define NFRAMES 64

/* ---- fake frames: a bitmap over NFRAMES pages of host memory (frame 0 never given) ---- */

static uint8_t *ram;
static bool used[NFRAMES];
static unsigned allocs, frees;   /* frame allocator calls that succeeded */
static unsigned limit = NFRAMES; /* frames the fake may hand out at most */

static unsigned frames_used(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NFRAMES; i++)
		n += used[i];
	return n;
}

int frame_alloc_run(uint64_t n, uint64_t align, paddr_t *pa)
{
	assert_true(n > 0 && align > 0 && (align & (align - 1)) == 0);
	if (frames_used() + n > limit)
		return MICA_ENOMEM;
	for (uint64_t f = align; f + n <= NFRAMES; f += align) {
		uint64_t k = 0;

		while (k < n && !used[f + k])
			k++;
		if (k < n)
			continue;
		for (k = 0; k < n; k++)
			used[f + k] = true;
		memset(ram + f * PAGE, 0xA5, n * PAGE); /* a caller must not expect zeroes */
		*pa = f * PAGE;
		allocs++;
		return MICA_OK;
	}
	return MICA_ENOMEM;
}

int frame_alloc(paddr_t *pa)
{
	return frame_alloc_run(1, 1, pa);
}

int frame_free(paddr_t pa, uint64_t n)
{
	assert_true(IS_ALIGNED(pa, PAGE) && pa / PAGE + n <= NFRAMES && pa != 0);
	for (uint64_t k = 0; k < n; k++) {
		assert_true(used[pa / PAGE + k]);
		used[pa / PAGE + k] = false;
	}
	memset(ram + pa, 0xCC, n * PAGE); /* a use after free reads garbage */
	frees++;
	return MICA_OK;
}

/* panic: back to the test that expected it (expect_panic), else a failure. */
static jmp_buf panic_jmp;
static bool panic_armed;
static char panic_msg[256];

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	if (panic_armed) {
		panic_armed = false;
		longjmp(panic_jmp, 1);
	}
	fail_msg("unexpected panic: %s", panic_msg);
	abort();
}

#define expect_panic(call)                                                                         \
	do {                                                                                       \
		panic_armed = true;                                                                \
		if (setjmp(panic_jmp) == 0) {                                                      \
			call;                                                                      \
			fail_msg("no panic from " #call);                                          \
		}                                                                                  \
		panic_armed = false;                                                               \
	} while (0)

/* ---- caches as the kernel declares them ---- */

struct small {
	uint64_t a, b, c; /* 24 bytes: rounded to 32 */
};

static struct slab_cache small_cache, big_cache, block_cache;

static int setup(void **state)
{
	(void)state;
	memset(used, 0, sizeof(used));
	allocs = frees = 0;
	limit = NFRAMES;
	small_cache = (struct slab_cache)SLAB_CACHE("small", sizeof(struct small), 1);
	big_cache = (struct slab_cache)SLAB_CACHE("big", 1000, 1);
	block_cache = (struct slab_cache)SLAB_CACHE("block", 2 * PAGE, 2);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	ram = aligned_alloc(2 * PAGE, NFRAMES * PAGE);
	assert_non_null(ram);
	host_phys_base = ram;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

/* ---- tests ---- */

/* The sizes fixed by type: rounded to SLAB_ALIGN, as many as fit beside the header. */
static void test_geometry(void **state)
{
	(void)state;
	assert_int_equal(small_cache.size, 32);
	assert_int_equal(small_cache.per_slab, (PAGE - sizeof(struct slab)) / 32);
	assert_int_equal(big_cache.size, 1008);
	assert_int_equal(big_cache.per_slab, 4);
	assert_int_equal(block_cache.size, 2 * PAGE);
	assert_int_equal(block_cache.per_slab, 1);
	/* An object too big for a slab with a header fills the slab alone. */
	struct slab_cache whole = SLAB_CACHE("whole", PAGE - 8, 1);
	assert_int_equal(whole.per_slab, 1);
}

/* A full slab's worth: one frame, every object inside it, aligned, none overlapping. */
static void test_one_slab_no_overlap(void **state)
{
	(void)state;
	uint32_t n = small_cache.per_slab;
	uint8_t **p = calloc(n, sizeof(*p));

	for (uint32_t i = 0; i < n; i++) {
		p[i] = slab_alloc(&small_cache);
		assert_non_null(p[i]);
		assert_true(IS_ALIGNED((uintptr_t)p[i], SLAB_ALIGN));
		memset(p[i], (int)i, small_cache.size); /* each fills its own bytes */
	}
	assert_int_equal(frames_used(), 1);
	assert_int_equal(small_cache.slabs, 1);
	assert_int_equal(small_cache.objects, n);
	uintptr_t base = ALIGN_DOWN((uintptr_t)p[0], PAGE);
	for (uint32_t i = 0; i < n; i++) {
		/* In the slab's frame, before its header, and still holding its own fill. */
		assert_true((uintptr_t)p[i] >= base && (uintptr_t)p[i] + small_cache.size <=
		                                           base + PAGE - sizeof(struct slab));
		for (uint32_t k = 0; k < small_cache.size; k++)
			assert_int_equal(p[i][k], (uint8_t)i);
		for (uint32_t j = 0; j < i; j++)
			assert_true(p[i] + small_cache.size <= p[j] ||
			            p[j] + small_cache.size <= p[i]);
	}
	/* One more: a second frame. */
	void *extra = slab_alloc(&small_cache);
	assert_non_null(extra);
	assert_int_equal(frames_used(), 2);
	assert_int_not_equal(ALIGN_DOWN((uintptr_t)extra, PAGE), base);
	slab_free(&small_cache, extra);
	assert_int_equal(frames_used(), 1);
	for (uint32_t i = 0; i < n; i++)
		slab_free(&small_cache, p[i]);
	assert_int_equal(frames_used(), 0);
	assert_int_equal(small_cache.slabs, 0);
	assert_int_equal(small_cache.objects, 0);
	assert_int_equal(slab_bytes(&small_cache), 0);
	free(p);
}

/* The frame goes back with the last object, whatever the order of the frees. */
static void test_frame_returned_when_empty(void **state)
{
	(void)state;
	void *a = slab_alloc(&big_cache), *b = slab_alloc(&big_cache), *c = slab_alloc(&big_cache);

	assert_int_equal(frames_used(), 1);
	slab_free(&big_cache, b);
	slab_free(&big_cache, a);
	assert_int_equal(frames_used(), 1); /* c is still in it */
	assert_int_equal(frees, 0);
	slab_free(&big_cache, c);
	assert_int_equal(frames_used(), 0);
	assert_int_equal(frees, 1);
	/* Alloc and free of one object: a frame each time, none kept spare. */
	for (int i = 0; i < 5; i++) {
		slab_free(&big_cache, slab_alloc(&big_cache));
		assert_int_equal(frames_used(), 0);
	}
	assert_int_equal(allocs, 6);
	assert_int_equal(frees, 6);
}

/* A freed object is reused before a new slab is taken; the last freed first. */
static void test_reuse(void **state)
{
	(void)state;
	void *p[4];

	for (int i = 0; i < 4; i++)
		p[i] = slab_alloc(&big_cache);
	assert_int_equal(frames_used(), 1);
	slab_free(&big_cache, p[1]);
	slab_free(&big_cache, p[3]);
	assert_ptr_equal(slab_alloc(&big_cache), p[3]);
	assert_ptr_equal(slab_alloc(&big_cache), p[1]);
	assert_int_equal(frames_used(), 1);
	assert_int_equal(allocs, 1);
	for (int i = 0; i < 4; i++)
		slab_free(&big_cache, p[i]);
	assert_int_equal(frames_used(), 0);
}

/* Many slabs, freed in a scattered order: partial slabs serve first; all frames come back. */
static void test_many_slabs_pattern(void **state)
{
	(void)state;
	enum { N = 40 }; /* 10 slabs of 4 */
	void *p[N];

	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = slab_alloc(&big_cache));
	assert_int_equal(frames_used(), N / 4);
	/* Free every other object: no slab empties, none is returned. */
	for (int i = 0; i < N; i += 2)
		slab_free(&big_cache, p[i]);
	assert_int_equal(frames_used(), N / 4);
	/* Allocating again fills the holes, no new frame. */
	for (int i = 0; i < N; i += 2)
		assert_non_null(p[i] = slab_alloc(&big_cache));
	assert_int_equal(frames_used(), N / 4);
	assert_int_equal(allocs, N / 4);
	/* Still no two the same. */
	for (int i = 0; i < N; i++)
		for (int j = 0; j < i; j++)
			assert_ptr_not_equal(p[i], p[j]);
	/* Free slab by slab (by the frame each object lies in): each goes on its fourth free. */
	for (int left = N / 4; left > 0; left--) {
		uintptr_t base = 0;
		int freed = 0;

		for (int i = 0; i < N; i++) {
			if (!p[i] || (base && ALIGN_DOWN((uintptr_t)p[i], PAGE) != base))
				continue;
			base = ALIGN_DOWN((uintptr_t)p[i], PAGE);
			assert_int_equal(frames_used(), (unsigned)left); /* not yet */
			slab_free(&big_cache, p[i]);
			p[i] = NULL;
			freed++;
		}
		assert_int_equal(freed, 4);
		assert_int_equal(frames_used(), (unsigned)left - 1);
	}
	assert_int_equal(big_cache.objects, 0);
}

/* Two-frame blocks: naturally aligned, one per slab, handed straight back. */
static void test_blocks_aligned(void **state)
{
	(void)state;
	void *a = slab_alloc(&block_cache), *b = slab_alloc(&block_cache);

	assert_non_null(a);
	assert_non_null(b);
	assert_true(IS_ALIGNED((uintptr_t)a - (uintptr_t)ram, 2 * PAGE));
	assert_true(IS_ALIGNED((uintptr_t)b - (uintptr_t)ram, 2 * PAGE));
	assert_ptr_not_equal(a, b);
	assert_int_equal(frames_used(), 4);
	assert_int_equal(slab_bytes(&block_cache), 4 * PAGE);
	memset(a, 1, 2 * PAGE); /* the whole block is the caller's: no header */
	slab_free(&block_cache, a);
	assert_int_equal(frames_used(), 2);
	slab_free(&block_cache, b);
	assert_int_equal(frames_used(), 0);
	assert_int_equal(block_cache.objects, 0);
}

/* No frames: NULL, and nothing changes; the next alloc works once frames are back. */
static void test_out_of_frames(void **state)
{
	(void)state;
	void *p[4];

	limit = 1;
	for (int i = 0; i < 4; i++)
		assert_non_null(p[i] = slab_alloc(&big_cache));
	assert_null(slab_alloc(&big_cache));
	assert_int_equal(big_cache.objects, 4);
	assert_int_equal(big_cache.slabs, 1);
	assert_null(slab_alloc(&block_cache));
	assert_int_equal(block_cache.objects, 0);
	slab_free(&big_cache, p[2]);
	assert_ptr_equal(slab_alloc(&big_cache), p[2]); /* a free slot needs no frame */
	for (int i = 0; i < 4; i++)
		slab_free(&big_cache, p[i]);
	assert_int_equal(frames_used(), 0);
	assert_non_null(p[0] = slab_alloc(&big_cache));
	slab_free(&big_cache, p[0]);
}

/* Frees that are not of an object in use panic, and change nothing. */
static void test_bad_free_panics(void **state)
{
	(void)state;
	uint8_t *a = slab_alloc(&big_cache), *b = slab_alloc(&big_cache);

	expect_panic(slab_free(&big_cache, a + 8));                  /* inside an object */
	expect_panic(slab_free(&small_cache, a));                    /* another cache's */
	expect_panic(slab_free(&big_cache, a + 2 * big_cache.size)); /* never handed out */
	expect_panic(slab_free(&block_cache, a));                    /* not a block */
	assert_int_equal(big_cache.objects, 2);
	slab_free(&big_cache, a);
	slab_free(&big_cache, b);
	assert_int_equal(frames_used(), 0);
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_geometry),      T(test_one_slab_no_overlap), T(test_frame_returned_when_empty),
	    T(test_reuse),         T(test_many_slabs_pattern),  T(test_blocks_aligned),
	    T(test_out_of_frames), T(test_bad_free_panics),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
