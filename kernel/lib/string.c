/*
 * Freestanding memory and string functions. GCC may emit calls to memset,
 * memcpy, memmove and memcmp on its own, so these names are required.
 */
#include <stdint.h>
#include "lib/string.h"

/*
 * memset and memcpy use the string instructions: `rep stosq`/`rep movsq`
 * for the whole eight-byte words, then `rep stosb`/`rep movsb` for the
 * rest (x86 allows unaligned accesses). The kernel always runs with
 * RFLAGS.DF clear (syscall's FMASK and isr.asm clear it on every entry), so
 * they go upwards. Under QEMU's instruction count every iteration counts as
 * one instruction: a 4 KiB copy is 512 (docs/PERFORMANCE.md).
 */
void *memset(void *dst, int c, size_t n)
{
	void *d = dst;
	size_t words = n >> 3, rest = n & 7;
	uint64_t w = 0x0101010101010101ULL * (unsigned char)c;

	__asm__ volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(w) : "memory");
	__asm__ volatile("rep stosb" : "+D"(d), "+c"(rest) : "a"(w) : "memory");
	return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;
	const void *s = src;
	size_t words = n >> 3, rest = n & 7;

	__asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(words) : : "memory");
	__asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(rest) : : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d < s) {
		while (n--)
			*d++ = *s++;
	} else {
		while (n--)
			d[n] = s[n];
	}
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}
