/*
 * Host unit tests for servers/pager/idtree.c (the pager's pid and thread
 * index): against a plain array model under random inserts and removes,
 * in-order walks, refusals, the AVL height bound, and idtree_check
 * catching corruption. idtree_check runs after every operation.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include "servers/pager/idtree.h"
#include "rng.h"

static void check(const struct idtree *t)
{
	const char *why = NULL;

	if (idtree_check(t, &why) != MICA_OK)
		fail_msg("idtree_check: %s", why);
}

static void test_empty(void **state)
{
	struct idtree t;

	(void)state;
	idtree_init(&t);
	check(&t);
	assert_null(idtree_find(&t, 1));
	assert_null(idtree_next(&t, 0));
	assert_null(idtree_remove(&t, 1));
	assert_int_equal(idtree_count(&t), 0);
}

static void test_insert_find_remove(void **state)
{
	struct idnode n[3] = {{.key = 5}, {.key = 1}, {.key = 9}}, dup = {.key = 5};
	struct idtree t;

	(void)state;
	idtree_init(&t);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(idtree_insert(&t, &n[i]), 0);
		check(&t);
	}
	/* A key already there is refused and nothing changes. */
	assert_int_equal(idtree_insert(&t, &dup), MICA_EEXIST);
	check(&t);
	assert_int_equal(idtree_count(&t), 3);
	assert_ptr_equal(idtree_find(&t, 5), &n[0]);
	assert_null(idtree_find(&t, 4));
	/* The walk in key order. */
	assert_ptr_equal(idtree_next(&t, 0), &n[1]);
	assert_ptr_equal(idtree_next(&t, 1), &n[0]);
	assert_ptr_equal(idtree_next(&t, 5), &n[2]);
	assert_null(idtree_next(&t, 9));
	assert_ptr_equal(idtree_remove(&t, 5), &n[0]);
	check(&t);
	assert_null(idtree_remove(&t, 5));
	assert_null(idtree_find(&t, 5));
	assert_int_equal(idtree_count(&t), 2);
}

/* Ascending keys (as pids come) keep the tree within the AVL height bound. */
static void test_balance(void **state)
{
	enum { N = 100000 };
	struct idnode *n = calloc(N, sizeof(*n));
	struct idtree t;

	(void)state;
	assert_non_null(n);
	idtree_init(&t);
	for (int i = 0; i < N; i++) {
		n[i].key = (uint64_t)i + 1;
		assert_int_equal(idtree_insert(&t, &n[i]), 0);
	}
	check(&t);
	/* 1.44 log2(N + 2) is about 24. */
	assert_true(t.root->height <= 24);
	for (int i = 0; i < N; i += 2)
		assert_ptr_equal(idtree_remove(&t, (uint64_t)i + 1), &n[i]);
	check(&t);
	assert_int_equal(idtree_count(&t), N / 2);
	assert_true(t.root->height <= 24);
	free(n);
}

/* Random inserts and removes against a model: which keys are in. */
static void test_random(void **state)
{
	enum { KEYS = 512, OPS = 20000 };
	struct idnode n[KEYS];
	bool in[KEYS] = {0};
	struct idtree t;
	size_t count = 0;

	(void)state;
	rng_seed(15);
	idtree_init(&t);
	for (int op = 0; op < OPS; op++) {
		uint64_t k = rng_below(KEYS);

		if (in[k]) {
			assert_ptr_equal(idtree_remove(&t, k * 7 + 3), &n[k]);
			in[k] = false;
			count--;
		} else {
			n[k].key = k * 7 + 3;
			assert_int_equal(idtree_insert(&t, &n[k]), 0);
			in[k] = true;
			count++;
		}
		if (op % 64 == 0)
			check(&t);
		assert_int_equal(idtree_count(&t), count);
	}
	check(&t);
	/* A full walk sees exactly the keys in, in order. */
	size_t seen = 0;

	for (struct idnode *x = idtree_next(&t, 0); x; x = idtree_next(&t, x->key)) {
		assert_true(in[(x->key - 3) / 7]);
		seen++;
	}
	assert_int_equal(seen, count);
	for (uint64_t k = 0; k < KEYS; k++)
		assert_true((idtree_find(&t, k * 7 + 3) != NULL) == in[k]);
}

static void test_check_catches_corruption(void **state)
{
	struct idnode n[3] = {{.key = 1}, {.key = 2}, {.key = 3}};
	struct idtree t;
	const char *why = NULL;

	(void)state;
	idtree_init(&t);
	for (int i = 0; i < 3; i++)
		assert_int_equal(idtree_insert(&t, &n[i]), 0);
	check(&t);
	/* n[1] is the root; swap its children's keys. */
	n[0].key = 4;
	assert_int_equal(idtree_check(&t, &why), MICA_EINVAL);
	assert_string_equal(why, "keys out of order");
	n[0].key = 1;
	n[0].height = 3;
	assert_int_equal(idtree_check(&t, &why), MICA_EINVAL);
	assert_string_equal(why, "wrong height");
	n[0].height = 1;
	t.count = 4;
	assert_int_equal(idtree_check(&t, &why), MICA_EINVAL);
	t.count = 2;
	assert_int_equal(idtree_check(&t, &why), MICA_EINVAL);
	t.count = 3;
	check(&t);
}

/* Run every test, or with an argument only those whose names match it (a cmocka pattern). */
int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_insert_find_remove),
	    cmocka_unit_test(test_balance),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_check_catches_corruption),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
