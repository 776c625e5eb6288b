/*
 * Host unit tests for lib/errname.c: every code of include/mica/error.h has
 * its name, a few by hand (as serial lines show them), and values that are
 * no code give "unknown", never NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include <mica/errname.h>
#include <mica/error.h>

/* Each code of the list names itself, without MICA_. */
static void every_code_named(void **state)
{
	(void)state;
#define CHECK_NAME(name, value, text) assert_string_equal(mica_error_name(value), &#name[5]);
	MICA_ERRORS(CHECK_NAME)
#undef CHECK_NAME
}

static void names_by_hand(void **state)
{
	(void)state;
	assert_string_equal(mica_error_name(0), "OK");
	assert_string_equal(mica_error_name(MICA_EINVAL), "EINVAL");
	assert_string_equal(mica_error_name(-5), "ENOENT");
	assert_string_equal(mica_error_name(MICA_ENOMEM), "ENOMEM");
	assert_string_equal(mica_error_name(MICA_ETIMEDOUT), "ETIMEDOUT");
}

static void unknown_values(void **state)
{
	long bad[] = {1, 5, -1000, LONG_MIN, LONG_MAX, (long)INT_MIN - 5};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_string_equal(mica_error_name(bad[i]), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_code_named),
	    cmocka_unit_test(names_by_hand),
	    cmocka_unit_test(unknown_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
