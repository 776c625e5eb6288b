/*
 * Host unit tests for kernel/handle.c: handle tables, their reference
 * counting, rights, badges and the rule that a refused call changes nothing.
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

/* Three tables of different sizes, each over exactly cap malloc'ed slots. */
#define NTAB   3
#define CAPMAX 8
static const uint32_t caps[NTAB] = {8, 4, 3};
static struct handle_table tab[NTAB];
#define A (&tab[0])
#define B (&tab[1])
#define C (&tab[2])

/* Fake objects; each starts with no reference, so its last handle releases it. */
#define NOBJ 8
static struct kobj objs[NOBJ];
static const uint32_t obj_type[NOBJ] = {
    MICA_OBJ_ENDPOINT, MICA_OBJ_ENDPOINT, MICA_OBJ_ASPACE,   MICA_OBJ_THREAD,
    MICA_OBJ_ENDPOINT, MICA_OBJ_THREAD,   MICA_OBJ_ENDPOINT, MICA_OBJ_ASPACE,
};
static unsigned released[NOBJ]; /* kobj_release calls per object */
#define EP0  (&objs[0])
#define EP1  (&objs[1])
#define AS0  (&objs[2])
#define TH0  (&objs[3])
#define EP2  (&objs[4])
#define TH1  (&objs[5])
#define RALL MICA_RIGHTS_ALL

#define SENTINEL ((mica_handle_t)0x5a5a)

static int obj_index(const struct kobj *o)
{
	for (int k = 0; k < NOBJ; k++)
		if (o == &objs[k])
			return k;
	return -1;
}

/*
 * The kernel's release, faked: records the call, and checks the count is 0
 * and no slot of any table still names the object (slots are freed first).
 */
static void kobj_release(struct kobj *o)
{
	int k = obj_index(o);

	assert_true(k >= 0);
	assert_int_equal(o->refs, 0);
	for (int t = 0; t < NTAB; t++)
		for (uint32_t i = 0; i < tab[t].cap; i++)
			assert_ptr_not_equal(tab[t].slot[i].obj, o);
	released[k]++;
}

/* The frame allocator: these tables never grow, so handle.c must never call it. */
int frame_alloc(paddr_t *pa)
{
	(void)pa;
	fail_msg("frame_alloc: a fixed table took a page");
	return MICA_ENOMEM;
}

int frame_alloc_run(uint64_t n, uint64_t align, paddr_t *pa)
{
	(void)n;
	(void)align;
	(void)pa;
	fail_msg("frame_alloc_run: a fixed table took a directory");
	return MICA_ENOMEM;
}

int frame_free(paddr_t pa, uint64_t n)
{
	(void)pa;
	(void)n;
	fail_msg("frame_free: a fixed table gave a frame back");
	return MICA_EINVAL;
}

/* kobj.c's unref, with the fake release behind it. */
void kobj_unref(struct kobj *o)
{
	if (--o->refs == 0)
		kobj_release(o);
}

static int setup(void **state)
{
	(void)state;
	for (int t = 0; t < NTAB; t++) {
		/* Exactly cap slots, full of garbage: ASan catches overruns. */
		struct handle *s = malloc(caps[t] * sizeof(*s));
		assert_non_null(s);
		memset(s, 0xA5, caps[t] * sizeof(*s));
		handle_table_init(&tab[t], s, caps[t]);
	}
	for (int k = 0; k < NOBJ; k++)
		objs[k] = (struct kobj){.type = obj_type[k], .refs = 0};
	memset(released, 0, sizeof(released));
	return 0;
}

/* The invariants of one table: count, hint, free slots empty, rights and badges sane. */
static void check_table(const struct handle_table *t)
{
	uint32_t used = 0;

	assert_true(t->hint <= t->cap);
	for (uint32_t i = 0; i < t->cap; i++) {
		const struct handle *s = &t->slot[i];

		if (s->obj == NULL) {
			/* Every slot below hint is used. */
			assert_true(i >= t->hint);
			assert_int_equal(s->rights, 0);
			assert_int_equal(s->badge, 0);
			continue;
		}
		used++;
		assert_true(obj_index(s->obj) >= 0);
		assert_int_equal(s->rights & ~MICA_RIGHTS_ALL, 0);
		if (s->badge != 0)
			assert_int_equal(s->obj->type, MICA_OBJ_ENDPOINT);
	}
	assert_int_equal(t->count, used);
}

/*
 * Each object's count is the number of slots naming it, in all tables,
 * and its receive count the number of those with MICA_RIGHT_RECV.
 */
static void check_refs(void)
{
	for (int k = 0; k < NOBJ; k++) {
		uint32_t n = 0, recv = 0;

		for (int t = 0; t < NTAB; t++)
			for (uint32_t i = 0; i < tab[t].cap; i++) {
				n += tab[t].slot[i].obj == &objs[k];
				recv += tab[t].slot[i].obj == &objs[k] &&
				        (tab[t].slot[i].rights & MICA_RIGHT_RECV);
			}
		assert_int_equal(objs[k].refs, n);
		assert_int_equal(objs[k].recv_handles, recv);
	}
}

static int teardown(void **state)
{
	(void)state;
	for (int t = 0; t < NTAB; t++)
		check_table(&tab[t]);
	check_refs();
	for (int t = 0; t < NTAB; t++) {
		handle_table_clear(&tab[t]);
		check_table(&tab[t]);
		assert_int_equal(tab[t].count, 0);
	}
	for (int k = 0; k < NOBJ; k++) {
		assert_int_equal(objs[k].refs, 0);
		assert_int_equal(objs[k].recv_handles, 0);
	}
	for (int t = 0; t < NTAB; t++) {
		free(tab[t].slot);
		tab[t].slot = NULL;
	}
	return 0;
}

/* ---- snapshots: the whole state, for "a refused call changes nothing" ---- */

struct snap {
	struct handle_table t[NTAB];
	struct handle slot[NTAB][CAPMAX];
	uint32_t refs[NOBJ];
	unsigned released[NOBJ];
};

static void take(struct snap *s)
{
	memset(s, 0, sizeof(*s));
	for (int t = 0; t < NTAB; t++) {
		s->t[t] = tab[t];
		for (uint32_t i = 0; i < tab[t].cap; i++) {
			s->slot[t][i].obj = tab[t].slot[i].obj;
			s->slot[t][i].rights = tab[t].slot[i].rights;
			s->slot[t][i].badge = tab[t].slot[i].badge;
		}
	}
	for (int k = 0; k < NOBJ; k++) {
		s->refs[k] = objs[k].refs;
		s->released[k] = released[k];
	}
}

static void expect_unchanged(const struct snap *s)
{
	for (int t = 0; t < NTAB; t++) {
		assert_ptr_equal(tab[t].slot, s->t[t].slot);
		assert_int_equal(tab[t].cap, s->t[t].cap);
		assert_int_equal(tab[t].count, s->t[t].count);
		assert_int_equal(tab[t].hint, s->t[t].hint);
		for (uint32_t i = 0; i < tab[t].cap; i++) {
			assert_ptr_equal(tab[t].slot[i].obj, s->slot[t][i].obj);
			assert_int_equal(tab[t].slot[i].rights, s->slot[t][i].rights);
			assert_int_equal(tab[t].slot[i].badge, s->slot[t][i].badge);
		}
	}
	for (int k = 0; k < NOBJ; k++) {
		assert_int_equal(objs[k].refs, s->refs[k]);
		assert_int_equal(released[k], s->released[k]);
	}
}

/* Allocate, expecting success and the given handle. */
static void alloc_ok(struct handle_table *t, struct kobj *o, uint32_t rights, uint64_t badge,
                     mica_handle_t want)
{
	mica_handle_t h = SENTINEL;

	assert_int_equal(handle_alloc(t, o, rights, badge, &h), MICA_OK);
	assert_int_equal(h, want);
}

/* Fill every free slot of t with handles to o. */
static void fill(struct handle_table *t, struct kobj *o)
{
	mica_handle_t h;

	while (t->count < t->cap)
		assert_int_equal(handle_alloc(t, o, RALL, 0, &h), MICA_OK);
}

/* h in t names o with these rights and this badge. */
static void expect_handle(const struct handle_table *t, mica_handle_t h, const struct kobj *o,
                          uint32_t rights, uint64_t badge)
{
	const struct handle *s = NULL;

	assert_int_equal(handle_get(t, h, MICA_OBJ_NONE, 0, &s), MICA_OK);
	assert_ptr_equal(s, &t->slot[h]);
	assert_ptr_equal(s->obj, o);
	assert_int_equal(s->rights, rights);
	assert_int_equal(s->badge, badge);
}

/* ---- init and alloc ---- */

static void test_init_empties_every_slot(void **state)
{
	(void)state;
	for (int t = 0; t < NTAB; t++) {
		assert_int_equal(tab[t].cap, caps[t]);
		assert_int_equal(tab[t].count, 0);
		assert_int_equal(tab[t].hint, 0);
		for (uint32_t i = 0; i < caps[t]; i++) {
			assert_null(tab[t].slot[i].obj);
			assert_int_equal(tab[t].slot[i].rights, 0);
			assert_int_equal(tab[t].slot[i].badge, 0);
		}
	}
}

static void test_alloc_lowest_free_and_reuse(void **state)
{
	(void)state;
	alloc_ok(A, EP0, RALL, 0, 0);
	alloc_ok(A, EP0, MICA_RIGHT_SEND, 0, 1);
	alloc_ok(A, AS0, MICA_RIGHT_MEMORY, 0, 2);
	alloc_ok(A, TH0, 0, 0, 3); /* no rights at all is allowed */
	assert_int_equal(EP0->refs, 2);
	assert_int_equal(AS0->refs, 1);
	assert_int_equal(A->count, 4);
	expect_handle(A, 1, EP0, MICA_RIGHT_SEND, 0);
	expect_handle(A, 3, TH0, 0, 0);

	/* A closed slot is the next one given, the lowest first. */
	assert_int_equal(handle_close(A, 1), MICA_OK);
	alloc_ok(A, TH1, RALL, 0, 1);
	assert_int_equal(handle_close(A, 2), MICA_OK);
	assert_int_equal(handle_close(A, 0), MICA_OK);
	alloc_ok(A, EP1, RALL, 7, 0);
	alloc_ok(A, EP1, RALL, 0, 2);
	alloc_ok(A, EP1, RALL, 0, 4);
	expect_handle(A, 0, EP1, RALL, 7);
	assert_int_equal(EP1->refs, 3);
	assert_int_equal(released[2], 1); /* AS0's only handle went */
}

static void test_alloc_full_table(void **state)
{
	(void)state;
	struct snap s;
	mica_handle_t h = SENTINEL;

	for (mica_handle_t i = 0; i < (mica_handle_t)caps[1]; i++)
		alloc_ok(B, EP0, RALL, 0, i);
	assert_int_equal(B->count, B->cap);
	take(&s);
	assert_int_equal(handle_alloc(B, EP1, RALL, 0, &h), MICA_ENOMEM);
	assert_int_equal(h, SENTINEL);
	expect_unchanged(&s);
	/* Room again after a close, in the slot closed. */
	assert_int_equal(handle_close(B, 2), MICA_OK);
	alloc_ok(B, EP1, RALL, 0, 2);
	assert_int_equal(handle_alloc(B, EP1, RALL, 0, &h), MICA_ENOMEM);
}

static void test_alloc_refusals_change_nothing(void **state)
{
	(void)state;
	struct snap s;
	struct kobj none = {.type = MICA_OBJ_NONE, .refs = 0};
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, RALL, 0, 0);
	alloc_ok(A, TH0, RALL, 0, 1);
	assert_int_equal(handle_close(A, 0), MICA_OK);
	take(&s);
	/* No object, or an object without a type. */
	assert_int_equal(handle_alloc(A, NULL, RALL, 0, &h), MICA_EINVAL);
	assert_int_equal(handle_alloc(A, &none, RALL, 0, &h), MICA_EINVAL);
	assert_int_equal(none.refs, 0);
	/* Rights outside MICA_RIGHTS_ALL. */
	assert_int_equal(handle_alloc(A, EP0, MICA_RIGHTS_ALL + 1, 0, &h), MICA_EINVAL);
	assert_int_equal(handle_alloc(A, EP0, 1u << 31, 0, &h), MICA_EINVAL);
	assert_int_equal(handle_alloc(A, EP0, ~0u, 0, &h), MICA_EINVAL);
	/* A badge on something that is not an endpoint. */
	assert_int_equal(handle_alloc(A, AS0, RALL, 1, &h), MICA_EINVAL);
	assert_int_equal(handle_alloc(A, TH0, RALL, UINT64_MAX, &h), MICA_EINVAL);
	assert_int_equal(h, SENTINEL);
	expect_unchanged(&s);
	/* The table still works as before. */
	alloc_ok(A, EP0, RALL, UINT64_MAX, 0);
}

static void test_hint_tracks_lowest_free(void **state)
{
	(void)state;
	assert_int_equal(A->hint, 0);
	for (mica_handle_t i = 0; i < 5; i++)
		alloc_ok(A, EP0, RALL, 0, i);
	assert_int_equal(A->hint, 5);
	/* Freeing below the hint lowers it; above, leaves it. */
	assert_int_equal(handle_close(A, 3), MICA_OK);
	assert_int_equal(A->hint, 3);
	assert_int_equal(handle_close(A, 4), MICA_OK);
	assert_int_equal(A->hint, 3);
	assert_int_equal(handle_close(A, 1), MICA_OK);
	assert_int_equal(A->hint, 1);
	/* Each allocation takes the lowest free slot and moves the hint past it. */
	alloc_ok(A, EP0, RALL, 0, 1);
	assert_int_equal(A->hint, 2);
	alloc_ok(A, EP0, RALL, 0, 3); /* past used slot 2 */
	assert_int_equal(A->hint, 4);
	alloc_ok(A, EP0, RALL, 0, 4);
	assert_int_equal(A->hint, 5);
	check_table(A);
}

static void test_empty_table(void **state)
{
	(void)state;
	struct handle_table z;
	const struct handle *s = NULL;
	mica_handle_t h = SENTINEL;

	handle_table_init(&z, NULL, 0);
	assert_int_equal(handle_alloc(&z, EP0, RALL, 0, &h), MICA_ENOMEM);
	assert_int_equal(handle_get(&z, 0, MICA_OBJ_NONE, 0, &s), MICA_EBADH);
	assert_int_equal(handle_close(&z, 0), MICA_EBADH);
	alloc_ok(A, EP0, RALL, 0, 0);
	assert_int_equal(handle_copy(A, 0, &z, RALL, &h), MICA_ENOMEM);
	assert_int_equal(handle_move(A, 0, &z, &h), MICA_ENOMEM);
	assert_int_equal(h, SENTINEL);
	assert_null(s);
	handle_table_clear(&z);
	assert_int_equal(EP0->refs, 1);
}

/* ---- get ---- */

static void test_get_checks_type_and_rights(void **state)
{
	(void)state;
	struct snap s;
	const struct handle *out = NULL;

	alloc_ok(A, EP0, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 9, 0);
	alloc_ok(A, AS0, MICA_RIGHT_MEMORY | MICA_RIGHT_MANAGE, 0, 1);
	alloc_ok(A, TH0, MICA_RIGHT_MANAGE, 0, 2);
	take(&s);

	/* The right type, or any type. */
	assert_int_equal(handle_get(A, 0, MICA_OBJ_ENDPOINT, MICA_RIGHT_SEND, &out), MICA_OK);
	assert_ptr_equal(out, &A->slot[0]);
	assert_ptr_equal(out->obj, EP0);
	assert_int_equal(out->badge, 9);
	assert_int_equal(handle_get(A, 1, MICA_OBJ_ASPACE, MICA_RIGHT_MEMORY, &out), MICA_OK);
	assert_ptr_equal(out, &A->slot[1]);
	assert_int_equal(handle_get(A, 2, MICA_OBJ_NONE, 0, &out), MICA_OK);
	assert_ptr_equal(out, &A->slot[2]);
	assert_int_equal(handle_get(A, 2, MICA_OBJ_THREAD, MICA_RIGHT_MANAGE, NULL), MICA_OK);

	/* Another type: no such handle, whatever the rights. */
	out = NULL;
	assert_int_equal(handle_get(A, 0, MICA_OBJ_ASPACE, 0, &out), MICA_EBADH);
	assert_int_equal(handle_get(A, 1, MICA_OBJ_ENDPOINT, 0, &out), MICA_EBADH);
	assert_int_equal(handle_get(A, 2, MICA_OBJ_ASPACE, MICA_RIGHT_SEND, &out), MICA_EBADH);
	assert_int_equal(handle_get(A, 2, 99, 0, &out), MICA_EBADH);

	/* Missing rights: every one asked for must be there. */
	assert_int_equal(handle_get(A, 0, MICA_OBJ_ENDPOINT, MICA_RIGHT_RECV, &out), MICA_ERIGHTS);
	assert_int_equal(
	    handle_get(A, 0, MICA_OBJ_ENDPOINT, MICA_RIGHT_SEND | MICA_RIGHT_RECV, &out),
	    MICA_ERIGHTS);
	assert_int_equal(handle_get(A, 1, MICA_OBJ_NONE, MICA_RIGHT_COPY, &out), MICA_ERIGHTS);
	assert_int_equal(handle_get(A, 2, MICA_OBJ_THREAD, RALL, &out), MICA_ERIGHTS);
	assert_int_equal(handle_get(A, 2, MICA_OBJ_THREAD, 1u << 30, &out), MICA_ERIGHTS);
	assert_null(out);
	expect_unchanged(&s);
}

/* ---- forged handles ---- */

static void test_forged_handles_refused(void **state)
{
	(void)state;
	struct snap s;
	const struct handle *out = NULL;
	mica_handle_t h = SENTINEL;

	alloc_ok(B, EP0, RALL, 0, 0);
	alloc_ok(B, EP1, RALL, 0, 1);
	alloc_ok(B, EP1, RALL, 0, 2);
	assert_int_equal(handle_close(B, 1), MICA_OK); /* closed */
	/* 3 was never given. */
	take(&s);
	const mica_handle_t bad[] = {
	    MICA_HANDLE_NONE, -2, INT32_MIN, 1, 3, 4, 5, 8, 1000, INT32_MAX,
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		mica_handle_t b = bad[i];

		assert_int_equal(handle_get(B, b, MICA_OBJ_NONE, 0, &out), MICA_EBADH);
		assert_int_equal(handle_close(B, b), MICA_EBADH);
		assert_int_equal(handle_copy(B, b, B, RALL, &h), MICA_EBADH);
		assert_int_equal(handle_copy(B, b, A, RALL, &h), MICA_EBADH);
		assert_int_equal(handle_move(B, b, A, &h), MICA_EBADH);
		assert_int_equal(handle_move(B, b, B, &h), MICA_EBADH);
		assert_int_equal(handle_mint(B, b, RALL, 5, &h), MICA_EBADH);
		expect_unchanged(&s);
	}
	assert_null(out);
	assert_int_equal(h, SENTINEL);
	/* A valid index in one table is nothing in another. */
	assert_int_equal(handle_get(C, 0, MICA_OBJ_NONE, 0, &out), MICA_EBADH);
	assert_int_equal(handle_close(C, 2), MICA_EBADH);
	expect_unchanged(&s);
}

/* ---- close ---- */

static void test_close_drops_reference(void **state)
{
	(void)state;
	struct snap s;

	alloc_ok(A, EP0, RALL, 0, 0);
	alloc_ok(B, EP0, RALL, 0, 0);
	alloc_ok(A, EP0, RALL, 0, 1);
	assert_int_equal(EP0->refs, 3);
	assert_int_equal(handle_close(A, 0), MICA_OK);
	assert_int_equal(EP0->refs, 2);
	assert_null(A->slot[0].obj);
	assert_int_equal(released[0], 0);
	/* A second close of the same handle is refused and changes nothing. */
	take(&s);
	assert_int_equal(handle_close(A, 0), MICA_EBADH);
	expect_unchanged(&s);
	assert_int_equal(handle_close(B, 0), MICA_OK);
	assert_int_equal(released[0], 0);
	/* The last one releases the object, once. */
	assert_int_equal(handle_close(A, 1), MICA_OK);
	assert_int_equal(EP0->refs, 0);
	assert_int_equal(released[0], 1);
	assert_int_equal(A->count, 0);
	assert_int_equal(B->count, 0);
}

/* ---- copy ---- */

static void test_copy_shrinks_rights_and_needs_copy(void **state)
{
	(void)state;
	struct snap s;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, RALL, 42, 0);
	alloc_ok(A, EP1, MICA_RIGHT_SEND | MICA_RIGHT_RECV, 0, 1); /* no COPY */

	/* Rights are old & mask, the badge stays, a reference is taken. */
	assert_int_equal(handle_copy(A, 0, B, MICA_RIGHT_SEND, &h), MICA_OK);
	assert_int_equal(h, 0);
	expect_handle(B, 0, EP0, MICA_RIGHT_SEND, 42);
	assert_int_equal(EP0->refs, 2);
	expect_handle(A, 0, EP0, RALL, 42); /* the source is untouched */

	/* A mask with more bits than the source grants nothing new. */
	assert_int_equal(handle_copy(A, 0, B, ~0u, &h), MICA_OK);
	assert_int_equal(h, 1);
	expect_handle(B, 1, EP0, RALL, 42);
	assert_int_equal(handle_copy(A, 0, B, 0, &h), MICA_OK);
	expect_handle(B, 2, EP0, 0, 42);

	/* Without MICA_RIGHT_COPY: refused, nothing changes. */
	take(&s);
	h = SENTINEL;
	assert_int_equal(handle_copy(A, 1, B, RALL, &h), MICA_ERIGHTS);
	assert_int_equal(handle_copy(A, 1, A, RALL, &h), MICA_ERIGHTS);
	/* A copy whose mask dropped COPY cannot be copied on. */
	assert_int_equal(handle_copy(B, 0, C, RALL, &h), MICA_ERIGHTS);
	assert_int_equal(handle_copy(B, 2, A, RALL, &h), MICA_ERIGHTS);
	assert_int_equal(h, SENTINEL);
	expect_unchanged(&s);

	/* But it keeps the COPY right if the mask keeps it; rights only shrink. */
	assert_int_equal(handle_copy(B, 1, C, MICA_RIGHT_COPY | MICA_RIGHT_RECV, &h), MICA_OK);
	expect_handle(C, 0, EP0, MICA_RIGHT_COPY | MICA_RIGHT_RECV, 42);
	assert_int_equal(handle_copy(C, 0, A, RALL, &h), MICA_OK);
	assert_int_equal(h, 2);
	expect_handle(A, 2, EP0, MICA_RIGHT_COPY | MICA_RIGHT_RECV, 42);
	assert_int_equal(EP0->refs, 6);
}

static void test_copy_within_table(void **state)
{
	(void)state;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, AS0, RALL, 0, 0);
	alloc_ok(A, TH0, RALL, 0, 1);
	assert_int_equal(handle_close(A, 0), MICA_OK); /* releases AS0 */
	alloc_ok(A, AS0, MICA_RIGHT_COPY | MICA_RIGHT_MEMORY, 0, 0);
	assert_int_equal(handle_copy(A, 0, A, MICA_RIGHT_MEMORY, &h), MICA_OK);
	assert_int_equal(h, 2);
	expect_handle(A, 2, AS0, MICA_RIGHT_MEMORY, 0);
	expect_handle(A, 0, AS0, MICA_RIGHT_COPY | MICA_RIGHT_MEMORY, 0);
	assert_int_equal(AS0->refs, 2);
	assert_int_equal(A->count, 3);
	/* Closing the original leaves the copy. */
	assert_int_equal(handle_close(A, 0), MICA_OK);
	assert_int_equal(AS0->refs, 1);
	assert_int_equal(released[2], 1);
	expect_handle(A, 2, AS0, MICA_RIGHT_MEMORY, 0);
}

/* ---- move ---- */

static void test_move_keeps_refcount(void **state)
{
	(void)state;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, MICA_RIGHT_RECV, 0, 0); /* no COPY: moving needs none */
	alloc_ok(A, TH0, MICA_RIGHT_MANAGE, 0, 1);
	alloc_ok(B, EP1, RALL, 0, 0);
	assert_int_equal(handle_mint(B, 0, RALL, 77, &h), MICA_OK);
	assert_int_equal(h, 1);

	assert_int_equal(handle_move(A, 0, B, &h), MICA_OK);
	assert_int_equal(h, 2);
	expect_handle(B, 2, EP0, MICA_RIGHT_RECV, 0);
	assert_int_equal(EP0->refs, 1);
	assert_int_equal(released[0], 0);
	/* The source slot is empty and the hint is back at it. */
	assert_null(A->slot[0].obj);
	assert_int_equal(A->slot[0].rights, 0);
	assert_int_equal(A->count, 1);
	assert_int_equal(A->hint, 0);
	assert_int_equal(handle_get(A, 0, MICA_OBJ_NONE, 0, NULL), MICA_EBADH);

	/* The badge goes with it. */
	assert_int_equal(handle_move(B, 1, A, &h), MICA_OK);
	assert_int_equal(h, 0);
	expect_handle(A, 0, EP1, RALL, 77);
	assert_int_equal(EP1->refs, 2);
	assert_int_equal(handle_move(B, 1, A, &h), MICA_EBADH);
}

static void test_move_within_table_is_noop(void **state)
{
	(void)state;
	struct snap s;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, RALL, 0, 0);
	alloc_ok(A, TH0, 0, 0, 1);
	assert_int_equal(handle_close(A, 0), MICA_OK); /* slot 0 free: a move must not go there */
	take(&s);
	assert_int_equal(handle_move(A, 1, A, &h), MICA_OK);
	assert_int_equal(h, 1);
	expect_unchanged(&s);
	/* Even a full table. */
	fill(A, EP2);
	take(&s);
	assert_int_equal(handle_move(A, 5, A, &h), MICA_OK);
	assert_int_equal(h, 5);
	expect_unchanged(&s);
}

static void test_copy_move_into_full_table_change_nothing(void **state)
{
	(void)state;
	struct snap s;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, RALL, 3, 0);
	alloc_ok(A, TH0, RALL, 0, 1);
	fill(B, EP1);
	take(&s);
	assert_int_equal(handle_copy(A, 0, B, RALL, &h), MICA_ENOMEM);
	assert_int_equal(handle_move(A, 0, B, &h), MICA_ENOMEM);
	assert_int_equal(handle_move(A, 1, B, &h), MICA_ENOMEM);
	assert_int_equal(handle_mint(B, 0, RALL, 1, &h), MICA_ENOMEM);
	/* Copying within a full table. */
	assert_int_equal(handle_copy(B, 3, B, RALL, &h), MICA_ENOMEM);
	assert_int_equal(h, SENTINEL);
	expect_unchanged(&s);
	/* The full table still moves out, and then has room. */
	assert_int_equal(handle_move(B, 2, A, &h), MICA_OK);
	assert_int_equal(h, 2);
	assert_int_equal(handle_move(A, 0, B, &h), MICA_OK);
	assert_int_equal(h, 2);
	expect_handle(B, 2, EP0, RALL, 3);
}

/* ---- mint ---- */

static void test_mint_badges(void **state)
{
	(void)state;
	mica_handle_t h = SENTINEL, h2 = SENTINEL;

	alloc_ok(A, EP0, RALL, 0, 0);
	assert_int_equal(handle_mint(A, 0, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0x1234, &h), MICA_OK);
	assert_int_equal(h, 1);
	expect_handle(A, 1, EP0, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0x1234);
	expect_handle(A, 0, EP0, RALL, 0); /* the source keeps no badge */
	assert_int_equal(EP0->refs, 2);
	/* Distinct badges from one source; rights only shrink. */
	assert_int_equal(handle_mint(A, 0, ~0u, UINT64_MAX, &h2), MICA_OK);
	expect_handle(A, h2, EP0, RALL, UINT64_MAX);
	/* Copies of a badged handle carry its badge. */
	assert_int_equal(handle_copy(A, 1, B, MICA_RIGHT_SEND, &h), MICA_OK);
	expect_handle(B, h, EP0, MICA_RIGHT_SEND, 0x1234);
	assert_int_equal(EP0->refs, 4);
}

static void test_mint_refusals(void **state)
{
	(void)state;
	struct snap s;
	mica_handle_t h = SENTINEL;

	alloc_ok(A, EP0, RALL, 0, 0);            /* 0: may be minted */
	alloc_ok(A, EP1, MICA_RIGHT_SEND, 0, 1); /* 1: no COPY */
	alloc_ok(A, EP2, RALL, 5, 2);            /* 2: badged */
	alloc_ok(A, AS0, RALL, 0, 3);            /* 3: not an endpoint */
	alloc_ok(A, TH0, RALL, 0, 4);            /* 4: not an endpoint */
	take(&s);
	/* Badge 0 is no badge. */
	assert_int_equal(handle_mint(A, 0, RALL, 0, &h), MICA_EINVAL);
	/* Only endpoints. */
	assert_int_equal(handle_mint(A, 3, RALL, 1, &h), MICA_EBADH);
	assert_int_equal(handle_mint(A, 4, RALL, 1, &h), MICA_EBADH);
	/* COPY needed, and a badge is never replaced. */
	assert_int_equal(handle_mint(A, 1, RALL, 1, &h), MICA_ERIGHTS);
	assert_int_equal(handle_mint(A, 2, RALL, 6, &h), MICA_ERIGHTS);
	assert_int_equal(handle_mint(A, 2, RALL, 5, &h), MICA_ERIGHTS);
	assert_int_equal(h, SENTINEL);
	expect_unchanged(&s);
	/* A minted handle cannot be re-badged either, even with COPY. */
	assert_int_equal(handle_mint(A, 0, RALL, 9, &h), MICA_OK);
	take(&s);
	mica_handle_t minted = h;
	assert_int_equal(handle_mint(A, minted, RALL, 10, &h), MICA_ERIGHTS);
	assert_int_equal(h, minted);
	expect_unchanged(&s);
	/* Nor a copy of one in another table. */
	assert_int_equal(handle_copy(A, minted, B, RALL, &h), MICA_OK);
	assert_int_equal(handle_mint(B, h, RALL, 10, &h), MICA_ERIGHTS);
}

/* ---- clear ---- */

/*
 * The receive count follows every slot with MICA_RIGHT_RECV: alloc, copy
 * and mint add one only when the new slot keeps the right, a move keeps
 * it, close and clear take it away; and a refused call leaves it alone.
 */
static void test_receive_count(void **state)
{
	mica_handle_t h, c, m, mv, x;

	(void)state;
	assert_int_equal(handle_alloc(A, EP0, RALL, 0, &h), MICA_OK);
	assert_int_equal(EP0->recv_handles, 1);
	assert_int_equal(handle_alloc(A, EP0, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0, &x), MICA_OK);
	assert_int_equal(EP0->recv_handles, 1);
	/* A copy that keeps the right counts; one that drops it does not. */
	assert_int_equal(handle_copy(A, h, B, RALL, &c), MICA_OK);
	assert_int_equal(EP0->recv_handles, 2);
	assert_int_equal(handle_copy(A, h, B, ~(uint32_t)MICA_RIGHT_RECV, &x), MICA_OK);
	assert_int_equal(EP0->recv_handles, 2);
	/* A badged mint, with and without it. */
	assert_int_equal(handle_mint(A, h, RALL, 7, &m), MICA_OK);
	assert_int_equal(EP0->recv_handles, 3);
	assert_int_equal(handle_mint(A, h, MICA_RIGHT_SEND, 8, &x), MICA_OK);
	assert_int_equal(EP0->recv_handles, 3);
	check_refs();
	/* A move keeps it; within a table too. */
	assert_int_equal(handle_move(A, m, C, &mv), MICA_OK);
	assert_int_equal(EP0->recv_handles, 3);
	assert_int_equal(handle_move(C, mv, C, &mv), MICA_OK);
	assert_int_equal(EP0->recv_handles, 3);
	/* A move into a full table is refused and changes nothing. */
	for (uint32_t i = C->count; i < C->cap; i++)
		assert_int_equal(handle_alloc(C, AS0, RALL, 0, &x), MICA_OK);
	assert_int_equal(handle_move(A, h, C, &x), MICA_ENOMEM);
	assert_int_equal(EP0->recv_handles, 3);
	check_refs();
	/* Closing and clearing take it away. */
	assert_int_equal(handle_close(A, h), MICA_OK);
	assert_int_equal(EP0->recv_handles, 2);
	handle_table_clear(C);
	assert_int_equal(EP0->recv_handles, 1);
	assert_int_equal(handle_close(B, c), MICA_OK);
	assert_int_equal(EP0->recv_handles, 0);
	assert_true(EP0->refs > 0); /* send handles remain */
	check_refs();
}

static void test_clear_releases_once(void **state)
{
	(void)state;
	mica_handle_t h;

	/* EP0 three times in A; EP1 in A and B; AS0 once in A; TH0 only in B. */
	alloc_ok(A, EP0, RALL, 0, 0);
	assert_int_equal(handle_copy(A, 0, A, RALL, &h), MICA_OK);
	assert_int_equal(handle_mint(A, 0, RALL, 3, &h), MICA_OK);
	alloc_ok(A, EP1, RALL, 0, 3);
	assert_int_equal(handle_copy(A, 3, B, RALL, &h), MICA_OK);
	alloc_ok(A, AS0, RALL, 0, 4);
	alloc_ok(B, TH0, RALL, 0, 1);
	assert_int_equal(handle_close(A, 1), MICA_OK); /* a hole */

	handle_table_clear(A);
	assert_int_equal(A->count, 0);
	assert_int_equal(A->hint, 0);
	for (uint32_t i = 0; i < A->cap; i++)
		assert_null(A->slot[i].obj);
	assert_int_equal(released[0], 1);
	assert_int_equal(released[2], 1);
	/* EP1 is still held by B; TH0 was never in A. */
	assert_int_equal(released[1], 0);
	assert_int_equal(EP1->refs, 1);
	assert_int_equal(released[3], 0);
	/* Clearing again does nothing more. */
	handle_table_clear(A);
	assert_int_equal(released[0], 1);
	/* The cleared table is as good as new. */
	alloc_ok(A, EP2, RALL, 0, 0);
	assert_int_equal(handle_close(A, 0), MICA_OK);

	handle_table_clear(B);
	assert_int_equal(B->count, 0);
	for (int k = 0; k < NOBJ; k++) {
		assert_int_equal(objs[k].refs, 0);
		assert_int_equal(released[k], k <= 4 ? 1 : 0);
	}
}

/* ---- random workload against a reference model ---- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The model: per slot the object index (-1 = free), rights and badge. */
struct mslot {
	int obj;
	uint32_t rights;
	uint64_t badge;
};

static struct mslot model[NTAB][CAPMAX];
static uint32_t mrefs[NOBJ];
static unsigned mreleased[NOBJ];

static bool m_used(int t, mica_handle_t h)
{
	return h >= 0 && (uint32_t)h < caps[t] && model[t][h].obj >= 0;
}

static int m_lowest_free(int t)
{
	for (uint32_t i = 0; i < caps[t]; i++)
		if (model[t][i].obj < 0)
			return (int)i;
	return -1;
}

static void m_put(int t, int i, int obj, uint32_t rights, uint64_t badge)
{
	model[t][i] = (struct mslot){obj, rights, badge};
}

static void m_free(int t, mica_handle_t h)
{
	model[t][h] = (struct mslot){-1, 0, 0};
}

static void m_unref(int k)
{
	if (--mrefs[k] == 0)
		mreleased[k]++;
}

static void expect_model(void)
{
	for (int t = 0; t < NTAB; t++) {
		check_table(&tab[t]);
		for (uint32_t i = 0; i < caps[t]; i++) {
			const struct mslot *m = &model[t][i];

			assert_ptr_equal(tab[t].slot[i].obj, m->obj < 0 ? NULL : &objs[m->obj]);
			assert_int_equal(tab[t].slot[i].rights, m->rights);
			assert_int_equal(tab[t].slot[i].badge, m->badge);
		}
	}
	for (int k = 0; k < NOBJ; k++) {
		assert_int_equal(objs[k].refs, mrefs[k]);
		assert_int_equal(released[k], mreleased[k]);
	}
	check_refs();
}

/* Mostly a slot index (used or free), sometimes a forgery. */
static mica_handle_t pick_handle(int t)
{
	switch (rng() % 16) {
	case 0:
		return MICA_HANDLE_NONE;
	case 1:
		return INT32_MIN;
	case 2:
		return (mica_handle_t)caps[t];
	case 3:
		return (mica_handle_t)(uint32_t)rng();
	default:
		return (mica_handle_t)(rng() % caps[t]);
	}
}

/* Mostly defined rights, sometimes stray bits. */
static uint32_t pick_rights(void)
{
	return rng() % 8 == 0 ? (uint32_t)rng() : (uint32_t)rng() & MICA_RIGHTS_ALL;
}

static void test_random_workload(void **state)
{
	(void)state;
	unsigned ok = 0, refused = 0;

	for (int t = 0; t < NTAB; t++)
		for (int i = 0; i < CAPMAX; i++)
			m_free(t, i);
	memset(mrefs, 0, sizeof(mrefs));
	memset(mreleased, 0, sizeof(mreleased));

	for (int step = 0; step < 30000; step++) {
		unsigned op = rng() % 100;
		int t = (int)(rng() % NTAB), t2 = (int)(rng() % NTAB);
		mica_handle_t h = pick_handle(t), out = SENTINEL;
		int want, rc;

		if (op < 25) {
			/* alloc */
			int k = rng() % 16 == 0 ? -1 : (int)(rng() % NOBJ);
			uint32_t rights = pick_rights();
			uint64_t badge = rng() % 3 == 0 ? rng() % 4 : 0;
			int i = m_lowest_free(t);

			if (k < 0 || (rights & ~MICA_RIGHTS_ALL) != 0 ||
			    (badge != 0 && obj_type[k] != MICA_OBJ_ENDPOINT))
				want = MICA_EINVAL;
			else
				want = i < 0 ? MICA_ENOMEM : MICA_OK;
			rc = handle_alloc(&tab[t], k < 0 ? NULL : &objs[k], rights, badge, &out);
			assert_int_equal(rc, want);
			if (want == MICA_OK) {
				assert_int_equal(out, i);
				m_put(t, i, k, rights, badge);
				mrefs[k]++;
			}
		} else if (op < 45) {
			/* close */
			want = m_used(t, h) ? MICA_OK : MICA_EBADH;
			rc = handle_close(&tab[t], h);
			assert_int_equal(rc, want);
			if (want == MICA_OK) {
				int k = model[t][h].obj;

				m_free(t, h);
				m_unref(k);
			}
		} else if (op < 60) {
			/* get */
			uint32_t type = (uint32_t)(rng() % 5);
			uint32_t need = pick_rights();
			const struct handle *s = NULL;

			if (!m_used(t, h) ||
			    (type != MICA_OBJ_NONE && obj_type[model[t][h].obj] != type))
				want = MICA_EBADH;
			else if ((model[t][h].rights & need) != need)
				want = MICA_ERIGHTS;
			else
				want = MICA_OK;
			rc = handle_get(&tab[t], h, type, need, &s);
			assert_int_equal(rc, want);
			if (want == MICA_OK)
				assert_ptr_equal(s, &tab[t].slot[h]);
			else
				assert_null(s);
		} else if (op < 73) {
			/* copy */
			uint32_t mask = rng() % 4 == 0 ? ~0u : (uint32_t)rng();
			int i = m_lowest_free(t2);

			if (!m_used(t, h))
				want = MICA_EBADH;
			else if ((model[t][h].rights & MICA_RIGHT_COPY) == 0)
				want = MICA_ERIGHTS;
			else
				want = i < 0 ? MICA_ENOMEM : MICA_OK;
			rc = handle_copy(&tab[t], h, &tab[t2], mask, &out);
			assert_int_equal(rc, want);
			if (want == MICA_OK) {
				struct mslot m = model[t][h];

				assert_int_equal(out, i);
				m_put(t2, i, m.obj, m.rights & mask, m.badge);
				mrefs[m.obj]++;
			}
		} else if (op < 86) {
			/* move */
			int i = t2 == t ? (int)h : m_lowest_free(t2);

			if (!m_used(t, h))
				want = MICA_EBADH;
			else
				want = i < 0 ? MICA_ENOMEM : MICA_OK;
			rc = handle_move(&tab[t], h, &tab[t2], &out);
			assert_int_equal(rc, want);
			if (want == MICA_OK) {
				struct mslot m = model[t][h];

				assert_int_equal(out, i);
				m_free(t, h);
				m_put(t2, i, m.obj, m.rights, m.badge);
			}
		} else if (op < 99) {
			/* mint */
			uint32_t mask = (uint32_t)rng();
			uint64_t badge = rng() % 8 == 0 ? 0 : rng();
			int i = m_lowest_free(t);

			if (badge == 0)
				want = MICA_EINVAL;
			else if (!m_used(t, h) || obj_type[model[t][h].obj] != MICA_OBJ_ENDPOINT)
				want = MICA_EBADH;
			else if ((model[t][h].rights & MICA_RIGHT_COPY) == 0 ||
			         model[t][h].badge != 0)
				want = MICA_ERIGHTS;
			else
				want = i < 0 ? MICA_ENOMEM : MICA_OK;
			rc = handle_mint(&tab[t], h, mask, badge, &out);
			assert_int_equal(rc, want);
			if (want == MICA_OK) {
				struct mslot m = model[t][h];

				assert_int_equal(out, i);
				m_put(t, i, m.obj, m.rights & mask, badge);
				mrefs[m.obj]++;
			}
		} else {
			/* clear */
			for (uint32_t i = 0; i < caps[t]; i++) {
				if (model[t][i].obj >= 0) {
					int k = model[t][i].obj;

					m_free(t, (mica_handle_t)i);
					m_unref(k);
				}
			}
			handle_table_clear(&tab[t]);
			want = rc = MICA_OK;
		}
		if (rc != MICA_OK)
			assert_int_equal(out, SENTINEL);
		if (rc == MICA_OK)
			ok++;
		else
			refused++;
		expect_model();
	}
	/* The workload exercised both outcomes a fair amount. */
	assert_true(ok > 5000);
	assert_true(refused > 5000);
	unsigned total_released = 0;
	for (int k = 0; k < NOBJ; k++)
		total_released += released[k];
	assert_true(total_released > 100);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_init_empties_every_slot),
	    T(test_alloc_lowest_free_and_reuse),
	    T(test_alloc_full_table),
	    T(test_alloc_refusals_change_nothing),
	    T(test_hint_tracks_lowest_free),
	    T(test_empty_table),
	    T(test_get_checks_type_and_rights),
	    T(test_forged_handles_refused),
	    T(test_close_drops_reference),
	    T(test_copy_shrinks_rights_and_needs_copy),
	    T(test_copy_within_table),
	    T(test_move_keeps_refcount),
	    T(test_move_within_table_is_noop),
	    T(test_copy_move_into_full_table_change_nothing),
	    T(test_mint_badges),
	    T(test_mint_refusals),
	    T(test_receive_count),
	    T(test_clear_releases_once),
	    T(test_random_workload),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
