/*
 * The command-line parser shared by the kernel and the pager (one source,
 * built into both): words, key=value, the last of a repeated key, numbers.
 * Freestanding: no libc, no allocation; it only reads the line it is given.
 */
#ifndef MICA_CMDPARSE_H
#define MICA_CMDPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest command line read, with its NUL: 4095 characters (docs/ARCHITECTURE.md). */
#define CMDPARSE_MAX 4096

/*
 * One word of a line: key, then value after the first '=' (has_value false
 * for a bare key such as "pager.measure", whose value is empty). Both point
 * into the line, which is not changed, and are not NUL-terminated.
 */
struct cmdparse_word {
	const char *key;
	size_t keylen;
	const char *value;
	size_t valuelen;
	bool has_value;
};

/* What cmdparse_u64 found in a value. */
enum cmdparse_num {
	CMDPARSE_NUM_OK,
	CMDPARSE_NUM_EMPTY,   /* no digits */
	CMDPARSE_NUM_INVALID, /* something other than a decimal digit */
	CMDPARSE_NUM_RANGE,   /* more than 64 bits */
};

size_t cmdparse_len(const char *line, size_t max);
bool cmdparse_next(const char *line, size_t len, size_t *pos, struct cmdparse_word *w);
bool cmdparse_key_is(const struct cmdparse_word *w, const char *key);
size_t cmdparse_find(const char *line, size_t len, const char *key, struct cmdparse_word *w);
size_t cmdparse_cut(const char *line, size_t len, size_t cap);
bool cmdparse_copy(const char *s, size_t n, char *out, size_t cap);
bool cmdparse_value_is(const struct cmdparse_word *w, const char *value);
enum cmdparse_num cmdparse_u64(const char *s, size_t n, uint64_t *out);
const char *cmdparse_num_why(enum cmdparse_num r);

#endif /* MICA_CMDPARSE_H */
