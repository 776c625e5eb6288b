/*
 * The command-line parser shared by the kernel (kernel/cmdline.c) and the
 * pager (servers/pager/main.c), so that both read one line the same way.
 *
 * The rules (docs/ARCHITECTURE.md, "The kernel command line"): words are
 * separated by spaces (a tab or a newline counts as a space); a word is a
 * key, or key=value split at its first '='; a word with an empty key
 * ("=x") is malformed and ignored; when a key is given more than once the
 * last word counts. Only the first len characters, up to a NUL, are read.
 */
#include "cmdparse.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The length of line: up to its first NUL, at most max. */
size_t cmdparse_len(const char *line, size_t max)
{
	size_t n = 0;

	while (n < max && line[n] != '\0')
		n++;
	return n;
}

/*
 * The next word of line[0, len) at or after *pos, into w; *pos moves past
 * it. Returns false when no word is left. Malformed words (an empty key)
 * are returned too, with keylen 0, so that callers may report them.
 */
bool cmdparse_next(const char *line, size_t len, size_t *pos, struct cmdparse_word *w)
{
	size_t p = *pos;

	/* Skip separators; stop at the end or at a NUL. */
	while (p < len && line[p] != '\0' && is_space(line[p]))
		p++;
	if (p >= len || line[p] == '\0') {
		*pos = p;
		return false;
	}
	size_t start = p;

	while (p < len && line[p] != '\0' && !is_space(line[p]))
		p++;
	*pos = p;
	w->key = line + start;
	w->keylen = p - start;
	w->value = line + p;
	w->valuelen = 0;
	w->has_value = false;
	/* The first '=' ends the key. */
	for (size_t i = start; i < p; i++)
		if (line[i] == '=') {
			w->keylen = i - start;
			w->value = line + i + 1;
			w->valuelen = p - i - 1;
			w->has_value = true;
			break;
		}
	return true;
}

/* Whether w's key is the NUL-terminated key. */
bool cmdparse_key_is(const struct cmdparse_word *w, const char *key)
{
	size_t i = 0;

	for (; i < w->keylen; i++)
		if (key[i] != w->key[i]) /* also stops at key's NUL: w->key has none */
			return false;
	return key[i] == '\0';
}

/*
 * The last word of line[0, len) whose key is key, into w. Returns how many
 * words have that key (0: absent, w untouched; more than 1: a repeat, of
 * which w is the last). An empty key is never found.
 */
size_t cmdparse_find(const char *line, size_t len, const char *key, struct cmdparse_word *w)
{
	struct cmdparse_word cur;
	size_t pos = 0, count = 0;

	if (key[0] == '\0')
		return 0;
	while (cmdparse_next(line, len, &pos, &cur))
		if (cmdparse_key_is(&cur, key)) {
			*w = cur;
			count++;
		}
	return count;
}

/*
 * How much of line[0, len) to keep so that it fits cap - 1 characters
 * without cutting a word: len if it fits, else the end of the last whole
 * word that does (a cut word could change a value: reserve=12 from
 * reserve=1234).
 */
size_t cmdparse_cut(const char *line, size_t len, size_t cap)
{
	if (cap == 0)
		return 0;
	if (len <= cap - 1)
		return len;
	size_t n = cap - 1;

	/* line[n] is kept out; if it starts a new word, all of line[0, n) is whole. */
	if (is_space(line[n]))
		return n;
	while (n > 0 && !is_space(line[n - 1]))
		n--;
	return n;
}

/* Copy s[0, n) to out as a NUL-terminated string. False (out = "") if it needs more than cap. */
bool cmdparse_copy(const char *s, size_t n, char *out, size_t cap)
{
	if (cap == 0)
		return false;
	if (n >= cap) {
		out[0] = '\0';
		return false;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = s[i];
	out[n] = '\0';
	return true;
}

/* Whether w's value is the NUL-terminated value. */
bool cmdparse_value_is(const struct cmdparse_word *w, const char *value)
{
	size_t i = 0;

	for (; i < w->valuelen; i++)
		if (value[i] != w->value[i])
			return false;
	return value[i] == '\0';
}

/* s[0, n) as a decimal number into *out (untouched unless CMDPARSE_NUM_OK). */
enum cmdparse_num cmdparse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0)
		return CMDPARSE_NUM_EMPTY;
	/* Digits only, before any size: "99999999999999999999x" is not a number. */
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return CMDPARSE_NUM_INVALID;
	for (size_t i = 0; i < n; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');

		if (v > (UINT64_MAX - d) / 10)
			return CMDPARSE_NUM_RANGE;
		v = v * 10 + d;
	}
	*out = v;
	return CMDPARSE_NUM_OK;
}

/* The words a log line gives for a cmdparse_u64 result. */
const char *cmdparse_num_why(enum cmdparse_num r)
{
	switch (r) {
	case CMDPARSE_NUM_OK:
		return "a number";
	case CMDPARSE_NUM_EMPTY:
		return "no number";
	case CMDPARSE_NUM_INVALID:
		return "not a number";
	case CMDPARSE_NUM_RANGE:
		return "a number beyond 64 bits";
	}
	return "not a number";
}
