/*
 * Fuzz target: the command-line parser (lib/cmdparse.c) and the kernel's
 * use of it (kernel/cmdline.c) over any bytes. The parser reads only the
 * length it is given (the line sits in a buffer of exactly that size, no
 * NUL after it); every word lies inside the line and splits at its first
 * '='; find returns the last word with a key; cut keeps whole words within
 * the limit; numbers agree with a plain reference. The kernel's line gives
 * the same values as the parser over the same text.
 */
#include <stdarg.h>
#include <string.h>

#include "cmdline.h"
#include "cmdparse.h"
#include "fuzz.h"
#include "kprintf.h"

/* The kernel's console: formatted and dropped (the format is checked by the compiler). */
void kprintf(const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Decimal s[0, n) by the obvious long-hand rule, for comparison. */
static enum cmdparse_num reference_u64(const char *s, size_t n, uint64_t *out)
{
	unsigned __int128 v = 0;

	if (n == 0)
		return CMDPARSE_NUM_EMPTY;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return CMDPARSE_NUM_INVALID;
	for (size_t i = 0; i < n; i++) {
		v = v * 10 + (unsigned)(s[i] - '0');
		if (v > UINT64_MAX)
			return CMDPARSE_NUM_RANGE;
	}
	*out = (uint64_t)v;
	return CMDPARSE_NUM_OK;
}

/* Every word of line: inside it, separated as the rules say; find agrees. */
static void check_words(const char *line, size_t len)
{
	struct cmdparse_word w, found;
	size_t pos = 0, words = 0, end = cmdparse_len(line, len);

	while (cmdparse_next(line, len, &pos, &w)) {
		size_t wordlen = w.keylen + (w.has_value ? 1 + w.valuelen : 0);

		FUZZ_CHECK(++words <= len);
		FUZZ_CHECK(fuzz_inside(w.key, wordlen, line, end));
		FUZZ_CHECK(wordlen > 0 && pos == (size_t)(w.key - line) + wordlen && pos <= end);
		FUZZ_CHECK(w.key == line || is_space(w.key[-1]));
		FUZZ_CHECK(pos == end || is_space(line[pos]));
		FUZZ_CHECK(memchr(w.key, '=', w.keylen) == NULL);
		for (size_t i = 0; i < wordlen; i++)
			FUZZ_CHECK(!is_space(w.key[i]) && w.key[i] != '\0');
		FUZZ_CHECK(!w.has_value || w.value == w.key + w.keylen + 1);
		if (w.keylen == 0 || w.keylen > 64)
			continue;
		/* find: the last word with this key is at or after this one. */
		char key[65];

		memcpy(key, w.key, w.keylen);
		key[w.keylen] = '\0';
		FUZZ_CHECK(cmdparse_find(line, len, key, &found) >= 1);
		FUZZ_CHECK(found.key >= w.key && cmdparse_key_is(&found, key));
		struct cmdparse_word later;
		size_t p2 = (size_t)(found.key - line) + found.keylen;

		while (cmdparse_next(line, len, &p2, &later))
			FUZZ_CHECK(!cmdparse_key_is(&later, key));
		/* Numbers: as the reference says. */
		uint64_t a = 1, b = 2;
		enum cmdparse_num ra = cmdparse_u64(w.value, w.valuelen, &a);

		FUZZ_CHECK(ra == reference_u64(w.value, w.valuelen, &b));
		FUZZ_CHECK(ra != CMDPARSE_NUM_OK || a == b);
	}
}

/* cut: within cap - 1, whole words (what follows the kept part starts a new word). */
static void check_cut(const char *line, size_t len, size_t cap)
{
	size_t n = cmdparse_cut(line, len, cap);

	FUZZ_CHECK(n <= len);
	if (cap == 0) {
		FUZZ_CHECK(n == 0);
		return;
	}
	FUZZ_CHECK(n <= cap - 1);
	if (n == len)
		return;
	FUZZ_CHECK(len > cap - 1);
	FUZZ_CHECK(n == 0 || is_space(line[n]) || is_space(line[n - 1]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size ? size : 1); /* exactly the line: no NUL after it */

	FUZZ_CHECK(line);
	memcpy(line, data, size);
	check_words(line, size);
	check_cut(line, size, size % 97);
	check_cut(line, size, CMDPARSE_MAX);
	FUZZ_CHECK(cmdparse_len(line, size) <= size);

	/* The kernel's copy, from a NUL-terminated string, answers as the parser does. */
	char *s = malloc(size + 1);

	FUZZ_CHECK(s);
	memcpy(s, data, size);
	s[size] = '\0';
	cmdline_init(s);
	size_t len = cmdparse_cut(s, strlen(s), CMDPARSE_MAX), pos = 0;
	struct cmdparse_word w, last;

	while (cmdparse_next(s, len, &pos, &w)) {
		if (w.keylen == 0 || w.keylen > 64)
			continue;
		char key[65];

		memcpy(key, w.key, w.keylen);
		key[w.keylen] = '\0';
		const char *v = cmdline_get(key);

		FUZZ_CHECK(v && cmdparse_find(s, len, key, &last) >= 1);
		FUZZ_CHECK(strlen(v) == last.valuelen && memcmp(v, last.value, last.valuelen) == 0);
		(void)cmdline_get_u64(key, 0);
	}
	char out[128];

	cmdline_copy(out, sizeof(out));
	FUZZ_CHECK(strlen(out) < sizeof(out) && strncmp(out, s, strlen(out)) == 0);
	free(s);
	free(line);
	return 0;
}
