/*
 * printf formatting (format.c): the conversions d i u o x X p s c %, the
 * flags - 0 + space #, width and precision (numbers or *), and the length
 * modifiers hh h l ll z t j. Text goes to a sink (rt.h): a fixed buffer
 * for snprintf, a buffer flushed to the console for printf (stdio.c).
 */
#include "rt.h"

#define F_LEFT  1u
#define F_ZERO  2u
#define F_PLUS  4u
#define F_SPACE 8u
#define F_ALT   16u

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE, LEN_PTRDIFF, LEN_MAX };

/* One conversion's flags, width and precision (prec < 0: none). */
struct spec {
	unsigned flags;
	int width;
	int prec;
	enum length len;
};

static void put(struct rt_sink *s, char c)
{
	if (s->len == s->cap && s->flush)
		s->flush(s);
	if (s->len < s->cap)
		s->buf[s->len++] = c;
	s->total++;
}

static void put_n(struct rt_sink *s, char c, long n)
{
	while (n-- > 0)
		put(s, c);
}

static void put_str(struct rt_sink *s, const char *p, size_t n)
{
	while (n--)
		put(s, *p++);
}

/* Text of len bytes, padded with spaces to the width. */
static void put_padded(struct rt_sink *s, const struct spec *sp, const char *p, size_t len)
{
	long pad = sp->width - (long)len;

	if (!(sp->flags & F_LEFT))
		put_n(s, ' ', pad);
	put_str(s, p, len);
	if (sp->flags & F_LEFT)
		put_n(s, ' ', pad);
}

/* An integer: sign or base prefix, zeros from the precision or the 0 flag, digits, padding. */
static void put_int(struct rt_sink *s, const struct spec *sp, uint64_t v, int negative,
                    unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24];
	const char *prefix = "";
	int n = 0;
	long zeros, pad;

	while (v) {
		buf[sizeof(buf) - ++n] = digits[v % base];
		v /= base;
	}
	if (negative)
		prefix = "-";
	else if (sp->flags & F_PLUS)
		prefix = "+";
	else if (sp->flags & F_SPACE)
		prefix = " ";
	else if ((sp->flags & F_ALT) && base == 16 && n)
		prefix = upper ? "0X" : "0x";
	/* the precision is the least number of digits; the default, 1 */
	zeros = (sp->prec < 0 ? 1 : sp->prec) - n;
	if ((sp->flags & F_ALT) && base == 8 && zeros <= 0)
		zeros = 1; /* %#o: the first digit is 0 */
	if (zeros < 0)
		zeros = 0;
	pad = sp->width - (long)rt_strlen(prefix) - zeros - n;
	if ((sp->flags & (F_ZERO | F_LEFT)) == F_ZERO && sp->prec < 0 && pad > 0) {
		zeros += pad;
		pad = 0;
	}
	if (!(sp->flags & F_LEFT))
		put_n(s, ' ', pad);
	put_str(s, prefix, rt_strlen(prefix));
	put_n(s, '0', zeros);
	put_str(s, buf + sizeof(buf) - n, (size_t)n);
	if (sp->flags & F_LEFT)
		put_n(s, ' ', pad);
}

static int64_t arg_signed(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
	case LEN_PTRDIFF:
		return va_arg(*ap, ptrdiff_t); /* size_t's signed twin on x86_64 */
	case LEN_MAX:
		return va_arg(*ap, intmax_t);
	default:
		return va_arg(*ap, int);
	}
}

static uint64_t arg_unsigned(enum length len, va_list *ap)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
	case LEN_PTRDIFF:
		return va_arg(*ap, size_t);
	case LEN_MAX:
		return va_arg(*ap, uintmax_t);
	default:
		return va_arg(*ap, unsigned);
	}
}

/* A decimal number at *p (advanced past it), saturating at 1 << 30. */
static int parse_num(const char **p)
{
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		if (n < (1 << 30) / 10)
			n = n * 10 + (**p - '0');
		(*p)++;
	}
	return n;
}

/* Flags, width, precision and length of the conversion at *p (advanced to its letter). */
static void parse_spec(const char **p, struct spec *sp, va_list *ap)
{
	const char *f = *p;

	sp->flags = 0;
	for (;; f++) {
		if (*f == '-')
			sp->flags |= F_LEFT;
		else if (*f == '0')
			sp->flags |= F_ZERO;
		else if (*f == '+')
			sp->flags |= F_PLUS;
		else if (*f == ' ')
			sp->flags |= F_SPACE;
		else if (*f == '#')
			sp->flags |= F_ALT;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		if (sp->width < 0) { /* a negative width is the - flag */
			sp->flags |= F_LEFT;
			sp->width = sp->width < -(1 << 30) ? 1 << 30 : -sp->width;
		}
		f++;
	} else {
		sp->width = parse_num(&f);
	}
	sp->prec = -1;
	if (*f == '.') {
		f++;
		if (*f == '*') {
			sp->prec = va_arg(*ap, int); /* negative: as if there were none */
			f++;
		} else {
			sp->prec = parse_num(&f);
		}
		if (sp->prec < -1)
			sp->prec = -1;
	}
	sp->len = LEN_INT;
	if (*f == 'h') {
		f++;
		sp->len = *f == 'h' ? (f++, LEN_CHAR) : LEN_SHORT;
	} else if (*f == 'l') {
		f++;
		sp->len = *f == 'l' ? (f++, LEN_LLONG) : LEN_LONG;
	} else if (*f == 'z' || *f == 't' || *f == 'j') {
		sp->len = *f == 'z' ? LEN_SIZE : *f == 't' ? LEN_PTRDIFF : LEN_MAX;
		f++;
	}
	*p = f;
}

/*
 * rt_vformat: format fmt and its arguments into s as C99 printf does;
 * returns the number of bytes produced (kept or not), or -1 if that does
 * not fit an int. An unknown conversion is copied out as written.
 */
int rt_vformat(struct rt_sink *s, const char *fmt, va_list ap)
{
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		const char *start = fmt;
		struct spec sp;
		int64_t v;
		char c;

		if (*fmt != '%') {
			put(s, *fmt++);
			continue;
		}
		fmt++;
		parse_spec(&fmt, &sp, &args);
		switch (*fmt) {
		case 'd':
		case 'i':
			v = arg_signed(sp.len, &args);
			put_int(s, &sp, v < 0 ? 0 - (uint64_t)v : (uint64_t)v, v < 0, 10, 0);
			break;
		case 'u':
			sp.flags &= ~(F_PLUS | F_SPACE);
			put_int(s, &sp, arg_unsigned(sp.len, &args), 0, 10, 0);
			break;
		case 'o':
			sp.flags &= ~(F_PLUS | F_SPACE);
			put_int(s, &sp, arg_unsigned(sp.len, &args), 0, 8, 0);
			break;
		case 'x':
		case 'X':
			sp.flags &= ~(F_PLUS | F_SPACE);
			put_int(s, &sp, arg_unsigned(sp.len, &args), 0, 16, *fmt == 'X');
			break;
		case 'p': {
			void *p = va_arg(args, void *);

			if (!p) {
				sp.prec = -1;
				put_padded(s, &sp, "(nil)", 5);
				break;
			}
			sp.flags = (sp.flags & F_LEFT) | F_ALT;
			put_int(s, &sp, (uintptr_t)p, 0, 16, 0);
			break;
		}
		case 's': {
			const char *str = va_arg(args, const char *);

			if (!str)
				str = "(null)";
			put_padded(s, &sp, str,
			           sp.prec < 0 ? rt_strlen(str) : rt_strnlen(str, (size_t)sp.prec));
			break;
		}
		case 'c':
			c = (char)va_arg(args, int);
			put_padded(s, &sp, &c, 1);
			break;
		case '%':
			put(s, '%');
			break;
		default: /* not a conversion: copy it, up to and including this character */
			if (!*fmt)
				fmt--;
			put_str(s, start, (size_t)(fmt + 1 - start));
			break;
		}
		fmt++;
	}
	va_end(args);
	return s->total > 0x7FFFFFFF ? -1 : (int)s->total;
}

/* vsnprintf: at most n - 1 bytes and a NUL into buf (nothing if n = 0); returns the full length. */
int rt_vsnprintf(char *buf, size_t n, const char *fmt, va_list ap)
{
	struct rt_sink s = {.buf = buf, .cap = n ? n - 1 : 0};
	int r = rt_vformat(&s, fmt, ap);

	if (n)
		buf[s.len] = '\0';
	return r;
}

/* snprintf: as rt_vsnprintf. */
int rt_snprintf(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = rt_vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

RT_ALIAS(vsnprintf, rt_vsnprintf)
RT_ALIAS(snprintf, rt_snprintf)
