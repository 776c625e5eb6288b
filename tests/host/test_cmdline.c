/*
 * Host unit tests for kernel/cmdline.c over the shared parser: words past
 * the 32nd, the last of a repeat, the 4 KiB limit cut at a word, the copy
 * for the first task, and a log line for everything cut, repeated or
 * malformed (reserve=abc).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmdline.h"
#include "cmdparse.h"
#include "kprintf.h"

static char logbuf[65536];
static size_t loglen;

/* The kernel's console, recorded for the checks. */
void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(logbuf + loglen, sizeof(logbuf) - loglen, fmt, ap);
	va_end(ap);
	if (n > 0)
		loglen +=
		    (size_t)n < sizeof(logbuf) - loglen ? (size_t)n : sizeof(logbuf) - loglen - 1;
}

static void init(const char *s)
{
	loglen = 0;
	logbuf[0] = '\0';
	cmdline_init(s);
}

static void test_get(void **state)
{
	(void)state;
	init("ready=exit pager.measure fault=pf");
	assert_string_equal(cmdline_get("ready"), "exit");
	assert_string_equal(cmdline_get("pager.measure"), "");
	assert_string_equal(cmdline_get("fault"), "pf");
	assert_null(cmdline_get("idle"));
	assert_string_equal(logbuf, ""); /* nothing to report */
}

/* idle=exit as the 40th word (the old parser kept 32). */
static void test_past_32_words(void **state)
{
	(void)state;
	char s[512];
	size_t n = 0;

	for (int i = 0; i < 39; i++)
		n += (size_t)snprintf(s + n, sizeof(s) - n, "x%d ", i);
	snprintf(s + n, sizeof(s) - n, "idle=exit");
	init(s);
	assert_non_null(cmdline_get("idle"));
	assert_string_equal(cmdline_get("idle"), "exit");
}

static void test_repeat_logged(void **state)
{
	(void)state;
	init("idle=wait ready=exit idle=exit idle=again idle=exit");
	assert_string_equal(cmdline_get("idle"), "exit");
	assert_non_null(
	    strstr(logbuf, "cmdline: idle given 4 times: the last (idle=exit) counts\n"));
	assert_null(strstr(logbuf, "ready given"));
	/* One line, for the one repeated key. */
	assert_null(strstr(strstr(logbuf, "given") + 1, "given"));
}

static void test_malformed_logged(void **state)
{
	(void)state;
	init("=x ready=exit");
	assert_non_null(strstr(logbuf, "cmdline: \"=x\": no option name, ignored\n"));
	assert_string_equal(cmdline_get("ready"), "exit");
}

static void test_number(void **state)
{
	(void)state;
	init("reserve=2048");
	assert_int_equal(cmdline_get_u64("reserve", 5), 2048);
	assert_int_equal(cmdline_get_u64("other", 5), 5);
	assert_string_equal(logbuf, "");
	init("reserve=abc");
	assert_int_equal(cmdline_get_u64("reserve", 5), 5);
	assert_string_equal(logbuf, "cmdline: reserve=abc: not a number, ignored\n");
	init("reserve=99999999999999999999");
	assert_int_equal(cmdline_get_u64("reserve", 5), 5);
	assert_non_null(strstr(logbuf, "a number beyond 64 bits, ignored"));
	init("reserve");
	assert_int_equal(cmdline_get_u64("reserve", 5), 5);
	assert_non_null(strstr(logbuf, "cmdline: reserve=: no number, ignored"));
}

/* A line past 4095 characters is cut before the first word that does not fit, logged. */
static void test_long_line(void **state)
{
	(void)state;
	size_t total = 6000;
	char *s = malloc(total + 1);
	size_t n = 0;

	assert_non_null(s);
	/* 4090 characters of padding words, then reserve=123456 straddling the limit. */
	while (n < 4090 - 10) {
		memcpy(s + n, "pad=12345 ", 10);
		n += 10;
	}
	memset(s + n, 'q', 4090 - n - 1);
	n = 4090 - 1;
	s[n++] = ' ';
	memcpy(s + n, "reserve=123456 ", 15);
	n += 15;
	while (n < total - 10) {
		memcpy(s + n, "late=1234 ", 10);
		n += 10;
	}
	s[n] = '\0';
	init(s);
	assert_null(cmdline_get("reserve")); /* not "reserve=12345" */
	assert_null(cmdline_get("late"));
	assert_string_equal(cmdline_get("pad"), "12345");
	char want[128];
	snprintf(want, sizeof(want),
	         "cmdline: the line has %zu characters, more than 4095: cut to the first 4090\n",
	         n);
	assert_non_null(strstr(logbuf, want));
	free(s);
}

/* The first task's copy holds whole words; what it misses is logged. */
static void test_copy(void **state)
{
	(void)state;
	char out[16];

	init("ready=exit idle=exit init=x.elf");
	loglen = 0;
	logbuf[0] = '\0';
	cmdline_copy(out, sizeof(out));
	assert_string_equal(out, "ready=exit ");
	assert_non_null(strstr(logbuf, "holds 15 characters: the words from \"idle\" on are not "
	                               "passed to it"));
	char big[64];

	loglen = 0;
	logbuf[0] = '\0';
	cmdline_copy(big, sizeof(big));
	assert_string_equal(big, "ready=exit idle=exit init=x.elf");
	assert_string_equal(logbuf, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_get),           cmocka_unit_test(test_past_32_words),
	    cmocka_unit_test(test_repeat_logged), cmocka_unit_test(test_malformed_logged),
	    cmocka_unit_test(test_number),        cmocka_unit_test(test_long_line),
	    cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
