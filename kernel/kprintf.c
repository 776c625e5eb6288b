/*
 * kprintf: formats with fmt_vsnprintf (lib/format.c: d i u x X o p s c,
 * flags - and 0, widths, hh h l ll z j) and writes to the serial console.
 * One call is formatted into a buffer and written at once; longer output
 * is cut and marked with "...".
 */
#include "kprintf.h"
#include "lib/format.h"
#include "serial.h"

#define KPRINTF_MAX 512

void kvprintf(const char *fmt, va_list ap)
{
	char buf[KPRINTF_MAX];
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < (int)sizeof(buf)) {
		serial_write(buf, (size_t)n);
	} else {
		serial_write(buf, sizeof(buf) - 1);
		serial_write("...\n", 4);
	}
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
}
