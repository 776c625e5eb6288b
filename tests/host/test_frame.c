/*
 * Host unit tests for kernel/frame.c: the frame bitmap with its summary
 * level and hint.
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
#include "frame.h"
#include "memmap.h"

#define MiB  (1ULL << 20)
#define PAGE MICA_PAGE_SIZE

/*
 * The test machine: low memory [0, 0x9f000), then [1 MiB, 8 MiB), a
 * reserved 64 KiB, [8 MiB + 64 KiB, 16 MiB), a hole, and [32 MiB, 33 MiB).
 */
#define HOLE_START (8 * MiB)
#define HOLE_END   (8 * MiB + 64 * 1024)
#define MAP_END    (33 * MiB)
#define NFRAMES    (MAP_END / PAGE)

static struct memmap map;
static void *meta;

static int setup(void **state)
{
	(void)state;
	memmap_reset(&map);
	assert_int_equal(memmap_add(&map, 0, 0x9fc00, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_add(&map, 0xf0000, 0x10000, MEMMAP_RESERVED), MICA_OK);
	assert_int_equal(memmap_add(&map, 1 * MiB, 15 * MiB, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_add(&map, HOLE_START, HOLE_END - HOLE_START, MEMMAP_RESERVED),
	                 MICA_OK);
	assert_int_equal(memmap_add(&map, 32 * MiB, 1 * MiB, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_compute(&map), MICA_OK);
	assert_int_equal(memmap_end(&map), MAP_END);

	/* Exactly the bytes asked for, full of garbage: ASan catches overruns. */
	size_t bytes = frame_meta_bytes(&map);
	meta = malloc(bytes);
	assert_non_null(meta);
	memset(meta, 0xA5, bytes);
	frame_init(&map, meta, bytes);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(meta);
	meta = NULL;
	return 0;
}

static uint64_t usable_total(void)
{
	return 0x9f + (HOLE_START - 1 * MiB) / PAGE + (16 * MiB - HOLE_END) / PAGE + 1 * MiB / PAGE;
}

static void expect_stats(uint64_t free)
{
	struct frame_stats st;

	frame_stats(&st);
	assert_int_equal(st.total, usable_total());
	assert_int_equal(st.free, free);
	assert_int_equal(st.used, st.total - free);
	assert_int_equal(st.total, st.free + st.used);
	assert_int_equal(frame_free_count(), free);
}

/* A snapshot of every frame's state and the counts. */
struct snap {
	bool free[NFRAMES + 64];
	struct frame_stats st;
};

static void take(struct snap *s)
{
	for (uint64_t f = 0; f < NFRAMES + 64; f++)
		s->free[f] = frame_is_free(f * PAGE);
	frame_stats(&s->st);
}

static void expect_unchanged(const struct snap *s)
{
	struct snap now;

	take(&now);
	assert_int_equal(now.st.total, s->st.total);
	assert_int_equal(now.st.free, s->st.free);
	assert_int_equal(now.st.used, s->st.used);
	assert_memory_equal(now.free, s->free, sizeof(now.free));
}

static void test_meta_bytes(void **state)
{
	(void)state;
	/* At least one bit per frame up to the end of the map. */
	assert_true(frame_meta_bytes(&map) * 8 >= NFRAMES);
	struct memmap empty;
	memmap_reset(&empty);
	assert_int_equal(memmap_compute(&empty), MICA_OK);
	assert_int_equal(frame_meta_bytes(&empty), 0);
}

static void test_init_marks_usable_free(void **state)
{
	(void)state;
	expect_stats(usable_total());
	for (uint64_t f = 0; f < NFRAMES + 64; f++)
		assert_int_equal(frame_is_free(f * PAGE), memmap_is_usable(&map, f * PAGE));
	assert_false(frame_is_free(0x9f000));
	assert_false(frame_is_free(0xf0000));
	assert_false(frame_is_free(HOLE_START));
	assert_false(frame_is_free(HOLE_END - PAGE));
	assert_true(frame_is_free(HOLE_END));
	assert_false(frame_is_free(16 * MiB));
	assert_true(frame_is_free(MAP_END - PAGE));
	assert_false(frame_is_free(MAP_END));
	assert_false(frame_is_free(UINT64_MAX & ~(PAGE - 1)));
}

static void test_single_allocs(void **state)
{
	(void)state;
	paddr_t a, b, c;

	assert_int_equal(frame_alloc(&a), MICA_OK);
	assert_int_equal(frame_alloc(&b), MICA_OK);
	assert_int_equal(frame_alloc(&c), MICA_OK);
	/* Lowest first. */
	assert_int_equal(a, 0);
	assert_int_equal(b, PAGE);
	assert_int_equal(c, 2 * PAGE);
	assert_false(frame_is_free(a));
	assert_false(frame_is_free(b));
	expect_stats(usable_total() - 3);

	assert_int_equal(frame_free(b, 1), MICA_OK);
	assert_true(frame_is_free(b));
	expect_stats(usable_total() - 2);
}

static void test_low_free_is_reused(void **state)
{
	(void)state;
	paddr_t pa, got;

	/* Use the low memory and a few hundred frames above 1 MiB (several words). */
	frame_mark_used(0, 1 * MiB);
	for (int i = 0; i < 300; i++) {
		assert_int_equal(frame_alloc(&pa), MICA_OK);
		assert_int_equal(pa, 1 * MiB + (uint64_t)i * PAGE);
	}
	/* Free one low down: the hint must go back to it. */
	assert_int_equal(frame_free(1 * MiB + 5 * PAGE, 1), MICA_OK);
	assert_int_equal(frame_alloc(&got), MICA_OK);
	assert_int_equal(got, 1 * MiB + 5 * PAGE);
	/* Free two: the lower one comes first, wherever it is. */
	assert_int_equal(frame_free(1 * MiB + 200 * PAGE, 1), MICA_OK);
	assert_int_equal(frame_free(1 * MiB + 70 * PAGE, 1), MICA_OK);
	assert_int_equal(frame_alloc(&got), MICA_OK);
	assert_int_equal(got, 1 * MiB + 70 * PAGE);
	assert_int_equal(frame_alloc(&got), MICA_OK);
	assert_int_equal(got, 1 * MiB + 200 * PAGE);
	/* Then on past the used ones. */
	assert_int_equal(frame_alloc(&got), MICA_OK);
	assert_int_equal(got, 1 * MiB + 300 * PAGE);
}

static void test_summary_skips_used_words(void **state)
{
	(void)state;
	paddr_t pa;

	/* Everything used, then a few frames freed far apart. */
	frame_mark_used(0, MAP_END);
	expect_stats(0);
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);
	const paddr_t frees[] = {MAP_END - PAGE, 16 * MiB - PAGE, 4 * MiB, 4 * MiB - PAGE,
	                         1 * MiB + 63 * PAGE};
	for (size_t i = 0; i < ARRAY_SIZE(frees); i++)
		assert_int_equal(frame_free(frees[i], 1), MICA_OK);
	expect_stats(ARRAY_SIZE(frees));
	const paddr_t order[] = {1 * MiB + 63 * PAGE, 4 * MiB - PAGE, 4 * MiB, 16 * MiB - PAGE,
	                         MAP_END - PAGE};
	for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
		assert_int_equal(frame_alloc(&pa), MICA_OK);
		assert_int_equal(pa, order[i]);
	}
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);
	expect_stats(0);
}

static void test_runs_with_alignment(void **state)
{
	(void)state;
	paddr_t pa;

	frame_mark_used(0, 1 * MiB);
	assert_int_equal(frame_alloc(&pa), MICA_OK); /* 1 MiB: breaks 2 MiB alignment */
	assert_int_equal(pa, 1 * MiB);

	assert_int_equal(frame_alloc_run(16, 16, &pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB + 16 * PAGE); /* the first 64 KiB-aligned free run */
	for (uint64_t i = 0; i < 16; i++)
		assert_false(frame_is_free(pa + i * PAGE));
	assert_true(frame_is_free(pa + 16 * PAGE));
	assert_true(frame_is_free(pa - PAGE));

	assert_int_equal(frame_alloc_run(512, 512, &pa), MICA_OK);
	assert_int_equal(pa, 2 * MiB);
	for (uint64_t i = 0; i < 512; i++)
		assert_false(frame_is_free(pa + i * PAGE));

	assert_int_equal(frame_alloc_run(3, 1, &pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB + PAGE); /* the gap left below the aligned run */
	expect_stats(usable_total() - 1 * MiB / PAGE + (0x100 - 0x9f) - 1 - 16 - 512 - 3);

	/* Freeing a run gives every frame back. */
	assert_int_equal(frame_free(2 * MiB, 512), MICA_OK);
	for (uint64_t i = 0; i < 512; i++)
		assert_true(frame_is_free(2 * MiB + i * PAGE));
}

static void test_run_skips_hole(void **state)
{
	(void)state;
	paddr_t pa;

	/* Leave 8 free frames just below the hole. */
	frame_mark_used(0, HOLE_START - 8 * PAGE);
	assert_int_equal(frame_alloc_run(16, 1, &pa), MICA_OK);
	assert_int_equal(pa, HOLE_END);
	assert_int_equal(frame_alloc_run(8, 1, &pa), MICA_OK);
	assert_int_equal(pa, HOLE_START - 8 * PAGE);
	/* A run may not span the gap between 16 MiB and 32 MiB either. */
	frame_mark_used(0, 16 * MiB - 4 * PAGE);
	assert_int_equal(frame_alloc_run(8, 1, &pa), MICA_OK);
	assert_int_equal(pa, 32 * MiB);
}

static void test_run_refusals(void **state)
{
	(void)state;
	struct snap s;
	paddr_t pa = 0x1234;

	take(&s);
	assert_int_equal(frame_alloc_run(0, 1, &pa), MICA_EINVAL);
	assert_int_equal(frame_alloc_run(1, 0, &pa), MICA_EINVAL);
	assert_int_equal(frame_alloc_run(1, 3, &pa), MICA_EINVAL);
	assert_int_equal(frame_alloc_run(1, 24, &pa), MICA_EINVAL);
	assert_int_equal(frame_alloc_run(usable_total() + 1, 1, &pa), MICA_ENOMEM);
	/* Enough frames in total, but no contiguous run that long. */
	assert_int_equal(frame_alloc_run((16 * MiB - HOLE_END) / PAGE + 1, 1, &pa), MICA_ENOMEM);
	/* A run that fits only unaligned. */
	assert_int_equal(frame_alloc_run(1024, 2048, &pa), MICA_ENOMEM);
	assert_int_equal(frame_alloc_run(1, 1ULL << 40, &pa), MICA_OK);
	assert_int_equal(pa, 0);
	assert_int_equal(frame_free(0, 1), MICA_OK);
	assert_int_equal(frame_alloc_run(1, 1ULL << 63, &pa), MICA_OK);
	assert_int_equal(pa, 0);
	assert_int_equal(frame_free(0, 1), MICA_OK);
	expect_unchanged(&s);
	/* With frame 0 used, no frame is aligned to 2^63 frames. */
	frame_mark_used(0, PAGE);
	take(&s);
	pa = 0x1234;
	assert_int_equal(frame_alloc_run(1, 1ULL << 63, &pa), MICA_ENOMEM);
	assert_int_equal(pa, 0x1234);
	expect_unchanged(&s);
}

static void test_exhaustion_and_recovery(void **state)
{
	(void)state;
	paddr_t pa, first = 0, last = 0;
	uint64_t n = 0;

	while (frame_alloc(&pa) == MICA_OK) {
		if (n == 0)
			first = pa;
		last = pa;
		n++;
		assert_true(n <= usable_total());
	}
	assert_int_equal(n, usable_total());
	assert_int_equal(first, 0);
	assert_int_equal(last, MAP_END - PAGE);
	expect_stats(0);
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);
	assert_int_equal(frame_alloc_run(1, 1, &pa), MICA_ENOMEM);

	/* Free one in the middle: it comes back, then the allocator is empty again. */
	assert_int_equal(frame_free(12 * MiB, 1), MICA_OK);
	expect_stats(1);
	assert_int_equal(frame_alloc(&pa), MICA_OK);
	assert_int_equal(pa, 12 * MiB);
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);

	/* Free every range: back to the initial state. */
	for (size_t r = 0; r < map.nusable; r++)
		assert_int_equal(frame_free(map.usable[r].start,
		                            (map.usable[r].end - map.usable[r].start) / PAGE),
		                 MICA_OK);
	expect_stats(usable_total());
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(frame_is_free(f * PAGE), memmap_is_usable(&map, f * PAGE));
	assert_int_equal(frame_alloc(&pa), MICA_OK);
	assert_int_equal(pa, 0);
}

static void test_refused_frees_change_nothing(void **state)
{
	(void)state;
	struct snap s;
	paddr_t a, b;

	frame_mark_used(0, 1 * MiB);
	assert_int_equal(frame_alloc(&a), MICA_OK);
	assert_int_equal(frame_alloc(&b), MICA_OK);
	assert_int_equal(b, a + PAGE);
	take(&s);

	assert_int_equal(frame_free(a + 1, 1), MICA_EALIGN);
	assert_int_equal(frame_free(a + PAGE / 2, 1), MICA_EALIGN);
	assert_int_equal(frame_free(a, 0), MICA_EINVAL);
	/* The frame after b is free: the two-frame free fails on it, b stays used. */
	assert_int_equal(frame_free(b, 2), MICA_ENOENT);
	/* Double free. */
	assert_int_equal(frame_free(b + PAGE, 1), MICA_ENOENT);
	/* a and b then a free frame. */
	assert_int_equal(frame_free(a, 3), MICA_ENOENT);
	expect_unchanged(&s);

	/* Holes and reserved frames: never usable, never freed. */
	assert_int_equal(frame_free(HOLE_START, 1), MICA_ERANGE);
	assert_int_equal(frame_free(0x9f000, 1), MICA_ERANGE);
	assert_int_equal(frame_free(20 * MiB, 1), MICA_ERANGE);
	expect_unchanged(&s);
	/* A range that runs into the hole, after used usable frames. */
	frame_mark_used(HOLE_START - 2 * PAGE, HOLE_START);
	take(&s);
	assert_int_equal(frame_free(HOLE_START - 2 * PAGE, 3), MICA_ERANGE);
	assert_false(frame_is_free(HOLE_START - 2 * PAGE));
	/* Past the end, across the end, and wrapping around. */
	assert_int_equal(frame_free(MAP_END, 1), MICA_ERANGE);
	assert_int_equal(frame_free(MAP_END + 1 * MiB, 1), MICA_ERANGE);
	expect_unchanged(&s);
	frame_mark_used(MAP_END - PAGE, MAP_END);
	take(&s);
	assert_int_equal(frame_free(MAP_END - PAGE, 2), MICA_ERANGE);
	assert_int_equal(frame_free(MAP_END - PAGE, UINT64_MAX), MICA_ERANGE);
	assert_int_equal(frame_free(1 * MiB, UINT64_MAX), MICA_ERANGE);
	assert_int_equal(frame_free(0xFFFFFFFFFFFFF000ULL, 2), MICA_ERANGE);
	assert_int_equal(frame_free(0xFFFFFFFFFFFFF000ULL, 1), MICA_ERANGE);
	expect_unchanged(&s);

	/* The right call still works afterwards. */
	assert_int_equal(frame_free(a, 2), MICA_OK);
	assert_true(frame_is_free(a));
	assert_true(frame_is_free(b));
}

static void test_mark_used(void **state)
{
	(void)state;
	paddr_t pa;

	assert_int_equal(frame_mark_used(0, 0x90 * PAGE), 0x90);
	/* Straddles the reserved 0x9f000..0x100000 stretch: only usable frames count. */
	assert_int_equal(frame_mark_used(0x90000, 1 * MiB + 16 * PAGE),
	                 (0x9f000 - 0x90000) / PAGE + 16);
	expect_stats(usable_total() - 0x90 - 15 - 16);
	/* Idempotent. */
	assert_int_equal(frame_mark_used(0x90000, 1 * MiB + 16 * PAGE), 0);
	/* Overlapping an earlier range: only the new part counts. */
	assert_int_equal(frame_mark_used(1 * MiB + 8 * PAGE, 1 * MiB + 24 * PAGE), 8);
	/* Over the hole. */
	assert_int_equal(frame_mark_used(HOLE_START - PAGE, HOLE_END + PAGE), 2);
	/* Past the end of the bitmap: ignored, no overrun. */
	assert_int_equal(frame_mark_used(MAP_END - PAGE, MAP_END + 999 * PAGE), 1);
	assert_int_equal(frame_mark_used(MAP_END + 1 * MiB, MAP_END + 1 * MiB + 1000 * PAGE), 0);
	assert_int_equal(frame_mark_used(1 * MiB, 1 * MiB), 0);
	expect_stats(usable_total() - 0x90 - 15 - 24 - 2 - 1);
	assert_false(frame_is_free(HOLE_END));
	assert_false(frame_is_free(MAP_END - PAGE));

	/* Marked frames are never handed out. */
	assert_int_equal(frame_alloc(&pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB + 24 * PAGE);
	/* A marked frame may be freed (boot memory given back). */
	assert_int_equal(frame_free(1 * MiB, 1), MICA_OK);
	assert_int_equal(frame_alloc(&pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB);
}

static void test_mark_used_unaligned(void **state)
{
	(void)state;
	const paddr_t f = 2 * MiB; /* frames f .. f + 7 PAGE: all usable and free */

	/* Starting and ending inside a frame: both partial frames, nothing more. */
	assert_int_equal(frame_mark_used(f + 0x800, f + PAGE + 0x10), 2);
	assert_true(frame_is_free(f - PAGE));
	assert_false(frame_is_free(f));
	assert_false(frame_is_free(f + PAGE));
	assert_true(frame_is_free(f + 2 * PAGE));
	expect_stats(usable_total() - 2);

	/* A few bytes inside one frame: that frame. */
	assert_int_equal(frame_mark_used(f + 3 * PAGE + 1, f + 3 * PAGE + 2), 1);
	assert_true(frame_is_free(f + 2 * PAGE));
	assert_false(frame_is_free(f + 3 * PAGE));
	assert_true(frame_is_free(f + 4 * PAGE));
	/* A single byte: the last byte of a frame, then the first of the next. */
	assert_int_equal(frame_mark_used(f + 5 * PAGE - 1, f + 5 * PAGE), 1);
	assert_false(frame_is_free(f + 4 * PAGE));
	assert_true(frame_is_free(f + 5 * PAGE));
	assert_int_equal(frame_mark_used(f + 5 * PAGE, f + 5 * PAGE + 1), 1);
	assert_false(frame_is_free(f + 5 * PAGE));
	assert_true(frame_is_free(f + 6 * PAGE));

	/* An end on a frame boundary is exclusive: the frame it starts stays free. */
	assert_int_equal(frame_mark_used(f + 6 * PAGE + 0xfff, f + 7 * PAGE), 1);
	assert_true(frame_is_free(f + 7 * PAGE));
	/* One byte further and it is marked too. */
	assert_int_equal(frame_mark_used(f + 6 * PAGE + 0xfff, f + 7 * PAGE + 1), 1);
	assert_false(frame_is_free(f + 7 * PAGE));
	assert_true(frame_is_free(f + 8 * PAGE));
	assert_true(frame_is_free(f + 2 * PAGE));
	expect_stats(usable_total() - 7);

	/* Unaligned over the hole and across the low reserved stretch: usable frames only. */
	assert_int_equal(frame_mark_used(HOLE_START - 1, HOLE_END + 1), 2);
	assert_false(frame_is_free(HOLE_START - PAGE));
	assert_false(frame_is_free(HOLE_END));
	assert_true(frame_is_free(HOLE_END + PAGE));
	assert_int_equal(frame_mark_used(0x9e123, 1 * MiB + 0x10), 2);
	assert_false(frame_is_free(0x9e000));
	assert_false(frame_is_free(1 * MiB));
	assert_true(frame_is_free(1 * MiB + PAGE));
	expect_stats(usable_total() - 11);
}

static void test_mark_used_empty_range(void **state)
{
	(void)state;
	struct snap s;

	take(&s);
	/* end <= start: nothing, whatever the addresses. */
	assert_int_equal(frame_mark_used(0, 0), 0);
	assert_int_equal(frame_mark_used(2 * MiB, 2 * MiB), 0);
	assert_int_equal(frame_mark_used(2 * MiB + 5, 2 * MiB + 5), 0);
	assert_int_equal(frame_mark_used(2 * MiB + PAGE, 2 * MiB), 0);
	assert_int_equal(frame_mark_used(2 * MiB + 1, 2 * MiB), 0);
	assert_int_equal(frame_mark_used(MAP_END, 0), 0);
	assert_int_equal(frame_mark_used(UINT64_MAX, 0), 0);
	assert_int_equal(frame_mark_used(UINT64_MAX, 1 * MiB), 0);
	assert_int_equal(frame_mark_used(UINT64_MAX, UINT64_MAX), 0);
	expect_unchanged(&s);
}

static void test_mark_used_to_top_of_memory(void **state)
{
	(void)state;
	struct snap s;
	paddr_t pa;

	/* Ranges ending at the very top of the address space: no overflow, no endless loop. */
	assert_int_equal(frame_mark_used(MAP_END - PAGE, UINT64_MAX), 1);
	assert_false(frame_is_free(MAP_END - PAGE));
	assert_true(frame_is_free(MAP_END - 2 * PAGE));
	expect_stats(usable_total() - 1);
	take(&s);
	assert_int_equal(frame_mark_used(UINT64_MAX - 1, UINT64_MAX), 0);
	assert_int_equal(frame_mark_used(0xFFFFFFFFFFFFF000ULL, UINT64_MAX), 0);
	assert_int_equal(frame_mark_used(MAP_END, UINT64_MAX), 0);
	assert_int_equal(frame_mark_used(1ULL << 63, UINT64_MAX), 0);
	expect_unchanged(&s);

	/* Everything at once: every free usable frame, counted once. */
	assert_int_equal(frame_mark_used(0, UINT64_MAX), usable_total() - 1);
	expect_stats(0);
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);
	assert_int_equal(frame_mark_used(0, UINT64_MAX), 0);
	expect_stats(0);
}

static void test_total_counted_from_bitmap(void **state)
{
	(void)state;
	static struct memmap lying;
	struct frame_stats st;

	/* Well formed: the bitmap's count is the map's count. */
	frame_stats(&st);
	assert_int_equal(st.total, map.usable_frames);
	assert_int_equal(st.total, usable_total());

	/*
	 * The same ranges with a wrong usable_frames: the total is what the
	 * bitmap holds, not what the map claims.
	 */
	lying = map;
	lying.usable_frames = usable_total() + 12345;
	frame_init(&lying, meta, frame_meta_bytes(&lying));
	expect_stats(usable_total());
	lying.usable_frames = 1;
	frame_init(&lying, meta, frame_meta_bytes(&lying));
	expect_stats(usable_total());
	/* Stats stay consistent through use. */
	assert_int_equal(frame_mark_used(0, 1 * MiB), 0x9f);
	expect_stats(usable_total() - 0x9f);
}

static void test_never_unusable(void **state)
{
	(void)state;
	static bool seen[NFRAMES];
	paddr_t pa;
	uint64_t n = 0;

	memset(seen, 0, sizeof(seen));
	/* Runs and single frames mixed, until nothing is left. */
	while (frame_free_count() > 0) {
		uint64_t len = 1 + n % 7, align = 1ULL << (n % 4);
		int rc = MICA_ENOMEM;

		if (n % 2)
			rc = frame_alloc_run(len, align, &pa);
		if (rc != MICA_OK) {
			assert_int_equal(rc, MICA_ENOMEM);
			len = align = 1;
			assert_int_equal(frame_alloc(&pa), MICA_OK);
		}
		assert_int_equal(pa % PAGE, 0);
		assert_int_equal((pa / PAGE) % align, 0);
		for (uint64_t i = 0; i < len; i++) {
			uint64_t f = pa / PAGE + i;

			assert_true(f < NFRAMES);
			assert_true(memmap_is_usable(&map, f * PAGE));
			assert_false(seen[f]);
			seen[f] = true;
		}
		n++;
	}
	assert_int_equal(frame_alloc(&pa), MICA_ENOMEM);
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(seen[f], memmap_is_usable(&map, f * PAGE));
	expect_stats(0);
}

/* ---- random workload against a reference set ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1DULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_workload(void **state)
{
	(void)state;
	static bool used[NFRAMES]; /* reference: allocated by this test */
	static bool usable[NFRAMES];
	static uint64_t runlen[NFRAMES + 1];
	static paddr_t held[NFRAMES];
	static uint64_t held_len[NFRAMES];
	size_t nheld = 0;
	uint64_t nused = 0;

	memset(used, 0, sizeof(used));
	for (uint64_t f = 0; f < NFRAMES; f++)
		usable[f] = memmap_is_usable(&map, f * PAGE);
	for (int step = 0; step < 20000; step++) {
		unsigned op = rng() % 100;
		paddr_t pa;

		if (op < 45) {
			/* Single frame: the lowest free usable one. */
			uint64_t want = NFRAMES;
			for (uint64_t f = 0; f < NFRAMES; f++) {
				if (!used[f] && usable[f]) {
					want = f;
					break;
				}
			}
			int rc = frame_alloc(&pa);
			if (want == NFRAMES) {
				assert_int_equal(rc, MICA_ENOMEM);
				continue;
			}
			assert_int_equal(rc, MICA_OK);
			assert_int_equal(pa, want * PAGE);
			used[want] = true;
			held[nheld] = pa;
			held_len[nheld++] = 1;
			nused++;
		} else if (op < 60) {
			/* A run: the lowest aligned run of free usable frames. */
			uint64_t n = 1 + rng() % 64, align = 1ULL << (rng() % 7);
			uint64_t want = NFRAMES;
			runlen[NFRAMES] = 0;
			for (uint64_t f = NFRAMES; f-- > 0;)
				runlen[f] = !used[f] && usable[f] ? runlen[f + 1] + 1 : 0;
			for (uint64_t f = 0; f < NFRAMES && want == NFRAMES; f += align)
				if (runlen[f] >= n)
					want = f;
			int rc = frame_alloc_run(n, align, &pa);
			if (want == NFRAMES) {
				assert_int_equal(rc, MICA_ENOMEM);
				continue;
			}
			assert_int_equal(rc, MICA_OK);
			assert_int_equal(pa, want * PAGE);
			for (uint64_t i = 0; i < n; i++)
				used[want + i] = true;
			held[nheld] = pa;
			held_len[nheld++] = n;
			nused += n;
		} else if (op < 95 && nheld > 0) {
			/* Free a held allocation, sometimes twice. */
			size_t k = rng() % nheld;
			paddr_t p = held[k];
			uint64_t n = held_len[k];

			assert_int_equal(frame_free(p, n), MICA_OK);
			for (uint64_t i = 0; i < n; i++)
				used[p / PAGE + i] = false;
			nused -= n;
			held[k] = held[nheld - 1];
			held_len[k] = held_len[--nheld];
			if (rng() % 8 == 0)
				assert_int_equal(frame_free(p, n), MICA_ENOENT);
		} else {
			/* A burst that drains a lot of memory at once. */
			for (int i = 0; i < 500 && frame_alloc(&pa) == MICA_OK; i++) {
				assert_false(used[pa / PAGE]);
				used[pa / PAGE] = true;
				held[nheld] = pa;
				held_len[nheld++] = 1;
				nused++;
			}
		}
		assert_int_equal(frame_free_count(), usable_total() - nused);
	}
	for (uint64_t f = 0; f < NFRAMES; f++)
		assert_int_equal(frame_is_free(f * PAGE), !used[f] && usable[f]);
	expect_stats(usable_total() - nused);
}

/*
 * frame_take_top against a reference: on a fragmented bitmap, the highest
 * free run below hi (at or above lo, at most max frames, its top part),
 * marked used; the counts and the summary (frame_alloc must still find the
 * lowest free frame) stay right.
 */
static void test_take_top(void **state)
{
	(void)state;
	static bool freef[NFRAMES];
	uint64_t nfree = frame_free_count();
	paddr_t pa;

	/* Fragment: take everything, give back a random half in runs of random length. */
	for (uint64_t f = 0; f < NFRAMES; f++)
		freef[f] = false;
	while (frame_alloc(&pa) == MICA_OK)
		;
	nfree = 0;
	for (uint64_t f = 0; f < NFRAMES;) {
		uint64_t n = 1 + rng() % 150;
		bool give = rng() % 2;

		for (; n && f < NFRAMES; n--, f++) {
			if (give && memmap_is_usable(&map, f * PAGE)) {
				assert_int_equal(frame_free(f * PAGE, 1), MICA_OK);
				freef[f] = true;
				nfree++;
			}
		}
	}
	assert_int_equal(frame_free_count(), nfree);
	for (int step = 0; step < 3000; step++) {
		uint64_t lo = rng() % (NFRAMES + 70), hi = rng() % (NFRAMES + 70);
		uint64_t max = rng() % 4 ? 1 + rng() % 300 : UINT64_MAX;

		if (rng() % 3 == 0)
			lo = 0;
		if (rng() % 3 == 0)
			hi = NFRAMES + 64;
		/* The reference: scan down from hi. */
		uint64_t top = MIN(hi, NFRAMES), start;
		while (top > lo && !freef[top - 1])
			top--;
		start = top;
		while (start > lo && freef[start - 1] && top - start < max)
			start--;
		uint64_t n = frame_take_top(lo, hi, max, &pa);
		if (top <= lo || lo >= hi) {
			assert_int_equal(n, 0);
			continue;
		}
		assert_int_equal(n, top - start);
		assert_int_equal(pa, start * PAGE);
		for (uint64_t f = start; f < top; f++)
			freef[f] = false;
		nfree -= n;
		assert_int_equal(frame_free_count(), nfree);
		/* Now and then give some back, so the bitmap does not just empty. */
		if (rng() % 2) {
			assert_int_equal(frame_free(pa, n), MICA_OK);
			for (uint64_t f = start; f < top; f++)
				freef[f] = true;
			nfree += n;
		}
		for (uint64_t f = 0; f < NFRAMES; f++)
			assert_int_equal(frame_is_free(f * PAGE), freef[f]);
	}
	/* The summary still leads frame_alloc to the lowest free frame, every time. */
	for (;;) {
		uint64_t want = NFRAMES;

		for (uint64_t f = 0; f < NFRAMES && want == NFRAMES; f++)
			if (freef[f])
				want = f;
		int rc = frame_alloc(&pa);
		if (want == NFRAMES) {
			assert_int_equal(rc, MICA_ENOMEM);
			break;
		}
		assert_int_equal(rc, MICA_OK);
		assert_int_equal(pa, want * PAGE);
		freef[want] = false;
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_meta_bytes),
	    T(test_init_marks_usable_free),
	    T(test_single_allocs),
	    T(test_low_free_is_reused),
	    T(test_summary_skips_used_words),
	    T(test_runs_with_alignment),
	    T(test_run_skips_hole),
	    T(test_run_refusals),
	    T(test_exhaustion_and_recovery),
	    T(test_refused_frees_change_nothing),
	    T(test_mark_used),
	    T(test_mark_used_unaligned),
	    T(test_mark_used_empty_range),
	    T(test_mark_used_to_top_of_memory),
	    T(test_total_counted_from_bitmap),
	    T(test_never_unusable),
	    T(test_random_workload),
	    T(test_take_top),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
