/*
 * Host unit tests for kernel/memmap.c: deriving usable frames from an
 * E820-style map, the boot refusal reasons, lookups and memmap_find_free.
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
#include "memmap.h"

#define KiB  (1ULL << 10)
#define MiB  (1ULL << 20)
#define GiB  (1ULL << 30)
#define PAGE MICA_PAGE_SIZE

static struct memmap map;

static int setup(void **state)
{
	(void)state;
	/* Garbage in the derived fields: memmap_reset must clear what matters. */
	memset(&map, 0xA5, sizeof(map));
	memmap_reset(&map);
	return 0;
}

static void add(uint64_t base, uint64_t length, uint32_t type)
{
	assert_int_equal(memmap_add(&map, base, length, type), MICA_OK);
}

static void compute(void)
{
	assert_int_equal(memmap_compute(&map), MICA_OK);
}

/* The usable ranges must be exactly exp[0..n), and usable_frames their sum. */
static void expect_ranges(const struct mem_range *exp, size_t n)
{
	uint64_t frames = 0;

	assert_int_equal(map.nusable, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(map.usable[i].start, exp[i].start);
		assert_int_equal(map.usable[i].end, exp[i].end);
		frames += (exp[i].end - exp[i].start) / PAGE;
	}
	assert_int_equal(map.usable_frames, frames);
	assert_int_equal(memmap_end(&map), n ? exp[n - 1].end : 0);
}

static void test_empty_map(void **state)
{
	(void)state;
	compute();
	expect_ranges(NULL, 0);
	assert_false(memmap_is_usable(&map, 0));
	assert_int_equal(memmap_end(&map), 0);
}

static void test_unsorted_entries(void **state)
{
	(void)state;
	add(32 * MiB, 16 * MiB, MEMMAP_AVAILABLE);
	add(1 * MiB, 7 * MiB, MEMMAP_AVAILABLE);
	add(16 * MiB, 4 * MiB, MEMMAP_AVAILABLE);
	add(0, 0x9f000, MEMMAP_AVAILABLE);
	compute();
	const struct mem_range exp[] = {
	    {0, 0x9f000}, {1 * MiB, 8 * MiB}, {16 * MiB, 20 * MiB}, {32 * MiB, 48 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
	/* The entries themselves are kept in the loader's order. */
	assert_int_equal(map.nentries, 4);
	assert_int_equal(map.entry[0].base, 32 * MiB);
	assert_int_equal(map.entry[1].base, 1 * MiB);
	assert_int_equal(map.entry[3].length, 0x9f000);
}

static void test_overlapping_available_merge(void **state)
{
	(void)state;
	add(2 * MiB, 3 * MiB, MEMMAP_AVAILABLE); /* [2, 5) */
	add(1 * MiB, 2 * MiB, MEMMAP_AVAILABLE); /* [1, 3) overlaps */
	add(5 * MiB, 1 * MiB, MEMMAP_AVAILABLE); /* [5, 6) touches */
	add(3 * MiB, 1 * MiB, MEMMAP_AVAILABLE); /* [3, 4) inside */
	add(10 * MiB, 1 * MiB, MEMMAP_AVAILABLE);
	compute();
	const struct mem_range exp[] = {{1 * MiB, 6 * MiB}, {10 * MiB, 11 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_unaligned_available_pieces_merge_before_rounding(void **state)
{
	(void)state;
	/* Two unaligned pieces that together cover the frame at 0x101000. */
	add(0x100800, 0x1000, MEMMAP_AVAILABLE); /* [0x100800, 0x101800) */
	add(0x101800, 0x1800, MEMMAP_AVAILABLE); /* [0x101800, 0x103000) */
	compute();
	const struct mem_range exp[] = {{0x101000, 0x103000}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_reserved_inside_available_splits(void **state)
{
	(void)state;
	add(1 * MiB, 15 * MiB, MEMMAP_AVAILABLE);
	add(4 * MiB, 1 * MiB, MEMMAP_RESERVED);
	add(8 * MiB, PAGE, MEMMAP_ACPI_NVS);
	compute();
	const struct mem_range exp[] = {
	    {1 * MiB, 4 * MiB}, {5 * MiB, 8 * MiB}, {8 * MiB + PAGE, 16 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_reserved_overlapping_both_ends(void **state)
{
	(void)state;
	add(1 * MiB, 7 * MiB, MEMMAP_AVAILABLE);  /* [1, 8) */
	add(512 * KiB, 1 * MiB, MEMMAP_RESERVED); /* [0.5, 1.5) eats the start */
	add(7 * MiB, 2 * MiB, MEMMAP_BAD);        /* [7, 9) eats the end */
	add(20 * MiB, 2 * MiB, MEMMAP_AVAILABLE); /* [20, 22) */
	add(19 * MiB, 4 * MiB, MEMMAP_RESERVED);  /* covers it whole */
	compute();
	const struct mem_range exp[] = {{1 * MiB + 512 * KiB, 7 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_every_non_available_type_is_cut(void **state)
{
	(void)state;
	add(1 * MiB, 9 * MiB, MEMMAP_AVAILABLE);
	add(2 * MiB, PAGE, MEMMAP_RESERVED);
	add(3 * MiB, PAGE, MEMMAP_ACPI_RECLAIMABLE);
	add(4 * MiB, PAGE, MEMMAP_ACPI_NVS);
	add(5 * MiB, PAGE, MEMMAP_BAD);
	add(6 * MiB, PAGE, 12); /* unknown (persistent memory): not RAM to use */
	compute();
	const struct mem_range exp[] = {{1 * MiB, 2 * MiB},        {2 * MiB + PAGE, 3 * MiB},
	                                {3 * MiB + PAGE, 4 * MiB}, {4 * MiB + PAGE, 5 * MiB},
	                                {5 * MiB + PAGE, 6 * MiB}, {6 * MiB + PAGE, 10 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_unaligned_entries_round_in_and_out(void **state)
{
	(void)state;
	/* Available rounds inwards: [0x100800, 0x200800) -> [0x101000, 0x200000). */
	add(0x100800, 0x100000, MEMMAP_AVAILABLE);
	/* Reserved rounds outwards: 16 bytes at 0x150010 cost the whole frame. */
	add(0x150010, 0x10, MEMMAP_RESERVED);
	/* Reserved straddling a frame boundary costs both frames. */
	add(0x180ff0, 0x20, MEMMAP_RESERVED);
	/* An available entry smaller than a frame gives nothing. */
	add(0x300100, 0xe00, MEMMAP_AVAILABLE);
	/* An available entry ending one byte short of a frame loses that frame. */
	add(0x400000, 0x1fff, MEMMAP_AVAILABLE);
	compute();
	const struct mem_range exp[] = {
	    {0x101000, 0x150000}, {0x151000, 0x180000}, {0x182000, 0x200000}, {0x400000, 0x401000}};
	expect_ranges(exp, ARRAY_SIZE(exp));
}

static void test_zero_length_entries(void **state)
{
	(void)state;
	add(1 * MiB, 3 * MiB, MEMMAP_AVAILABLE);
	add(2 * MiB, 0, MEMMAP_RESERVED);         /* aligned, inside: covers nothing */
	add(2 * MiB + 0x800, 0, MEMMAP_RESERVED); /* unaligned: still nothing */
	add(8 * MiB, 0, MEMMAP_AVAILABLE);        /* adds nothing */
	add(4 * MiB, 0, MEMMAP_AVAILABLE);        /* touches the end: adds nothing */
	compute();
	const struct mem_range exp[] = {{1 * MiB, 4 * MiB}};
	expect_ranges(exp, ARRAY_SIZE(exp));
	assert_int_equal(map.nentries, 5); /* kept, for printing */
}

static void test_qemu_5g_pci_hole(void **state)
{
	(void)state;
	add(0, 0x9fc00, MEMMAP_AVAILABLE);
	add(0x9fc00, 0x400, MEMMAP_RESERVED);
	add(0xf0000, 0x10000, MEMMAP_RESERVED);
	add(0x100000, 0xbffe0000 - 0x100000, MEMMAP_AVAILABLE);
	add(0xbffe0000, 0x20000, MEMMAP_RESERVED);
	add(0xfffc0000, 0x40000, MEMMAP_RESERVED);
	add(0x100000000, 0x80000000, MEMMAP_AVAILABLE);
	compute();
	const struct mem_range exp[] = {
	    {0, 0x9f000}, {0x100000, 0xbffe0000}, {0x100000000, 0x180000000}};
	expect_ranges(exp, ARRAY_SIZE(exp));
	assert_int_equal(map.usable_frames,
	                 0x9f + (0xbffe0000 - 0x100000) / PAGE + 0x80000000 / PAGE);
	assert_null(memmap_check(&map));
	assert_int_equal(memmap_end(&map), 0x180000000);

	assert_true(memmap_is_usable(&map, 0));
	assert_true(memmap_is_usable(&map, 0x9efff));
	assert_false(memmap_is_usable(&map, 0x9f000)); /* shares a frame with 0x9fc00 */
	assert_false(memmap_is_usable(&map, 0xfffff));
	assert_true(memmap_is_usable(&map, 0x100000));
	assert_true(memmap_is_usable(&map, 0xbffdffff));
	assert_false(memmap_is_usable(&map, 0xbffe0000));
	assert_false(memmap_is_usable(&map, 0xc0000000)); /* the PCI hole */
	assert_false(memmap_is_usable(&map, 0xfffff000));
	assert_true(memmap_is_usable(&map, 0x100000000));
	assert_true(memmap_is_usable(&map, 0x17fffffff));
	assert_false(memmap_is_usable(&map, 0x180000000));
}

static void test_entries_past_phys_limit(void **state)
{
	(void)state;
	const uint64_t L = MICA_PHYS_LIMIT;

	add(1 * MiB, 31 * MiB, MEMMAP_AVAILABLE);
	add(L - 2 * MiB, 4 * MiB, MEMMAP_AVAILABLE); /* crosses the limit */
	add(L - PAGE, 2 * PAGE, MEMMAP_RESERVED);    /* crosses it too */
	add(L, 1 * GiB, MEMMAP_AVAILABLE);           /* starts at it */
	add(L + 8 * GiB, 1 * GiB, MEMMAP_AVAILABLE); /* far above it */
	add(L + 4 * GiB, 0, MEMMAP_RESERVED);
	compute();
	const struct mem_range exp[] = {{1 * MiB, 32 * MiB}, {L - 2 * MiB, L - PAGE}};
	expect_ranges(exp, ARRAY_SIZE(exp));
	assert_false(memmap_is_usable(&map, L));
	assert_false(memmap_is_usable(&map, L + 8 * GiB));
}

static void test_overflowing_entries(void **state)
{
	(void)state;
	/* base + length wraps: taken as reaching the limit, not as wrapping to 0. */
	add(1 * MiB, UINT64_MAX, MEMMAP_AVAILABLE);
	add(0xFFFFFFFFFFFFF000ULL, 0x2000, MEMMAP_AVAILABLE); /* wraps to 0x1000 */
	add(0xFFFFFFFFFFFFF000ULL, 0x2000, MEMMAP_RESERVED);  /* must not cut [0, 0x1000) */
	compute();
	const struct mem_range exp[] = {{1 * MiB, MICA_PHYS_LIMIT}};
	expect_ranges(exp, ARRAY_SIZE(exp));

	/* A reserved entry that wraps cuts everything above its base. */
	memmap_reset(&map);
	add(1 * MiB, 63 * MiB, MEMMAP_AVAILABLE);
	add(32 * MiB + 0x10, UINT64_MAX - 5, MEMMAP_RESERVED);
	compute();
	const struct mem_range exp2[] = {{1 * MiB, 32 * MiB}};
	expect_ranges(exp2, ARRAY_SIZE(exp2));
}

static void test_too_many_entries(void **state)
{
	(void)state;
	for (size_t i = 0; i < MEMMAP_MAX_ENTRIES; i++)
		assert_int_equal(memmap_add(&map, i * 2 * PAGE, PAGE, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_add(&map, 1 * GiB, PAGE, MEMMAP_RESERVED), MICA_ENOMEM);
	assert_int_equal(memmap_add(&map, 1 * GiB, PAGE, MEMMAP_AVAILABLE), MICA_ENOMEM);
	assert_int_equal(map.nentries, MEMMAP_MAX_ENTRIES);
	compute();
	assert_int_equal(map.nusable, MEMMAP_MAX_ENTRIES);
	assert_int_equal(map.usable_frames, MEMMAP_MAX_ENTRIES);
	assert_false(memmap_is_usable(&map, 1 * GiB));

	memmap_reset(&map);
	assert_int_equal(map.nentries, 0);
	assert_int_equal(memmap_add(&map, 1 * MiB, PAGE, MEMMAP_AVAILABLE), MICA_OK);
}

static void test_most_fragmented_map(void **state)
{
	(void)state;
	/* One available entry cut by 255 reserved frames: 256 usable ranges. */
	add(0, 1 * GiB, MEMMAP_AVAILABLE);
	for (size_t i = 0; i < MEMMAP_MAX_ENTRIES - 1; i++)
		add((2 * i + 1) * PAGE, PAGE, MEMMAP_RESERVED);
	compute();
	assert_int_equal(map.nusable, MEMMAP_MAX_RANGES);
	for (size_t i = 0; i + 1 < map.nusable; i++) {
		assert_int_equal(map.usable[i].start, 2 * i * PAGE);
		assert_int_equal(map.usable[i].end, (2 * i + 1) * PAGE);
	}
	assert_int_equal(map.usable[255].start, 510 * PAGE);
	assert_int_equal(map.usable[255].end, 1 * GiB);
	assert_int_equal(map.usable_frames, 1 * GiB / PAGE - 255);
}

static void test_check_reasons(void **state)
{
	(void)state;
	const char *why;

	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "empty"));

	/* Only low memory. */
	add(0, 0x9fc00, MEMMAP_AVAILABLE);
	add(0xf0000, 0x10000, MEMMAP_RESERVED);
	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "no usable RAM above 1 MiB"));

	/* Entries, but nothing available at all. */
	memmap_reset(&map);
	add(1 * MiB, 64 * MiB, MEMMAP_RESERVED);
	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "no usable RAM above 1 MiB"));

	/* One frame short of 24 MiB above 1 MiB; the low memory does not count. */
	memmap_reset(&map);
	add(0, 0x9fc00, MEMMAP_AVAILABLE);
	add(1 * MiB, 24 * MiB - PAGE, MEMMAP_AVAILABLE);
	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "too little memory"));

	/* Exactly 24 MiB above 1 MiB, in two pieces. */
	memmap_reset(&map);
	add(1 * MiB, 12 * MiB, MEMMAP_AVAILABLE);
	add(100 * MiB, 12 * MiB, MEMMAP_AVAILABLE);
	compute();
	assert_null(memmap_check(&map));

	/* One range straddling 1 MiB: only the part above counts. */
	memmap_reset(&map);
	add(0, 25 * MiB - PAGE, MEMMAP_AVAILABLE);
	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "too little memory"));
	memmap_reset(&map);
	add(0, 25 * MiB, MEMMAP_AVAILABLE);
	compute();
	assert_null(memmap_check(&map));

	/* Reserved memory inside does not count. */
	add(2 * MiB, PAGE, MEMMAP_RESERVED);
	compute();
	why = memmap_check(&map);
	assert_non_null(why);
	assert_non_null(strstr(why, "too little memory"));
}

static void test_is_usable_many_ranges(void **state)
{
	(void)state;
	/* Ranges [k*8, k*8+4) frames for k = 0..39: binary search over 40. */
	for (uint64_t k = 0; k < 40; k++)
		add(k * 8 * PAGE, 4 * PAGE, MEMMAP_AVAILABLE);
	compute();
	assert_int_equal(map.nusable, 40);
	for (uint64_t f = 0; f < 40 * 8 + 16; f++) {
		bool want = f < 40 * 8 && f % 8 < 4;

		assert_int_equal(memmap_is_usable(&map, f * PAGE), want);
		assert_int_equal(memmap_is_usable(&map, f * PAGE + PAGE - 1), want);
	}
	assert_false(memmap_is_usable(&map, UINT64_MAX));
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(memmap_type_name(MEMMAP_AVAILABLE), "available");
	assert_string_equal(memmap_type_name(MEMMAP_RESERVED), "reserved");
	assert_string_equal(memmap_type_name(MEMMAP_BAD), "unusable");
	assert_string_equal(memmap_type_name(99), "unknown");
}

/* ---- memmap_find_free ---- */

static void two_range_map(void)
{
	add(1 * MiB, 15 * MiB, MEMMAP_AVAILABLE);  /* [1, 16) */
	add(32 * MiB, 32 * MiB, MEMMAP_AVAILABLE); /* [32, 64) */
	compute();
}

static void test_find_free_basic(void **state)
{
	(void)state;
	paddr_t pa = 0;

	two_range_map();
	assert_int_equal(memmap_find_free(&map, NULL, 0, PAGE, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB);

	/* Busy at the start: the run starts after it, rounded up to a frame. */
	const struct mem_range busy[] = {{1 * MiB, 2 * MiB + 0x800}};
	assert_int_equal(memmap_find_free(&map, busy, 1, PAGE, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 2 * MiB + PAGE);

	/* Too big for the rest of the first range: the second one. */
	assert_int_equal(memmap_find_free(&map, busy, 1, 14 * MiB, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 32 * MiB);

	/* Too big for any range. */
	pa = 0x1234;
	assert_int_equal(memmap_find_free(&map, NULL, 0, 33 * MiB, 64 * MiB, &pa), MICA_ENOMEM);
	assert_int_equal(pa, 0x1234);
}

static void test_find_free_rescans_busy(void **state)
{
	(void)state;
	paddr_t pa = 0;

	two_range_map();
	/* Moving past the second busy range runs into the first one. */
	const struct mem_range busy[] = {{3 * MiB, 4 * MiB}, {1 * MiB, 3 * MiB}};
	assert_int_equal(memmap_find_free(&map, busy, 2, 1 * MiB, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 4 * MiB);

	/* A gap between busy ranges that is big enough is used. */
	const struct mem_range busy2[] = {{1 * MiB, 2 * MiB}, {3 * MiB, 4 * MiB}};
	assert_int_equal(memmap_find_free(&map, busy2, 2, 1 * MiB, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 2 * MiB);
	/* ... and one a frame too small is not. */
	assert_int_equal(memmap_find_free(&map, busy2, 2, 1 * MiB + 1, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 4 * MiB);

	/* Busy ranges covering the whole first range. */
	const struct mem_range busy3[] = {{0, 16 * MiB}};
	assert_int_equal(memmap_find_free(&map, busy3, 1, PAGE, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 32 * MiB);
}

static void test_find_free_rounds_size(void **state)
{
	(void)state;
	paddr_t pa = 0;

	two_range_map();
	/* 0x1001 bytes take two frames, so a busy byte in the second frame counts. */
	const struct mem_range busy[] = {{1 * MiB + 0x1010, 1 * MiB + 0x1020}};
	assert_int_equal(memmap_find_free(&map, busy, 1, 0x1001, 64 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB + 0x2000);
	assert_int_equal(pa % PAGE, 0);
}

static void test_find_free_respects_limit(void **state)
{
	(void)state;
	paddr_t pa = 0;

	two_range_map();
	/* A run that ends exactly at the limit is fine; one byte less is not. */
	assert_int_equal(memmap_find_free(&map, NULL, 0, 15 * MiB, 16 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 1 * MiB);
	assert_int_equal(memmap_find_free(&map, NULL, 0, 15 * MiB, 16 * MiB - 1, &pa), MICA_ENOMEM);

	/* The second range lies above the limit. */
	const struct mem_range busy[] = {{1 * MiB, 13 * MiB}};
	assert_int_equal(memmap_find_free(&map, busy, 1, 4 * MiB, 20 * MiB, &pa), MICA_ENOMEM);
	assert_int_equal(memmap_find_free(&map, busy, 1, 4 * MiB, 36 * MiB, &pa), MICA_OK);
	assert_int_equal(pa, 32 * MiB);
	/* A limit inside the second range cuts it. */
	assert_int_equal(memmap_find_free(&map, busy, 1, 4 * MiB, 36 * MiB - 1, &pa), MICA_ENOMEM);
	/* A limit below everything. */
	assert_int_equal(memmap_find_free(&map, NULL, 0, PAGE, 1 * MiB, &pa), MICA_ENOMEM);
}

/* ---- randomized comparison with a per-byte reference model ---- */

#define RND_FRAMES 32
#define RND_UNIT   16 /* entries start and end on 16-byte boundaries */
#define RND_UNITS  (RND_FRAMES * PAGE / RND_UNIT)

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static bool avail[RND_UNITS], other[RND_UNITS];
	const uint32_t types[] = {MEMMAP_RESERVED, MEMMAP_ACPI_RECLAIMABLE, MEMMAP_ACPI_NVS,
	                          MEMMAP_BAD, 7};

	for (int iter = 0; iter < 3000; iter++) {
		memmap_reset(&map);
		memset(avail, 0, sizeof(avail));
		memset(other, 0, sizeof(other));
		size_t n = 1 + rng() % 12;
		for (size_t i = 0; i < n; i++) {
			uint64_t s, len;

			if (rng() % 2) { /* whole frames, so entries touch and nest */
				s = rng() % RND_FRAMES * (PAGE / RND_UNIT);
				len = rng() % 9 * (PAGE / RND_UNIT);
			} else {
				s = rng() % RND_UNITS;
				len = rng() % (3 * PAGE / RND_UNIT);
			}
			if (rng() % 16 == 0)
				len = 0;
			if (s + len > RND_UNITS)
				len = RND_UNITS - s;
			uint32_t type = rng() % 5 < 3 ? MEMMAP_AVAILABLE : types[rng() % 5];
			add(s * RND_UNIT, len * RND_UNIT, type);
			for (uint64_t u = s; u < s + len; u++) {
				if (type == MEMMAP_AVAILABLE)
					avail[u] = true;
				else
					other[u] = true;
			}
		}
		compute();

		/* Reference: a frame is usable iff every byte is available and none is other. */
		uint64_t want_frames = 0, want_end = 0;
		for (uint64_t f = 0; f < RND_FRAMES; f++) {
			bool ok = true;

			for (uint64_t u = f * (PAGE / RND_UNIT); u < (f + 1) * (PAGE / RND_UNIT);
			     u++)
				ok = ok && avail[u] && !other[u];
			if (ok) {
				want_frames++;
				want_end = (f + 1) * PAGE;
			}
			if (memmap_is_usable(&map, f * PAGE) != ok ||
			    memmap_is_usable(&map, f * PAGE + PAGE - 1) != ok)
				fail_msg("iteration %d: frame %lu should be %s", iter,
				         (unsigned long)f, ok ? "usable" : "unusable");
		}
		assert_int_equal(map.usable_frames, want_frames);
		assert_int_equal(memmap_end(&map), want_end);

		/* The ranges: page-aligned, non-empty, sorted, disjoint, summing up. */
		uint64_t sum = 0;
		for (size_t i = 0; i < map.nusable; i++) {
			const struct mem_range *r = &map.usable[i];

			assert_int_equal(r->start % PAGE, 0);
			assert_int_equal(r->end % PAGE, 0);
			assert_true(r->start < r->end);
			if (i > 0)
				assert_true(map.usable[i - 1].end <= r->start);
			sum += (r->end - r->start) / PAGE;
		}
		assert_int_equal(sum, want_frames);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_empty_map, setup),
	    cmocka_unit_test_setup(test_unsorted_entries, setup),
	    cmocka_unit_test_setup(test_overlapping_available_merge, setup),
	    cmocka_unit_test_setup(test_unaligned_available_pieces_merge_before_rounding, setup),
	    cmocka_unit_test_setup(test_reserved_inside_available_splits, setup),
	    cmocka_unit_test_setup(test_reserved_overlapping_both_ends, setup),
	    cmocka_unit_test_setup(test_every_non_available_type_is_cut, setup),
	    cmocka_unit_test_setup(test_unaligned_entries_round_in_and_out, setup),
	    cmocka_unit_test_setup(test_zero_length_entries, setup),
	    cmocka_unit_test_setup(test_qemu_5g_pci_hole, setup),
	    cmocka_unit_test_setup(test_entries_past_phys_limit, setup),
	    cmocka_unit_test_setup(test_overflowing_entries, setup),
	    cmocka_unit_test_setup(test_too_many_entries, setup),
	    cmocka_unit_test_setup(test_most_fragmented_map, setup),
	    cmocka_unit_test_setup(test_check_reasons, setup),
	    cmocka_unit_test_setup(test_is_usable_many_ranges, setup),
	    cmocka_unit_test_setup(test_type_names, setup),
	    cmocka_unit_test_setup(test_find_free_basic, setup),
	    cmocka_unit_test_setup(test_find_free_rescans_busy, setup),
	    cmocka_unit_test_setup(test_find_free_rounds_size, setup),
	    cmocka_unit_test_setup(test_find_free_respects_limit, setup),
	    cmocka_unit_test_setup(test_random_against_reference, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
