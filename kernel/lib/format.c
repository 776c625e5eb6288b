/*
 * A small printf formatter: flags '-' and '0', a field width (a number or
 * '*'), the length modifiers hh, h, l, ll, z and j, and the conversions
 * d i u x X o p s c %. No floating point (the kernel has no FPU state).
 * Widths above 4096 are cut to 4096. Output is truncated to the buffer,
 * always NUL-terminated when size > 0;
 * the return value is the length the full output would have had.
 */
#include <stdbool.h>
#include <stdint.h>
#include "lib/format.h"

#define FMT_MAX_WIDTH 4096
#define MIN_INT(a, b) ((a) < (b) ? (a) : (b))

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	int fill = width > (int)n ? width - (int)n : 0;

	if (!left) {
		/* Zero padding goes after the sign. */
		if (pad == '0' && n > 0 && s[0] == '-') {
			put(o, '-');
			s++, n--;
		}
		while (fill-- > 0)
			put(o, pad);
	}
	while (n--)
		put(o, *s++);
	while (left && fill-- > 0)
		put(o, ' ');
}

/* Digits of v in base 2..16, most significant first, into tmp; returns count. */
static size_t utoa(char *tmp, uintmax_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char rev[64];
	size_t n = 0, i = 0;

	do {
		rev[n++] = digits[v % base];
		v /= base;
	} while (v);
	while (n)
		tmp[i++] = rev[--n];
	return i;
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			put(&o, *fmt);
			continue;
		}
		fmt++;
		bool left = false;
		char pad = ' ';
		for (;; fmt++) {
			if (*fmt == '-')
				left = true;
			else if (*fmt == '0')
				pad = '0';
			else
				break;
		}
		/* Widths are capped at FMT_MAX_WIDTH, which also keeps them from overflowing. */
		int width = 0;
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = true;
				width = width < -FMT_MAX_WIDTH ? FMT_MAX_WIDTH : -width;
			}
			width = MIN_INT(width, FMT_MAX_WIDTH);
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9') {
			width = width * 10 + (*fmt++ - '0');
			width = MIN_INT(width, FMT_MAX_WIDTH);
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long / size_t / intmax_t */
		for (;; fmt++) {
			if (*fmt == 'h')
				lng--;
			else if (*fmt == 'l')
				lng++;
			else if (*fmt == 'z' || *fmt == 'j')
				lng = 2;
			else
				break;
		}
		if (left)
			pad = ' ';

		char tmp[80];
		size_t n = 0;
		switch (*fmt) {
		case 'd':
		case 'i': {
			intmax_t v = lng >= 2   ? va_arg(ap, long long)
			             : lng == 1 ? va_arg(ap, long)
			                        : va_arg(ap, int);
			if (lng == -1)
				v = (short)v;
			else if (lng <= -2)
				v = (signed char)v;
			uintmax_t mag = v < 0 ? (uintmax_t)0 - (uintmax_t)v : (uintmax_t)v;
			if (v < 0)
				tmp[n++] = '-';
			n += utoa(tmp + n, mag, 10, false);
			put_padded(&o, tmp, n, width, left, pad);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uintmax_t v = lng >= 2   ? va_arg(ap, unsigned long long)
			              : lng == 1 ? va_arg(ap, unsigned long)
			                         : va_arg(ap, unsigned int);
			if (lng == -1)
				v = (unsigned short)v;
			else if (lng <= -2)
				v = (unsigned char)v;
			unsigned base = *fmt == 'u' ? 10 : *fmt == 'o' ? 8 : 16;
			n = utoa(tmp, v, base, *fmt == 'X');
			put_padded(&o, tmp, n, width, left, pad);
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(ap, void *);
			tmp[0] = '0';
			tmp[1] = 'x';
			n = 2 + utoa(tmp + 2, v, 16, false);
			put_padded(&o, tmp, n, width, left, ' ');
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			size_t len = 0;
			if (!s)
				s = "(null)";
			while (s[len])
				len++;
			put_padded(&o, s, len, width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		case '\0':
			fmt--; /* a lone '%' at the end: stop */
			break;
		default:
			/* Unknown conversion: print it as written. */
			put(&o, '%');
			put(&o, *fmt);
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
