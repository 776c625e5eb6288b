/*
 * Host unit tests for kernel/handle.c's growing tables (an address space's):
 * pages of slots taken from the reserve as handles need them, given back
 * when their last handle closes, the directory doubled and given back, an
 * empty reserve refused with MICA_ENOMEM and nothing changed, lookups of
 * every value, and the frame counts exact after every step.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include <mica/handle.h>
#include "frame.h"
#include "handle.h"
#include "kobj.h"
#include "phys.h"
#include "rng.h"

#define PAGE    MICA_PAGE_SIZE
#define NFRAMES 1024
#define NFIXED  5 /* the slots in the owner's memory */
#define PER     ((mica_handle_t)HANDLE_PAGE_SLOTS)

/* ---- fake reserve: a bitmap over NFRAMES pages of host memory (frame 0 never given) ---- */

static uint8_t *ram;
static bool used[NFRAMES];
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
	return MICA_OK;
}

/* ---- fake objects: every handle names one endpoint, counted ---- */

static struct kobj ep;
static unsigned released;
static uint32_t elsewhere; /* references held by handles in other tables */

void kobj_unref(struct kobj *o)
{
	assert_ptr_equal(o, &ep);
	if (--o->refs == 0)
		released++;
}

static struct handle fixed[NFIXED];
static struct handle_table t;

static int setup(void **state)
{
	(void)state;
	memset(used, 0, sizeof(used));
	limit = NFRAMES;
	ep = (struct kobj){.type = MICA_OBJ_ENDPOINT, .refs = 1}; /* the test's own reference */
	released = 0;
	elsewhere = 0;
	memset(fixed, 0xA5, sizeof(fixed));
	handle_table_init_growing(&t, fixed, NFIXED);
	return 0;
}

static int group_setup(void **state)
{
	(void)state;
	ram = aligned_alloc(PAGE, (size_t)NFRAMES * PAGE);
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

/* The frames the table should hold: its pages, and a directory large enough for them. */
static void check_frames(void)
{
	uint32_t pages = 0;

	for (uint32_t p = 0; p < t.npages; p++)
		pages += t.dir[p] != NULL;
	assert_true(t.npages == 0 || t.dir[t.npages - 1] != NULL);
	assert_int_equal(t.cap, NFIXED + t.npages * PER);
	assert_int_equal(t.frames, pages + t.dir_frames);
	assert_int_equal(frames_used(), t.frames);
	assert_true(t.npages <= t.dir_frames * HANDLE_DIR_PER_FRAME);
	assert_int_equal(t.npages == 0, t.dir == NULL);
	assert_int_equal(ep.refs, 1 + t.count + elsewhere);
}

static mica_handle_t alloc_one(void)
{
	mica_handle_t h = -1;

	assert_int_equal(handle_alloc(&t, &ep, MICA_RIGHT_SEND, 0, &h), MICA_OK);
	return h;
}

/* Handles past the fixed slots take a page, the lowest free first; closing gives it back. */
static void test_grows_and_shrinks(void **state)
{
	mica_handle_t h;

	(void)state;
	for (mica_handle_t i = 0; i < NFIXED; i++)
		assert_int_equal(alloc_one(), i);
	assert_int_equal(t.frames, 0); /* the fixed slots cost nothing */
	assert_int_equal(alloc_one(), NFIXED);
	assert_int_equal(t.frames, 2); /* a page and the directory */
	check_frames();
	for (mica_handle_t i = NFIXED + 1; i < NFIXED + PER; i++)
		assert_int_equal(alloc_one(), i);
	assert_int_equal(t.frames, 2);
	assert_int_equal(alloc_one(), NFIXED + PER); /* the second page */
	assert_int_equal(t.frames, 3);
	check_frames();
	/* Every value looks up in O(1): used ones found, the rest not. */
	for (mica_handle_t i = -3; i < (mica_handle_t)t.cap + 3; i++) {
		const struct handle *s = NULL;
		int want = i >= 0 && i <= NFIXED + (mica_handle_t)PER ? MICA_OK : MICA_EBADH;

		assert_int_equal(handle_get(&t, i, MICA_OBJ_ENDPOINT, MICA_RIGHT_SEND, &s), want);
		assert_int_equal(handle_peek(&t, (uint64_t)i, MICA_OBJ_ENDPOINT, 0) != NULL,
		                 want == MICA_OK);
	}
	/* The second page's only handle closed: the page goes back. */
	assert_int_equal(handle_close(&t, NFIXED + PER), MICA_OK);
	assert_int_equal(t.frames, 2);
	assert_int_equal(t.cap, NFIXED + PER);
	check_frames();
	assert_int_equal(handle_get(&t, NFIXED + PER, MICA_OBJ_NONE, 0, NULL), MICA_EBADH);
	/* A page in the middle emptied goes back; its values are free again, lowest first. */
	assert_int_equal(alloc_one(), NFIXED + PER);
	assert_int_equal(t.frames, 3);
	for (mica_handle_t i = NFIXED; i < NFIXED + (mica_handle_t)PER; i++)
		assert_int_equal(handle_close(&t, i), MICA_OK);
	assert_int_equal(t.frames, 2); /* page 0 gone, page 1 and the directory left */
	assert_null(t.dir[0]);
	check_frames();
	assert_int_equal(handle_get(&t, NFIXED + 3, MICA_OBJ_NONE, 0, NULL), MICA_EBADH);
	assert_null(handle_peek(&t, NFIXED + 3, MICA_OBJ_ENDPOINT, 0));
	assert_int_equal(handle_close(&t, NFIXED + 3), MICA_EBADH);
	assert_int_equal(alloc_one(), NFIXED); /* page 0 taken again */
	assert_int_equal(t.frames, 3);
	check_frames();
	/* Everything closed: only the fixed slots are left, no frame. */
	assert_int_equal(handle_close(&t, NFIXED), MICA_OK);
	assert_int_equal(handle_close(&t, NFIXED + PER), MICA_OK);
	assert_int_equal(t.frames, 0);
	assert_int_equal(t.cap, NFIXED);
	check_frames();
	assert_int_equal(alloc_one(), NFIXED);
	h = alloc_one();
	assert_int_equal(h, NFIXED + 1);
	handle_table_clear(&t);
	assert_int_equal(t.count, 0);
	assert_int_equal(frames_used(), 0);
	check_frames();
}

/* An empty reserve: MICA_ENOMEM for every call that needs a slot, and nothing changes. */
static void test_reserve_empty(void **state)
{
	struct handle other[2];
	struct handle_table o;
	mica_handle_t h, g = -1;

	(void)state;
	for (mica_handle_t i = 0; i < NFIXED; i++)
		alloc_one();
	limit = 0;
	assert_int_equal(handle_alloc(&t, &ep, MICA_RIGHT_SEND, 0, &h), MICA_ENOMEM);
	assert_int_equal(handle_room(&t), MICA_ENOMEM);
	handle_table_init(&o, other, 2);
	assert_int_equal(handle_alloc(&o, &ep, MICA_RIGHT_COPY | MICA_RIGHT_SEND, 0, &g), MICA_OK);
	elsewhere = 1;
	assert_int_equal(handle_copy(&o, g, &t, ~0u, &h), MICA_ENOMEM);
	assert_int_equal(handle_move(&o, g, &t, &h), MICA_ENOMEM);
	assert_int_equal(o.count, 1);
	assert_int_equal(handle_mint(&t, 0, ~0u, 7, &h), MICA_ERIGHTS); /* no COPY right */
	assert_int_equal(t.count, NFIXED);
	check_frames();
	/* A page but no directory frame: the page goes back too. */
	limit = 1;
	assert_int_equal(handle_alloc(&t, &ep, MICA_RIGHT_SEND, 0, &h), MICA_ENOMEM);
	assert_int_equal(frames_used(), 0);
	check_frames();
	/* Room again: the copy works and takes the page and directory. */
	limit = NFRAMES;
	assert_int_equal(handle_move(&o, g, &t, &h), MICA_OK);
	assert_int_equal(h, NFIXED);
	assert_int_equal(o.count, 0);
	elsewhere = 0;
	check_frames();
	handle_table_clear(&t);
	check_frames();
	assert_int_equal(frames_used(), 0);
}

/* handle_room takes a page an unused creation leaves; the next handle uses it, clear frees it. */
static void test_room_then_clear(void **state)
{
	(void)state;
	for (mica_handle_t i = 0; i < NFIXED; i++)
		alloc_one();
	assert_int_equal(handle_room(&t), MICA_OK);
	assert_int_equal(t.frames, 2);
	assert_int_equal(t.count, NFIXED);
	assert_int_equal(handle_room(&t), MICA_OK); /* the same slot: nothing more */
	assert_int_equal(t.frames, 2);
	handle_room_undo(&t); /* the object could not be made: the page goes back */
	assert_int_equal(t.frames, 0);
	check_frames();
	assert_int_equal(handle_room(&t), MICA_OK);
	assert_int_equal(alloc_one(), NFIXED); /* a handle in it: undo leaves it */
	handle_room_undo(&t);
	assert_int_equal(t.frames, 2);
	handle_table_clear(&t);
	assert_int_equal(frames_used(), 0);
	assert_int_equal(t.frames, 0);
	assert_int_equal(released, 0); /* the test's own reference is left */
}

/*
 * Many handles: the directory doubles past one frame (its entries copied),
 * then everything closes in random order, the frame count exact at each
 * step, and the table ends with no frame.
 */
static void test_directory_doubles(void **state)
{
	const uint32_t n = NFIXED + (uint32_t)(HANDLE_DIR_PER_FRAME + 3) * PER;
	mica_handle_t *hs = malloc(n * sizeof(*hs));

	(void)state;
	assert_non_null(hs);
	rng_seed(5);
	for (uint32_t i = 0; i < n; i++) {
		hs[i] = alloc_one();
		assert_int_equal(hs[i], (mica_handle_t)i);
	}
	assert_int_equal(t.dir_frames, 2);
	check_frames();
	for (uint32_t i = 0; i < n; i += 97)
		assert_int_equal(handle_get(&t, (mica_handle_t)i, MICA_OBJ_ENDPOINT, 0, NULL),
		                 MICA_OK);
	for (uint32_t left = n; left > 0; left--) {
		uint32_t k = (uint32_t)rng_below(left);

		assert_int_equal(handle_close(&t, hs[k]), MICA_OK);
		hs[k] = hs[left - 1];
		if (left % 512 == 0)
			check_frames();
	}
	check_frames();
	assert_int_equal(frames_used(), 0);
	assert_int_equal(released, 0);
	free(hs);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_grows_and_shrinks, setup),
	    cmocka_unit_test_setup(test_reserve_empty, setup),
	    cmocka_unit_test_setup(test_room_then_clear, setup),
	    cmocka_unit_test_setup(test_directory_doubles, setup),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
