/*
 * The runtime's private header: the cores of the C library under rt_ names,
 * so that the host tests can link them beside the host's own libc. The
 * freestanding build gives each the standard name too (an alias in the file
 * that defines it, under #ifndef MICA_HOST).
 */
#ifndef RUNTIME_RT_H
#define RUNTIME_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* In the freestanding build, make `std` a second name of the core function `rt`. */
#ifdef MICA_HOST
#define RT_ALIAS(std, rt)
#else
#define RT_ALIAS(std, rt) extern __typeof__(rt) std __attribute__((alias(#rt)));
#endif

/* ---- string.c: memory and string functions, as C11 specifies them ---- */
void *rt_memcpy(void *restrict dst, const void *restrict src, size_t n);
void *rt_memmove(void *dst, const void *src, size_t n);
void *rt_memset(void *dst, int c, size_t n);
int rt_memcmp(const void *a, const void *b, size_t n);
void *rt_memchr(const void *s, int c, size_t n);
size_t rt_strlen(const char *s);
size_t rt_strnlen(const char *s, size_t max);
int rt_strcmp(const char *a, const char *b);
int rt_strncmp(const char *a, const char *b, size_t n);
char *rt_strchr(const char *s, int c);
char *rt_strrchr(const char *s, int c);
char *rt_strcpy(char *restrict dst, const char *restrict src);
char *rt_strncpy(char *restrict dst, const char *restrict src, size_t n);
char *rt_strcat(char *restrict dst, const char *restrict src);
char *rt_strstr(const char *hay, const char *needle);

/* ---- format.c: printf formatting ---- */

/*
 * Where formatted text goes: buf[0, cap) fills up; when it is full, flush
 * (if not NULL) is called to empty it, else further text is dropped. total
 * counts every byte produced, kept or not.
 */
struct rt_sink {
	char *buf;
	size_t cap;
	size_t len;
	size_t total;
	void (*flush)(struct rt_sink *s);
};

/* Format into sink s as C99 printf does; returns the bytes produced, or -1 for too many. */
int rt_vformat(struct rt_sink *s, const char *fmt, va_list ap);
/* C99 vsnprintf: writes at most n - 1 bytes and a NUL; returns the full length. */
int rt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int rt_snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- malloc.c: the heap ---- */
void *rt_malloc(size_t n);
void rt_free(void *p);
void *rt_calloc(size_t count, size_t size);
void *rt_realloc(void *p, size_t n);
/* Give the free block at the top of the heap, whatever its size, back through rt_sbrk. */
void rt_malloc_trim(void);

/* What the heap holds now. */
struct rt_heap_stats {
	size_t heap_bytes;  /* from the heap's start to the break */
	size_t used_bytes;  /* in blocks given out, headers included */
	size_t free_bytes;  /* in free blocks */
	size_t used_blocks; /* blocks given out */
	size_t free_blocks; /* free blocks */
};
void rt_heap_stats(struct rt_heap_stats *st);

/* Walk the whole heap and every free list; NULL if consistent, else what is wrong. */
const char *rt_heap_check(void);

/*
 * Forget the heap without freeing anything: the next allocation starts a
 * new one at the current break. For the host tests, which reset the fake
 * break between tests.
 */
void rt_heap_forget(void);

/* ---- sbrk.c: where the heap's memory comes from ---- */

/*
 * Move the program break by delta bytes (delta < 0 gives memory back);
 * returns the old break, or (void *)-1 if the break cannot move.
 * rt_sbrk(0) returns the break.
 */
void *rt_sbrk(intptr_t delta);

/* ---- IPC buffers (crt0.c): each thread's, a page of its own stack ---- */
struct mica_ipc_buffer;
long rt_ipc_buffer_take(struct mica_ipc_buffer *b);

/* ---- fork.c's helpers in the other files: the locks held across a fork, the child's state ---- */
struct mica_fork_info;
void rt_heap_fork_lock(void);
void rt_heap_fork_unlock(void);
void rt_stdout_fork_lock(void);
void rt_stdout_fork_unlock(void);
/* In the child: the console's handle was the parent's; look it up again, and let the lock go. */
void rt_stdout_forked(void);
/* In the child: its pid and handles (the startup info reports them from now on). */
void rt_startup_forked(const struct mica_fork_info *fi);

/* ---- crt0.c: the program's start ---- */
#include "include/startup.h" /* rt_startup_info (by path: the host tests have no -Iruntime/include) */

#endif /* RUNTIME_RT_H */
