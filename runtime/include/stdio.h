/*
 * Formatted output (runtime/format.c, runtime/stdio.c). There are no
 * streams: printf, puts and putchar write to the console server once it
 * is registered, else to the kernel's debug console (runtime/stdio.c).
 * Conversions: d i u o x X p s c %; flags - 0 + space #; width and
 * precision (numbers or *); lengths hh h l ll z t j. No floating point.
 */
#ifndef RUNTIME_STDIO_H
#define RUNTIME_STDIO_H

#include <stdarg.h>
#include <stddef.h>

#define EOF (-1)

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int puts(const char *s);
int putchar(int c);

/*
 * Mica's own: write n bytes as one write (through the console server, or
 * directly if there is none or it fails); and opt out of the console for
 * good (init, the console and what it calls: runtime/README.md).
 */
void rt_stdout_write(const void *s, size_t n);
void rt_stdout_direct(void);

#endif /* RUNTIME_STDIO_H */
