/*
 * Kernel command line. GRUB passes what follows the kernel's path on the
 * multiboot2 line, e.g. "fault=pf ready=exit". Words without '=' are keys
 * with an empty value. The line is copied, so the boot information may go.
 *
 * Options read by the kernel (docs/ARCHITECTURE.md lists them):
 *   ready=exit   leave QEMU with the success status after "kernel: ready"
 *   fault=KIND   provoke a kernel fault at the end of boot (crash.c)
 */
#include "cmdline.h"
#include "lib/string.h"
#include "types.h"

#define CMDLINE_MAX   512
#define CMDLINE_WORDS 32

static char line[CMDLINE_MAX];
static struct {
	const char *key, *value;
} words[CMDLINE_WORDS];
static size_t nwords;

/* Split s into words; a line longer than CMDLINE_MAX - 1 is cut. */
void cmdline_init(const char *s)
{
	size_t n = 0;

	while (s[n] && n < CMDLINE_MAX - 1) {
		line[n] = s[n];
		n++;
	}
	line[n] = '\0';
	nwords = 0;
	for (char *p = line; *p && nwords < CMDLINE_WORDS;) {
		while (*p == ' ')
			*p++ = '\0';
		if (!*p)
			break;
		char *key = p, *value = "";
		bool split = false; /* the first '=' ends the key */
		while (*p && *p != ' ') {
			if (*p == '=' && !split) {
				*p = '\0';
				value = p + 1;
				split = true;
			}
			p++;
		}
		words[nwords].key = key;
		words[nwords].value = value;
		nwords++;
	}
}

/* The value of the last `key` on the line; "" for a bare key; NULL if absent. */
const char *cmdline_get(const char *key)
{
	const char *v = NULL;

	for (size_t i = 0; i < nwords; i++)
		if (strcmp(words[i].key, key) == 0)
			v = words[i].value;
	return v;
}

/*
 * The value of `key` as a decimal number, or `dflt` if it is absent or not
 * a number that fits in 64 bits.
 */
uint64_t cmdline_get_u64(const char *key, uint64_t dflt)
{
	const char *v = cmdline_get(key);
	uint64_t n = 0;

	if (!v || !*v)
		return dflt;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (~0ULL - 9) / 10)
			return dflt;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	return n;
}
