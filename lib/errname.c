/*
 * mica_error_name (include/mica/errname.h): the name of an error code, from
 * the one list of codes (MICA_ERRORS in include/mica/error.h), so a code
 * added there is named here with no edit. Freestanding: built into the
 * kernel (lib/) and into libipc (the Makefile), and tested on the host
 * (tests/host/test_errname.c).
 */
#include <mica/errname.h>
#include <mica/error.h>

/* Each code's name without the five characters of "MICA_". */
#define ERRNAME_CASE(name, value, text)                                                            \
	case value:                                                                                \
		return &#name[5];

const char *mica_error_name(long err)
{
	switch (err) {
		MICA_ERRORS(ERRNAME_CASE)
	}
	return "unknown";
}
