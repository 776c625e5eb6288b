/*
 * Host unit tests for runtime/string.c: each function against the host C
 * library's on every alignment and length up to a bound, and on random
 * strings from a small alphabet (so that prefixes and matches are common).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "runtime/rt.h"
#include "rng.h"

#define N 96

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)rng();
}

/* memcpy and memset at every source and destination offset and length. */
static void test_copy_and_fill(void **state)
{
	unsigned char src[N + 16], a[N + 32], b[N + 32];

	(void)state;
	rng_seed(1);
	fill_random(src, sizeof(src));
	for (size_t so = 0; so < 9; so++) {
		for (size_t d = 0; d < 9; d++) {
			for (size_t n = 0; n <= N; n++) {
				memset(a, 0xEE, sizeof(a));
				memset(b, 0xEE, sizeof(b));
				assert_ptr_equal(rt_memcpy(a + d, src + so, n), a + d);
				memcpy(b + d, src + so, n);
				assert_memory_equal(a, b, sizeof(a));
				assert_ptr_equal(rt_memset(a + d, (int)(n + so), n), a + d);
				memset(b + d, (int)(n + so), n);
				assert_memory_equal(a, b, sizeof(a));
			}
		}
	}
}

/* memmove across every overlap, both directions. */
static void test_memmove(void **state)
{
	unsigned char a[N], b[N];

	(void)state;
	rng_seed(2);
	for (size_t s = 0; s < 40; s++) {
		for (size_t d = 0; d < 40; d++) {
			for (size_t n = 0; n + (s > d ? s : d) <= N; n += 3) {
				fill_random(a, N);
				memcpy(b, a, N);
				assert_ptr_equal(rt_memmove(a + d, a + s, n), a + d);
				memmove(b + d, b + s, n);
				assert_memory_equal(a, b, N);
			}
		}
	}
}

/* A random string over "ab" (and sometimes "abc") of length up to max. */
static void random_string(char *s, size_t max)
{
	size_t n = rng_below(max + 1);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)('a' + rng_below(i % 5 ? 2 : 3));
	s[n] = '\0';
}

/* Comparisons, searches and copies of random strings. */
static void test_random_strings(void **state)
{
	char x[16], y[16], a[40], b[40];

	(void)state;
	rng_seed(3);
	for (int iter = 0; iter < 200000; iter++) {
		size_t n = rng_below(12);
		int c = 'a' + (int)rng_below(4);

		random_string(x, 10);
		random_string(y, 10);
		assert_int_equal(rt_strlen(x), strlen(x));
		assert_int_equal(rt_strnlen(x, n), strnlen(x, n));
		assert_int_equal(sign(rt_strcmp(x, y)), sign(strcmp(x, y)));
		assert_int_equal(sign(rt_strncmp(x, y, n)), sign(strncmp(x, y, n)));
		assert_int_equal(sign(rt_memcmp(x, y, n)), sign(memcmp(x, y, n)));
		assert_ptr_equal(rt_memchr(x, c, n), memchr(x, c, n));
		assert_ptr_equal(rt_strchr(x, c), strchr(x, c));
		assert_ptr_equal(rt_strchr(x, 0), strchr(x, 0));
		assert_ptr_equal(rt_strrchr(x, c), strrchr(x, c));
		assert_ptr_equal(rt_strstr(x, y), strstr(x, y));
		memset(a, 0x77, sizeof(a));
		memset(b, 0x77, sizeof(b));
		assert_ptr_equal(rt_strcpy(a, x), a);
		strcpy(b, x);
		assert_memory_equal(a, b, sizeof(a));
		assert_ptr_equal(rt_strcat(a, y), a);
		strcat(b, y);
		assert_memory_equal(a, b, sizeof(a));
		assert_ptr_equal(rt_strncpy(a, y, n), a);
		strncpy(b, y, n);
		assert_memory_equal(a, b, sizeof(a));
	}
}

/* Bytes above 0x7f compare as unsigned char. */
static void test_unsigned_compare(void **state)
{
	(void)state;
	assert_true(rt_strcmp("\x80", "\x7f") > 0);
	assert_true(rt_strncmp("a\xff", "a\x01", 2) > 0);
	assert_true(rt_memcmp("\xfe", "\x01", 1) > 0);
	assert_string_equal(rt_strstr("abc", ""), "abc");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_and_fill),
	    cmocka_unit_test(test_memmove),
	    cmocka_unit_test(test_random_strings),
	    cmocka_unit_test(test_unsigned_compare),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
