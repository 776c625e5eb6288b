/*
 * Host unit tests for lib/cmdparse.c, the command-line parser the kernel
 * and the pager share: words, key=value, repeats (the last counts),
 * malformed words, the length limit, numbers, and reads kept inside the
 * given length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdparse.h"

/* The value of key in s as a new string (test-owned), or NULL; *count gets the occurrences. */
static char *value(const char *s, const char *key, size_t *count)
{
	struct cmdparse_word w;
	size_t n = cmdparse_find(s, strlen(s), key, &w);

	if (count)
		*count = n;
	if (!n)
		return NULL;
	char *v = malloc(w.valuelen + 1);

	assert_non_null(v);
	assert_true(cmdparse_copy(w.value, w.valuelen, v, w.valuelen + 1));
	return v;
}

static void assert_value(const char *s, const char *key, const char *want)
{
	char *v = value(s, key, NULL);

	if (!want) {
		assert_null(v);
		return;
	}
	assert_non_null(v);
	assert_string_equal(v, want);
	free(v);
}

static void test_words(void **state)
{
	(void)state;
	const char *s = "  ready=exit\tfault=pf  pager.measure\n a=b=c x= ";
	struct cmdparse_word w;
	size_t pos = 0, n = 0;
	const char *keys[] = {"ready", "fault", "pager.measure", "a", "x"};

	while (cmdparse_next(s, strlen(s), &pos, &w)) {
		assert_true(n < 5);
		assert_true(cmdparse_key_is(&w, keys[n]));
		n++;
	}
	assert_int_equal(n, 5);
	assert_value(s, "ready", "exit");
	assert_value(s, "fault", "pf");
	assert_value(s, "pager.measure", "");
	assert_value(s, "a", "b=c"); /* the first '=' splits */
	assert_value(s, "x", "");
	assert_value(s, "missing", NULL);
	assert_value(s, "read", NULL); /* a prefix is not a key */
	assert_value(s, "ready=exit", NULL);
	assert_value(s, "", NULL);
}

static void test_flag_and_empty_value(void **state)
{
	(void)state;
	struct cmdparse_word w;

	assert_int_equal(cmdparse_find("idle", 4, "idle", &w), 1);
	assert_false(w.has_value);
	assert_int_equal(w.valuelen, 0);
	assert_int_equal(cmdparse_find("idle=", 5, "idle", &w), 1);
	assert_true(w.has_value);
	assert_int_equal(w.valuelen, 0);
	assert_true(cmdparse_value_is(&w, ""));
	assert_false(cmdparse_value_is(&w, "exit"));
}

/* A repeated key: the last word counts, and the count says it was repeated. */
static void test_last_wins(void **state)
{
	(void)state;
	size_t n;
	char *v = value("init=a.elf idle=x init=b.elf init=c.elf", "init", &n);

	assert_int_equal(n, 3);
	assert_string_equal(v, "c.elf");
	free(v);
	assert_value("idle=wait idle=exit", "idle", "exit");
	assert_value("idle=exit idle", "idle", ""); /* a bare repeat overrides too */
}

/* Words past the 32nd (the old kernel's limit) are read like the first. */
static void test_many_words(void **state)
{
	(void)state;
	char s[CMDPARSE_MAX];
	size_t n = 0;

	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "w%d=%d ", i, i);
	snprintf(s + n, sizeof(s) - n, "idle=exit");
	assert_value(s, "idle", "exit");
	assert_value(s, "w299", "299");
	assert_value(s, "w0", "0");
}

/* An empty key is malformed: returned by next (keylen 0), never found. */
static void test_empty_key(void **state)
{
	(void)state;
	struct cmdparse_word w;
	size_t pos = 0;
	const char *s = "=x ==";

	assert_true(cmdparse_next(s, strlen(s), &pos, &w));
	assert_int_equal(w.keylen, 0);
	assert_true(cmdparse_value_is(&w, "x"));
	assert_true(cmdparse_next(s, strlen(s), &pos, &w));
	assert_int_equal(w.keylen, 0);
	assert_true(cmdparse_value_is(&w, "="));
	assert_false(cmdparse_next(s, strlen(s), &pos, &w));
	assert_int_equal(cmdparse_find(s, strlen(s), "", &w), 0);
}

/* Only len characters are read, and nothing past a NUL. */
static void test_bounds(void **state)
{
	(void)state;
	/* A heap buffer exactly as long as the line, no NUL: ASan catches any overread. */
	const char text[] = "ready=exit idle=exit";
	size_t len = sizeof(text) - 1;
	char *s = malloc(len);
	struct cmdparse_word w;

	assert_non_null(s);
	memcpy(s, text, len);
	assert_int_equal(cmdparse_find(s, len, "idle", &w), 1);
	assert_true(cmdparse_value_is(&w, "exit"));
	assert_int_equal(cmdparse_find(s, 10, "idle", &w), 0); /* "ready=exit" only */
	assert_int_equal(cmdparse_len(s, len), len);
	free(s);

	const char nul[] = "a=1\0idle=exit";
	assert_int_equal(cmdparse_find(nul, sizeof(nul), "idle", &w), 0);
	assert_int_equal(cmdparse_len(nul, sizeof(nul)), 3);
}

/* Cutting keeps whole words only. */
static void test_cut(void **state)
{
	(void)state;
	const char *s = "reserve=1234 idle=exit";

	assert_int_equal(cmdparse_cut(s, strlen(s), 64), strlen(s));
	assert_int_equal(cmdparse_cut(s, strlen(s), strlen(s) + 1), strlen(s));
	/* Room for "reserve=12": the word is dropped rather than changed. */
	assert_int_equal(cmdparse_cut(s, strlen(s), 11), 0);
	assert_int_equal(cmdparse_cut(s, strlen(s), 13), 12); /* ends just before the space */
	assert_int_equal(cmdparse_cut(s, strlen(s), 14), 13);
	assert_int_equal(cmdparse_cut(s, strlen(s), 20), 13); /* "idle=ex" would be cut */
	assert_int_equal(cmdparse_cut(s, strlen(s), 0), 0);
}

static void test_copy(void **state)
{
	(void)state;
	char out[4];

	assert_true(cmdparse_copy("abc", 3, out, sizeof(out)));
	assert_string_equal(out, "abc");
	assert_false(cmdparse_copy("abcd", 4, out, sizeof(out)));
	assert_string_equal(out, "");
	assert_false(cmdparse_copy("a", 1, out, 0));
}

static void test_numbers(void **state)
{
	(void)state;
	uint64_t v = 7;

	assert_int_equal(cmdparse_u64("0", 1, &v), CMDPARSE_NUM_OK);
	assert_int_equal(v, 0);
	assert_int_equal(cmdparse_u64("18446744073709551615", 20, &v), CMDPARSE_NUM_OK);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(cmdparse_u64("18446744073709551616", 20, &v), CMDPARSE_NUM_RANGE);
	assert_int_equal(cmdparse_u64("99999999999999999999", 20, &v), CMDPARSE_NUM_RANGE);
	assert_int_equal(cmdparse_u64("abc", 3, &v), CMDPARSE_NUM_INVALID);
	assert_int_equal(cmdparse_u64("12a", 3, &v), CMDPARSE_NUM_INVALID);
	assert_int_equal(cmdparse_u64("-1", 2, &v), CMDPARSE_NUM_INVALID);
	/* Not a number, whatever its size (found by the fuzzer, tests/fuzz/corpus/cmdline/). */
	assert_int_equal(cmdparse_u64("99999999999999999999-a", 22, &v), CMDPARSE_NUM_INVALID);
	assert_int_equal(cmdparse_u64("", 0, &v), CMDPARSE_NUM_EMPTY);
	assert_int_equal(v, 7);                                           /* untouched on failure */
	assert_int_equal(cmdparse_u64("123456", 3, &v), CMDPARSE_NUM_OK); /* only n digits */
	assert_int_equal(v, 123);
	assert_string_equal(cmdparse_num_why(CMDPARSE_NUM_INVALID), "not a number");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_words),     cmocka_unit_test(test_flag_and_empty_value),
	    cmocka_unit_test(test_last_wins), cmocka_unit_test(test_many_words),
	    cmocka_unit_test(test_empty_key), cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_cut),       cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_numbers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
