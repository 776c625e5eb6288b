/*
 * Shared by the libFuzzer targets (tests/fuzz/README.md): the entry point
 * each defines, and FUZZ_CHECK, which stops the run with the invariant
 * that failed so libFuzzer saves the input as a crash.
 */
#ifndef TESTS_FUZZ_H
#define TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz: invariant failed: %s (%s:%d)\n", #cond, __FILE__,   \
			        __LINE__);                                                         \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* Whether [p, p + n) lies inside [base, base + size). */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t size)
{
	const uint8_t *a = p, *b = base;

	return a >= b && a <= b + size && n <= (size_t)(b + size - a);
}

#endif /* TESTS_FUZZ_H */
