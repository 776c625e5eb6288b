/*
 * Host unit tests for kernel/lib/format.c: every conversion, flag and
 * length modifier at its limits, and C snprintf truncation semantics.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/format.h"

/*
 * Format into a 256-byte buffer and check both the text and the return
 * value. Not format-checked, so that deliberately odd formats compile.
 */
static void check(const char *want, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	memset(buf, 'X', sizeof(buf));
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_string_equal(buf, want);
	assert_int_equal(n, strlen(want));
}

/* Format with fmt_vsnprintf and the C library, and compare. */
static void same_as_libc(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void same_as_libc(const char *fmt, ...)
{
	char mine[256], libc[256];
	va_list ap, ap2;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n = fmt_vsnprintf(mine, sizeof(mine), fmt, ap);
	int m = vsnprintf(libc, sizeof(libc), fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (strcmp(mine, libc) != 0 || n != m)
		fail_msg("format \"%s\": got \"%s\" (%d), libc \"%s\" (%d)", fmt, mine, n, libc, m);
}

static void test_signed_limits(void **state)
{
	(void)state;
	check("-2147483648", "%d", INT_MIN);
	check("2147483647", "%i", INT_MAX);
	check("0", "%d", 0);
	check("-1", "%d", -1);
	check("-9223372036854775808", "%ld", LONG_MIN);
	check("9223372036854775807", "%ld", LONG_MAX);
	check("-9223372036854775808", "%lld", (long long)INT64_MIN);
	check("-9223372036854775808", "%jd", INTMAX_MIN);
	check("9223372036854775807", "%jd", INTMAX_MAX);
	check("-5", "%zd", (long)-5);
	check("-128", "%hhd", -128);
	check("-56", "%hhd", 200);   /* converted to signed char */
	check("4464", "%hd", 70000); /* converted to short */
	check("-32768", "%hd", 32768);
	check("-1", "%hi", 0xffff);
}

static void test_unsigned_limits(void **state)
{
	(void)state;
	check("4294967295", "%u", UINT_MAX);
	check("4294967295", "%u", -1);
	check("18446744073709551615", "%lu", ULONG_MAX);
	check("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	check("18446744073709551615", "%zu", SIZE_MAX);
	check("18446744073709551615", "%ju", UINTMAX_MAX);
	check("ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
	check("FFFFFFFFFFFFFFFF", "%lX", ULONG_MAX);
	check("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	check("37777777777", "%o", UINT_MAX);
	check("deadbeef", "%x", 0xdeadbeefu);
	check("DEADBEEF", "%X", 0xdeadbeefu);
	check("0", "%x", 0);
	check("0", "%o", 0);
	check("0", "%u", 0);
	check("ff", "%hhx", 0x1ff);
	check("1", "%hu", 65537);
	check("ffff", "%hx", -1);
	/* Without a length modifier only the int is read. */
	check("ffffffff", "%x", -1);
	check("10", "%o", 8);
}

static void test_width_and_flags(void **state)
{
	(void)state;
	check("   42", "%5d", 42);
	check("42   |", "%-5d|", 42);
	check("00042", "%05d", 42);
	check("-0042", "%05d", -42);
	check("  -42", "%5d", -42);
	check("-42  |", "%-05d|", -42); /* '-' wins over '0' */
	check("-42  |", "%0-5d|", -42);
	check("12345", "%3d", 12345); /* width never truncates */
	check("-2147483648", "%05d", INT_MIN);
	check("-00002147483648", "%015d", INT_MIN);
	check("-009223372036854775808", "%022lld", (long long)INT64_MIN);
	check("000000ab", "%08x", 0xab);
	check("ab      |", "%-8x|", 0xab);
	check("00017", "%05o", 15);
	check("0000000000", "%010u", 0);
	check("    1", "%*d", 5, 1);
	check("1    |", "%*d|", -5, 1); /* a negative '*' width left-justifies */
	check("1    |", "%-*d|", 5, 1);
	check("00001", "%0*d", 5, 1);
	check("7", "%*d", 0, 7);
	check("  abc", "%5s", "abc");
	check("abc  |", "%-5s|", "abc");
	check("abcdef", "%3s", "abcdef");
	check("    x", "%5c", 'x');
	check("x    |", "%-5c|", 'x');
	check("%", "%%");
	check("100%", "100%%");
	check("a%b", "a%%b");
}

static void test_pointer(void **state)
{
	(void)state;
	check("0x1234", "%p", (void *)0x1234);
	check("0xffff800000001000", "%p", (void *)0xffff800000001000ULL);
	check("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	check("0x0", "%p", NULL);
	check("      0xab", "%10p", (void *)0xab);
	check("0xab      |", "%-10p|", (void *)0xab);
	/* The '0' flag does not pad between 0x and the digits. */
	check("      0xab", "%010p", (void *)0xab);
}

static void test_strings_and_chars(void **state)
{
	(void)state;
	check("(null)", "%s", (const char *)NULL);
	check("  (null)", "%8s", (const char *)NULL);
	check("", "%s", "");
	check("     ", "%5s", "");
	check("hello, world", "%s, %s", "hello", "world");
	check("A", "%c", 'A');
	check("\xff", "%c", 0xff);

	/* %c of NUL puts a NUL byte into the output and counts it. */
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "a%cb", 0), 3);
	assert_memory_equal(buf, "a\0b\0", 4);
}

static void test_mixed(void **state)
{
	(void)state;
	check("E820: [mem 0x0000000000100000-0x00000000bffdffff] available",
	      "E820: [mem 0x%016lx-0x%016lx] %s", 0x100000UL, 0xbffdffffUL, "available");
	check("frames: total=1 free=2 used=3", "frames: total=%lu free=%lu used=%lu", 1UL, 2UL,
	      3UL);
	check("-1 4294967295 ffffffff 37777777777 a", "%d %u %x %o %c", -1, -1, -1, -1, 'a');
	check("[  -7|8  |0x10]", "[%4hhd|%-3zu|%p]", -7, (size_t)8, (void *)16);
}

static void test_odd_formats(void **state)
{
	(void)state;
	/* An unknown conversion is printed as written and takes no argument. */
	check("%q 5", "%q %d", 5);
	/* A lone '%' at the end stops the output; nothing past the NUL is read. */
	char *fmt = malloc(5);
	assert_non_null(fmt);
	memcpy(fmt, "abc%", 5);
	check("abc", fmt);
	memcpy(fmt, "a%-5", 5);
	check("a", fmt);
	free(fmt);
	check("", "");
	check("no conversions", "no conversions");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[16];

	/* Truncated: size - 1 characters and a NUL; the return is the full length. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 5, "hello world"), 11);
	assert_string_equal(buf, "hell");
	assert_int_equal(buf[5], 'X'); /* nothing written past size */

	/* Exactly fits with its NUL, and one byte short. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 12, "hello world"), 11);
	assert_string_equal(buf, "hello world");
	assert_int_equal(buf[12], 'X');
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 11, "hello world"), 11);
	assert_string_equal(buf, "hello worl");
	assert_int_equal(buf[11], 'X');

	/* Size 1: only the NUL. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 1, "%d", 12345), 5);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'X');

	/* Size 0: nothing written at all, not even a NUL; NULL is allowed. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 0, "%s", "abc"), 3);
	assert_int_equal(buf[0], 'X');
	assert_int_equal(fmt_snprintf(NULL, 0, "%lu-%s", ULONG_MAX, "x"), 22);

	/* Truncation inside padding and inside a number. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 4, "%08x", 0xabcu), 8);
	assert_string_equal(buf, "000");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 6, "%d", INT_MIN), 11);
	assert_string_equal(buf, "-2147");
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, 4, "%-10s|", "ab"), 11);
	assert_string_equal(buf, "ab ");

	/* A width far larger than the buffer. */
	memset(buf, 'X', sizeof(buf));
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%1000d", 1), 1000);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(buf[0], ' ');
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%*d", 300, 1), 300);
}

/*
 * Format into a heap buffer of exactly `size` bytes (ASan catches any
 * overrun); return the formatted length. The caller frees *out.
 */
static int format_heap(char **out, size_t size, const char *fmt, ...)
{
	va_list ap;

	*out = malloc(size);
	assert_non_null(*out);
	memset(*out, 'X', size);
	va_start(ap, fmt);
	int n = fmt_vsnprintf(*out, size, fmt, ap);
	va_end(ap);
	return n;
}

/* buf[from, to) is all c. */
static void expect_run(const char *buf, size_t from, size_t to, char c)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != c)
			fail_msg("byte %zu is '%c', want '%c'", i, buf[i], c);
}

/* Format into an 8-byte buffer (not format-checked: widths gcc warns about). */
static int fmt8(char *tmp, const char *fmt, ...)
{
	va_list ap;

	memset(tmp, 'X', 8);
	va_start(ap, fmt);
	int n = fmt_vsnprintf(tmp, 8, fmt, ap);
	va_end(ap);
	assert_int_equal(strlen(tmp), n < 8 ? n : 7);
	return n;
}

#define CAP 4096 /* the widest field format.c produces */

static void test_width_capped(void **state)
{
	(void)state;
	char *buf;

	/* A '*' width of INT_MIN: left-justified, 4096 wide, no overflow negating it. */
	assert_int_equal(format_heap(&buf, CAP + 1, "%*d", INT_MIN, 5), CAP);
	assert_int_equal(strlen(buf), CAP);
	assert_int_equal(buf[0], '5');
	expect_run(buf, 1, CAP, ' ');
	free(buf);
	/* INT_MAX: right-justified, 4096 wide. */
	assert_int_equal(format_heap(&buf, CAP + 1, "%*d", INT_MAX, 5), CAP);
	assert_int_equal(strlen(buf), CAP);
	expect_run(buf, 0, CAP - 1, ' ');
	assert_int_equal(buf[CAP - 1], '5');
	free(buf);
	/* A written width past the cap, and one that would overflow an int. */
	assert_int_equal(format_heap(&buf, CAP + 1, "%99999d", 5), CAP);
	assert_int_equal(strlen(buf), CAP);
	expect_run(buf, 0, CAP - 1, ' ');
	assert_int_equal(buf[CAP - 1], '5');
	free(buf);
	assert_int_equal(format_heap(&buf, CAP + 1, "%-99999999999999999999d", -7), CAP);
	assert_int_equal(strlen(buf), CAP);
	assert_memory_equal(buf, "-7", 2);
	expect_run(buf, 2, CAP, ' ');
	free(buf);
	/* Zero padding is capped the same way. */
	assert_int_equal(format_heap(&buf, CAP + 1, "%0*d", INT_MAX, -42), CAP);
	assert_int_equal(buf[0], '-');
	expect_run(buf, 1, CAP - 2, '0');
	assert_string_equal(buf + CAP - 2, "42");
	free(buf);

	/* At the cap and just past it, from both sides. */
	char tmp[8];
	assert_int_equal(fmt8(tmp, "%4095d", 1), 4095);
	assert_int_equal(fmt8(tmp, "%4096d", 1), CAP);
	assert_int_equal(fmt8(tmp, "%4097d", 1), CAP);
	assert_int_equal(fmt8(tmp, "%*d", 4097, 1), CAP);
	assert_int_equal(fmt8(tmp, "%*d|", -4096, 1), CAP + 1);
	assert_int_equal(fmt8(tmp, "%*d|", -4097, 1), CAP + 1);
	assert_int_equal(fmt8(tmp, "%*d|", INT_MIN + 1, 1), CAP + 1);
	assert_string_equal(tmp, "1      ");
	/* Every conversion that pads. */
	assert_int_equal(fmt8(tmp, "%*s", INT_MAX, "ab"), CAP);
	assert_int_equal(fmt8(tmp, "%*c", INT_MIN, 'c'), CAP);
	assert_int_equal(fmt8(tmp, "%99999p", (void *)0x10), CAP);
	assert_int_equal(fmt8(tmp, "%*lx", INT_MAX, ULONG_MAX), CAP);
	/* A field longer than the width is never cut. */
	assert_int_equal(fmt8(tmp, "%*s", 1, "abcdef"), 6);

	/* The arguments after a capped '*' are read in order. */
	assert_int_equal(format_heap(&buf, 2 * CAP + 8, "%*d|%*s|%d", INT_MIN, 1, INT_MAX, "x", 9),
	                 2 * CAP + 3);
	assert_int_equal(buf[0], '1');
	assert_int_equal(buf[CAP], '|');
	assert_int_equal(buf[2 * CAP], 'x');
	assert_string_equal(buf + 2 * CAP + 1, "|9");
	free(buf);
	/* Widths up to the cap agree with the C library. */
	same_as_libc("%4096d|%-4000x", 12, 0xabu);
	same_as_libc("%*d|%*s", -4096, 3, 4096, "s");
}

static void test_exact_size_buffer(void **state)
{
	(void)state;
	/* A heap buffer of exactly the size given: ASan catches any overrun. */
	for (size_t size = 1; size <= 24; size++) {
		char *buf = malloc(size);
		assert_non_null(buf);
		int n = fmt_snprintf(buf, size, "%s=%-6d|%08lx", "key", -12, 0xbeefUL);
		assert_int_equal(n, 19);
		assert_int_equal(strlen(buf), size - 1 < 19 ? size - 1 : 19);
		assert_memory_equal(buf, "key=-12   |0000beef", strlen(buf));
		free(buf);
	}
}

static void test_agrees_with_libc(void **state)
{
	(void)state;
	const long long sv[] = {
	    0,         1,        -1,     9,     -10,     127,     -128,
	    255,       32767,    -32768, 65535, INT_MAX, INT_MIN, (long long)UINT_MAX,
	    LLONG_MAX, LLONG_MIN};

	for (size_t i = 0; i < sizeof(sv) / sizeof(sv[0]); i++) {
		long long v = sv[i];

		same_as_libc("%d|%i|%5d|%-5d|%05d|%-12d|%012d", (int)v, (int)v, (int)v, (int)v,
		             (int)v, (int)v, (int)v);
		same_as_libc("%ld|%24ld|%-24ld|%024ld", (long)v, (long)v, (long)v, (long)v);
		same_as_libc("%lld|%jd|%hd|%hhd", v, (intmax_t)v, (short)v, (signed char)v);
		same_as_libc("%u|%x|%X|%o|%8x|%-8X|%08o", (unsigned)v, (unsigned)v, (unsigned)v,
		             (unsigned)v, (unsigned)v, (unsigned)v, (unsigned)v);
		same_as_libc("%lu|%lx|%llX|%llo|%zu|%zx|%ju", (unsigned long)v, (unsigned long)v,
		             (unsigned long long)v, (unsigned long long)v, (size_t)v, (size_t)v,
		             (uintmax_t)v);
		same_as_libc("%hu|%hx|%hhu|%hhx|%hho", (unsigned short)v, (unsigned short)v,
		             (unsigned char)v, (unsigned char)v, (unsigned char)v);
		same_as_libc("%*d|%-*x|%0*u", (int)(v % 30), (int)v, (int)(v % 17), (unsigned)v,
		             (int)(v % 23 < 0 ? -(v % 23) : v % 23), (unsigned)v);
	}
	same_as_libc("%s|%10s|%-10s|%c|%3c|%-3c|%%", "str", "right", "left", 'c', 'd', 'e');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_signed_limits),     cmocka_unit_test(test_unsigned_limits),
	    cmocka_unit_test(test_width_and_flags),   cmocka_unit_test(test_pointer),
	    cmocka_unit_test(test_strings_and_chars), cmocka_unit_test(test_mixed),
	    cmocka_unit_test(test_odd_formats),       cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_exact_size_buffer), cmocka_unit_test(test_agrees_with_libc),
	    cmocka_unit_test(test_width_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
