/*
 * The kernel command line. GRUB passes what follows the kernel's path on the
 * multiboot2 line, e.g. "fault=pf ready=exit". The words are read by the
 * parser the pager shares (lib/cmdparse.c): key or key=value, and the last
 * of a repeated key counts. The line is copied (up to CMDPARSE_MAX - 1
 * characters, whole words), so the boot information may go; whatever is
 * cut, repeated or malformed is logged on a "cmdline:" line.
 *
 * Options read by the kernel (docs/ARCHITECTURE.md lists them):
 *   ready=exit   leave QEMU with the success status after "kernel: ready"
 *   idle=exit    leave QEMU once every user thread has exited (sched.c)
 *   reserve=N    frames kept for the kernel instead of the default
 *   selftest=frames, fault=KIND (crash.c)
 */
#include "cmdline.h"
#include "cmdparse.h"
#include "kprintf.h"
#include "types.h"

static char line[CMDPARSE_MAX]; /* the line as given, cut to whole words */
static size_t len;
/* The same line with a NUL after every key and value: values as C strings. */
static char split[CMDPARSE_MAX];

/* Word w's key and value as C strings (in split). */
static const char *key_of(const struct cmdparse_word *w)
{
	return split + (w->key - line);
}

static const char *value_of(const struct cmdparse_word *w)
{
	return split + (w->value - line);
}

/* Log the words nothing will read: malformed ones, and repeats the last one overrides. */
static void report_words(void)
{
	struct cmdparse_word w, last, before;
	size_t pos = 0, n;

	while (cmdparse_next(line, len, &pos, &w)) {
		if (w.keylen == 0) {
			kprintf("cmdline: \"=%s\": no option name, ignored\n", value_of(&w));
			continue;
		}
		/* Once per repeated key, at its first word. */
		if (cmdparse_find(line, (size_t)(w.key - line), key_of(&w), &before) != 0)
			continue;
		n = cmdparse_find(line, len, key_of(&w), &last);
		if (n > 1)
			kprintf("cmdline: %s given %zu times: the last (%s%s%s) counts\n",
			        key_of(&w), n, key_of(&last), last.has_value ? "=" : "",
			        value_of(&last));
	}
}

/*
 * Copy the line s (NUL-terminated) and log what is wrong with it. A line
 * longer than CMDPARSE_MAX - 1 characters is cut before the first word that
 * does not fit, with a log line.
 */
void cmdline_init(const char *s)
{
	size_t full = cmdparse_len(s, SIZE_MAX), pos = 0;
	struct cmdparse_word w;

	len = cmdparse_cut(s, full, sizeof(line));
	for (size_t i = 0; i < len; i++)
		line[i] = split[i] = s[i];
	line[len] = split[len] = '\0';
	if (len < full)
		kprintf(
		    "cmdline: the line has %zu characters, more than %d: cut to the first %zu\n",
		    full, CMDPARSE_MAX - 1, len);
	while (cmdparse_next(line, len, &pos, &w)) {
		split[w.key - line + w.keylen] = '\0';
		split[w.value - line + w.valuelen] = '\0';
	}
	report_words();
}

/* The value of the last `key` on the line; "" for a bare key; NULL if absent. */
const char *cmdline_get(const char *key)
{
	struct cmdparse_word w;

	return cmdparse_find(line, len, key, &w) ? value_of(&w) : NULL;
}

/*
 * The value of `key` as a decimal number, or `dflt` if it is absent, or
 * (with a log line) not a number that fits in 64 bits.
 */
uint64_t cmdline_get_u64(const char *key, uint64_t dflt)
{
	struct cmdparse_word w;
	enum cmdparse_num r;
	uint64_t n;

	if (!cmdparse_find(line, len, key, &w))
		return dflt;
	r = cmdparse_u64(w.value, w.valuelen, &n);
	if (r == CMDPARSE_NUM_OK)
		return n;
	kprintf("cmdline: %s=%s: %s, ignored\n", key, value_of(&w), cmdparse_num_why(r));
	return dflt;
}

/*
 * Copy the line for a task's boot-info page: out gets at most cap - 1
 * characters, whole words only (a cut word could change a value), with a
 * log line saying what the task does not see.
 */
void cmdline_copy(char *out, size_t cap)
{
	size_t n = cmdparse_cut(line, len, cap);
	struct cmdparse_word w;

	if (cap == 0)
		return;
	for (size_t i = 0; i < n; i++)
		out[i] = line[i];
	out[n] = '\0';
	if (cmdparse_next(line, len, &n, &w))
		kprintf("cmdline: the first task's boot info holds %zu characters: the words from "
		        "\"%s\" on are not passed to it\n",
		        cap - 1, key_of(&w));
}
