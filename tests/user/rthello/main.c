/*
 * A program on the user runtime, started by the pager with argc and argv:
 * printf, and malloc over the pager's sbrk. tests/system/test_runtime.py
 * boots it and checks its TEST lines.
 */
#include <idl/pager_client.h>
#include <malloc.h>
#include <startup.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures; /* the exit code: a failed test fails the program, and so the run */

static void result(const char *id, const char *fail, long detail)
{
	if (fail) {
		printf("TEST runtime.%s FAIL %s %ld\n", id, fail, detail);
		failures++;
	} else {
		printf("TEST runtime.%s PASS\n", id);
	}
}

/* The pager's break for this program. */
static uint64_t brk_now(void)
{
	uint64_t now = 0;

	(void)pager_brk(rt_startup_info()->pager, 0, &now);
	return now;
}

static uint64_t seed = 88172645463325252ULL;

static uint64_t next(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

#define SLOTS 64

/* Random blocks up to 96 KiB, filled, checked, freed: the heap grows and goes back. */
static void test_malloc(void)
{
	static char *p[SLOTS];
	static size_t n[SLOTS];
	const char *bad;
	uint64_t start = brk_now(), top = start;

	for (int op = 0; op < 3000; op++) {
		int i = (int)(next() % SLOTS);

		if (p[i]) {
			for (size_t k = 0; k < n[i]; k += 97)
				if (p[i][k] != (char)(i + k))
					return result("malloc", "contents changed in slot", i);
			free(p[i]);
			p[i] = NULL;
		} else {
			n[i] = 1 + next() % (op % 10 == 0 ? 96 << 10 : 512);
			if (!(p[i] = malloc(n[i])))
				return result("malloc", "malloc failed, size", (long)n[i]);
			for (size_t k = 0; k < n[i]; k += 97)
				p[i][k] = (char)(i + k);
		}
		if ((bad = heap_check()) != NULL) {
			printf("rthello: heap_check: %s\n", bad);
			return result("malloc", "heap_check failed at op", op);
		}
		if (brk_now() > top)
			top = brk_now();
	}
	for (int i = 0; i < SLOTS; i++)
		free(p[i]);
	malloc_trim();
	if (top <= start)
		return result("malloc", "the heap never grew", 0);
	if (brk_now() != start)
		return result("malloc", "the heap did not go back: bytes left",
		              (long)(brk_now() - start));
	printf("rthello: the heap grew to %lu KiB and went back\n",
	       (unsigned long)((top - start) >> 10));
	result("malloc", NULL, 0);
}

static void test_calloc_realloc(void)
{
	unsigned char *z = calloc(1000, 8);
	if (!z)
		return result("calloc_realloc", "calloc failed", 0);
	for (int i = 0; i < 8000; i++)
		if (z[i])
			return result("calloc_realloc", "calloc memory not zero at", i);
	memset(z, 0x5a, 8000);
	z = realloc(z, 200000);
	if (!z || z[7999] != 0x5a)
		return result("calloc_realloc", "realloc lost the contents", 0);
	free(z);
	if (calloc(SIZE_MAX / 2, 4) != NULL)
		return result("calloc_realloc", "calloc overflow not refused", 0);
	result("calloc_realloc", NULL, 0);
}

static void test_printf(void)
{
	char buf[64];
	int n =
	    snprintf(buf, sizeof(buf), "%s=%5d|%-4x|%lu|%c%%", "v", -42, 0xbe, 123456789UL, 'z');

	if (n != 25 || strcmp(buf, "v=  -42|be  |123456789|z%") != 0)
		return result("printf", "snprintf gave length", n);
	result("printf", NULL, 0);
}

/*
 * Floating point in compiled C: runtime programs are built with SSE (the
 * kernel keeps every thread's FPU/SSE state), so doubles and floats work,
 * and the results are exact where IEEE 754 says they are. volatile keeps
 * the compiler from folding the sums at build time.
 */
static void test_float(void)
{
	volatile double third = 1.0, three = 3.0, sum = 0.0;
	volatile float half = 0.5f;
	double x = 1.0;

	third = third / three;
	for (int i = 0; i < 3; i++)
		sum = sum + third;
	/* 1/3 + 1/3 + 1/3 rounds to exactly 1.0 in binary64. */
	if (sum != 1.0)
		return result("float", "1/3 * 3 is not 1, bits", (long)(sum * 1e9));
	/* Newton's square root of 2 to full precision: x*x within one ulp of 2. */
	for (int i = 0; i < 8; i++)
		x = (x + 2.0 / x) / 2.0;
	if (x * x < 2.0 - 4.5e-16 || x * x > 2.0 + 4.5e-16 || (long)(x * 1e6) != 1414213)
		return result("float", "sqrt(2) wrong, x * 1e6", (long)(x * 1e6));
	if ((double)half * 4.0 != 2.0 || (int)(half * 7.0f) != 3)
		return result("float", "float arithmetic wrong", 0);
	result("float", NULL, 0);
}

int main(int argc, char **argv)
{
	printf("rthello: %d argument%s:", argc, argc == 1 ? "" : "s");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\n");
	result("args",
	       argc == 2 && strcmp(argv[0], "rthello.elf") == 0 && strcmp(argv[1], "one") == 0
	           ? NULL
	           : "argv wrong, argc",
	       argc);
	test_printf();
	test_float();
	test_calloc_realloc();
	test_malloc();
	return failures ? 1 : 0;
}
