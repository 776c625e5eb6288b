/*
 * Host unit tests for runtime/format.c: rt_snprintf against the host's
 * snprintf, on a table of formats and on random conversions (flags, width,
 * precision, length, value), each also into buffers too small for it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "runtime/rt.h"
#include "rng.h"

#define BUF 512

/* Compare rt_vsnprintf with vsnprintf into a buffer of n bytes (<= BUF). */
static void compare_n(size_t n, const char *fmt, va_list ap)
{
	char want[BUF], got[BUF];
	va_list ap2;
	int rw, rg;

	memset(want, 0x55, sizeof(want));
	memset(got, 0x55, sizeof(got));
	va_copy(ap2, ap);
	rw = vsnprintf(want, n, fmt, ap);
	rg = rt_vsnprintf(got, n, fmt, ap2);
	va_end(ap2);
	if (rw != rg || memcmp(want, got, sizeof(want)) != 0)
		fail_msg("format \"%s\" into %zu bytes: want %d \"%.*s\", got %d \"%.*s\"", fmt, n,
		         rw, (int)(n ? n - 1 : 0), want, rg, (int)(n ? n - 1 : 0), got);
}

/* Compare fmt with its arguments into a full buffer, an empty one and a random short one. */
static void check(const char *fmt, ...)
{
	va_list ap;
	char tmp[BUF];
	int len;

	va_start(ap, fmt);
	len = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(len >= 0 && len < BUF);
	for (int i = 0; i < 3; i++) {
		size_t n = i == 0 ? BUF : i == 1 ? 0 : rng_below((size_t)len + 2);

		va_start(ap, fmt);
		compare_n(n, fmt, ap);
		va_end(ap);
	}
}

static void test_table(void **state)
{
	(void)state;
	rng_seed(1);
	check("plain text");
	check("");
	check("%%");
	check("%d %i %u", 0, -1, 4000000000u);
	check("%d %d", INT_MIN, INT_MAX);
	check("%ld %ld %lu", LONG_MIN, LONG_MAX, ULONG_MAX);
	check("%lld %llu %llx", LLONG_MIN, ULLONG_MAX, ULLONG_MAX);
	check("%zu %zd %zx", SIZE_MAX, (ptrdiff_t)-5, (size_t)0xabc);
	check("%x %X %#x %#X %#x", 0xdeadbeefu, 0xdeadbeefu, 255u, 255u, 0u);
	check("%o %#o %#o %#.0o %.0o", 8u, 8u, 0u, 0u, 0u);
	check("%lx %lX", 0x123456789abcdefUL, 0xfedcba987654321UL);
	check("%5d|%-5d|%05d|%-05d", 42, 42, 42, 42);
	check("%05d %05d %+05d % 05d", -42, 42, 42, 42);
	check("%.3d %.0d %.0d %5.3d %-5.3d|", 7, 0, 1, -7, 7);
	check("%08.3d|%+.0d|% .0d", 5, 0, 0);
	check("%s|%10s|%-10s|%.2s|%10.2s|%-10.2s|", "hello", "hi", "hi", "hello", "hello", "hello");
	check("%.0s|%.10s|%s", "abc", "abc", "");
	check("%c%c%c|%3c|%-3c|", 'a', 'b', 'c', 'x', 'y');
	check("%p %20p %-20p|", (void *)0x1234, (void *)0xdeadbeef, (void *)0x7fff00001000);
	check("%p %10p", (void *)0, (void *)0);
	check("%*d|%-*d|%*d|%.*d|%.*s|", 6, 1, 6, 2, -6, 3, 4, 5, 3, "abcdef");
	check("%.*d|%.*s", -1, 9, -3, "neg");
	check("%hhd %hhu %hd %hu", 300, 300, 70000, 70000);
	check("%jd %ju %td", (intmax_t)-1, (uintmax_t)7, (ptrdiff_t)-9);
	check("% d % d %+d %+d", 5, -5, 5, -5);
	check("%u %x", -1, -1);
	check("%+u % x", 5u, 5u);
	check("a%db%sc%xd", 1, "two", 3u);
}

/* The C99 return: the length that would have been written, whatever the buffer. */
static void test_return_value(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(rt_snprintf(NULL, 0, "%d", 123456), 6);
	assert_int_equal(rt_snprintf(small, sizeof(small), "%s", "abcdef"), 6);
	assert_string_equal(small, "abc");
	assert_int_equal(rt_snprintf(small, 1, "xyz"), 3);
	assert_string_equal(small, "");
}

/* A random conversion: its format and a matching argument, checked against the host. */
static void random_conversion(void)
{
	static const char convs[] = "diuoxXcsp";
	static const char *const lengths[] = {"", "hh", "h", "l", "ll", "z", "j", "t"};
	static const char *const strings[] = {"", "a", "hello", "a longer string, past widths"};
	char fmt[64];
	char conv = convs[rng_below(sizeof(convs) - 1)];
	const char *len = "";
	size_t n = 0;
	uint64_t v = rng();

	fmt[n++] = '%';
	/* flags: all for numbers; only - for c, s and p (0, +, space and # are undefined there) */
	for (const char *f = "-0+ #"; *f; f++) {
		if (rng_below(4) == 0 && (strchr("diuoxX", conv) || *f == '-'))
			fmt[n++] = *f;
	}
	if (rng_below(2))
		n += (size_t)sprintf(fmt + n, "%d", (int)rng_below(25));
	if (rng_below(2) && conv != 'c' && conv != 'p')
		n += (size_t)sprintf(fmt + n, ".%d", (int)rng_below(22));
	if (strchr("diuoxX", conv))
		len = lengths[rng_below(8)];
	n += (size_t)sprintf(fmt + n, "%s%c", len, conv);
	fmt[n] = '\0';
	/* small values often: zero, one digit, sign edges */
	switch (rng_below(4)) {
	case 0:
		v = rng_below(3) - 1;
		break;
	case 1:
		v = rng_below(1000) - 500;
		break;
	case 2:
		v = (uint64_t)1 << rng_below(64);
		break;
	}
	switch (conv) {
	case 'c':
		check(fmt, (int)(' ' + v % 95));
		break;
	case 's':
		check(fmt, strings[v % 4]);
		break;
	case 'p':
		check(fmt, (void *)(uintptr_t)(v | 1));
		break;
	default:
		if (!strcmp(len, "l") || !strcmp(len, "z") || !strcmp(len, "t"))
			check(fmt, (long)v);
		else if (!strcmp(len, "ll") || !strcmp(len, "j"))
			check(fmt, (long long)v);
		else
			check(fmt, (int)v);
		break;
	}
}

static void test_random(void **state)
{
	(void)state;
	rng_seed(42);
	for (int i = 0; i < 100000; i++)
		random_conversion();
}

/* A sink that flushes: every byte arrives, in order, however small the buffer. */
static char flushed[BUF];
static size_t nflushed;

static void sink_flush(struct rt_sink *s)
{
	memcpy(flushed + nflushed, s->buf, s->len);
	nflushed += s->len;
	s->len = 0;
}

static int format_to_sink(size_t cap, const char *fmt, ...)
{
	char buf[8];
	struct rt_sink s = {.buf = buf, .cap = cap, .flush = sink_flush};
	va_list ap;
	int r;

	nflushed = 0;
	va_start(ap, fmt);
	r = rt_vformat(&s, fmt, ap);
	va_end(ap);
	sink_flush(&s);
	return r;
}

static void test_flushing_sink(void **state)
{
	(void)state;
	for (size_t cap = 1; cap <= 8; cap++) {
		int r = format_to_sink(cap, "%s=%08x, %-6d|", "value", 0xbeefu, -3);

		assert_int_equal(r, 23);
		assert_int_equal(nflushed, 23);
		assert_memory_equal(flushed, "value=0000beef, -3    |", 23);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_return_value),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_flushing_sink),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
