/*
 * Memory and string functions (string.h). Copies and fills move eight
 * bytes at a time once both sides are aligned.
 */
#include "rt.h"

typedef uint64_t __attribute__((may_alias)) word_t;

void *rt_memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(word_t *)d = *(const word_t *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

void *rt_memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d == s || n == 0)
		return dst;
	if ((uintptr_t)d - (uintptr_t)s >= n) /* d before s, or past its end: copy forward */
		return rt_memcpy(d, s, n);
	while (n--) /* d overlaps s's tail: copy backward */
		d[n] = s[n];
	return dst;
}

void *rt_memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ULL * (unsigned char)c;

	for (; n && ((uintptr_t)d & 7); n--)
		*d++ = (unsigned char)c;
	for (; n >= 8; n -= 8, d += 8)
		*(word_t *)d = w;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int rt_memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	for (; n; n--, x++, y++) {
		if (*x != *y)
			return *x - *y;
	}
	return 0;
}

void *rt_memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;

	for (; n; n--, p++) {
		if (*p == (unsigned char)c)
			return (void *)p;
	}
	return NULL;
}

size_t rt_strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

size_t rt_strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int rt_strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int rt_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

char *rt_strchr(const char *s, int c)
{
	for (;; s++) {
		if (*s == (char)c)
			return (char *)s;
		if (!*s)
			return NULL;
	}
}

char *rt_strrchr(const char *s, int c)
{
	const char *last = NULL;

	for (;; s++) {
		if (*s == (char)c)
			last = s;
		if (!*s)
			return (char *)last;
	}
}

char *rt_strcpy(char *restrict dst, const char *restrict src)
{
	char *d = dst;

	while ((*d++ = *src++))
		;
	return dst;
}

/* Copies at most n bytes of src and pads the rest of dst[0, n) with NULs. */
char *rt_strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}

char *rt_strcat(char *restrict dst, const char *restrict src)
{
	rt_strcpy(dst + rt_strlen(dst), src);
	return dst;
}

char *rt_strstr(const char *hay, const char *needle)
{
	size_t n = rt_strlen(needle);

	for (; *hay; hay++) {
		if (rt_strncmp(hay, needle, n) == 0)
			return (char *)hay;
	}
	return n ? NULL : (char *)hay;
}

RT_ALIAS(memcpy, rt_memcpy)
RT_ALIAS(memmove, rt_memmove)
RT_ALIAS(memset, rt_memset)
RT_ALIAS(memcmp, rt_memcmp)
RT_ALIAS(memchr, rt_memchr)
RT_ALIAS(strlen, rt_strlen)
RT_ALIAS(strnlen, rt_strnlen)
RT_ALIAS(strcmp, rt_strcmp)
RT_ALIAS(strncmp, rt_strncmp)
RT_ALIAS(strchr, rt_strchr)
RT_ALIAS(strrchr, rt_strrchr)
RT_ALIAS(strcpy, rt_strcpy)
RT_ALIAS(strncpy, rt_strncpy)
RT_ALIAS(strcat, rt_strcat)
RT_ALIAS(strstr, rt_strstr)
