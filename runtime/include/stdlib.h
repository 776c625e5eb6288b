/* The heap (runtime/malloc.c) and the program's end (runtime/exit.c). */
#ifndef RUNTIME_STDLIB_H
#define RUNTIME_STDLIB_H

#include <stddef.h>

#define EXIT_SUCCESS 0
#define EXIT_FAILURE 1

/* 16-byte aligned; malloc(0) gives a unique pointer; NULL when the pager refuses memory. */
void *malloc(size_t n);
void free(void *p);
/* NULL if count * size overflows. */
void *calloc(size_t count, size_t size);
/* realloc(p, 0) keeps a minimal block (it does not free p). */
void *realloc(void *p, size_t n);

__attribute__((noreturn)) void exit(int status);
__attribute__((noreturn)) void abort(void);

#endif /* RUNTIME_STDLIB_H */
