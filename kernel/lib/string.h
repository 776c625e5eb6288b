/* Freestanding memory and string functions for the kernel. */
#ifndef LIB_STRING_H
#define LIB_STRING_H

#include <stddef.h>

#ifdef MICA_HOST
#include <string.h> /* host tests use the C library's */
#else
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

#endif /* LIB_STRING_H */
