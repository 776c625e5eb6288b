/*
 * Console output (stdio.h): printf and friends over the kernel's debug
 * console. Each call formats into a buffer on its stack and writes it with
 * mica_debug_write whenever it fills and at the end, so one short line is
 * one write. Freestanding build only.
 */
#include <libipc/syscall.h>
#include <stdio.h>
#include "rt.h"

#define OUT_BUF 256 /* <= MICA_DEBUG_WRITE_MAX */

_Static_assert(OUT_BUF <= MICA_DEBUG_WRITE_MAX, "one buffer is one debug_write");

static void console_flush(struct rt_sink *s)
{
	if (s->len)
		mica_debug_write(s->buf, s->len);
	s->len = 0;
}

/* vprintf: format to the console; returns the bytes written, or -1 if more than INT_MAX. */
int vprintf(const char *fmt, va_list ap)
{
	char buf[OUT_BUF];
	struct rt_sink s = {.buf = buf, .cap = sizeof(buf), .flush = console_flush};
	int r = rt_vformat(&s, fmt, ap);

	console_flush(&s);
	return r;
}

/* printf: as vprintf. */
int printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

/* puts: s and a newline, in one write when they fit; returns a non-negative number. */
int puts(const char *s)
{
	return printf("%s\n", s) < 0 ? EOF : 0;
}

/* putchar: one byte; returns it as an unsigned char. */
int putchar(int c)
{
	char ch = (char)c;

	mica_debug_write(&ch, 1);
	return (unsigned char)c;
}
