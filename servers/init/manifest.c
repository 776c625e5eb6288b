/*
 * The manifest: a boot module of plain text, read through pager.module_read,
 * one entry per line, '#' to the end of a line a comment:
 *
 *	server <module> [options] [args...]
 *	program <module> [options] [args...]
 *
 * Options, in any order: restart=never|on-failure|always; mem=<pages>, or
 * mem=<n>K|M|G in bytes (the memory limit of the entry's subtree; default
 * none); procs=<n> (its descendants limit; default PROCS_DEFAULT);
 * deadline=<ms> (a server's registration deadline, 1 to DEADLINE_MAX_MS;
 * default DEADLINE_DEFAULT_MS); irq=<line> and ports=<first>-<last> (a
 * driver's interrupt line and I/O ports, numbers in decimal or 0x hex:
 * docs/DRIVERS.md); trace (it may start, stop and dump the kernel's trace
 * buffer through pager.trace: docs/TRACING.md). The limits go to
 * pager.spawn_with, with devices or trace to pager.spawn_driver
 * (servers/pager/README.md).
 *
 * A bad line is reported on serial and skipped.
 */
#include <mica/layout.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init.h"

struct entry entries[ENTRIES_MAX];
unsigned nentries;

/* The next word of *p (up to a space, tab or the end), NUL-terminated in place; NULL if none. */
static char *word(char **p)
{
	char *s = *p;

	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return 0;
	char *w = s;

	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = 0;
	*p = s;
	return w;
}

/* A decimal number, all of s (up to 2^63); false if s is not one. */
static bool number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_C(1) << 63) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return true;
}

/* A port or line number: decimal, or hex after 0x (up to 0xFFFFF); false if s is not one. */
static bool port_number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return number(s, out) && *out <= 0xFFFFF;
	s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9'   ? *s - '0'
		        : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
		        : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10
		                                 : -1;
		if (d < 0 || v > 0xFFFF)
			return false;
		v = v * 16 + (uint64_t)d;
	}
	*out = v;
	return true;
}

/* A mem= value: pages, or bytes with K, M or G (rounded up to pages). 0 if bad. */
static uint64_t mem_pages(char *s)
{
	size_t n = strlen(s);
	unsigned shift = 0;
	uint64_t v;

	if (n && (s[n - 1] == 'K' || s[n - 1] == 'M' || s[n - 1] == 'G')) {
		shift = s[n - 1] == 'K' ? 10 : s[n - 1] == 'M' ? 20 : 30;
		s[n - 1] = 0;
	}
	if (!number(s, &v) || v > (UINT64_C(1) << 40))
		return 0;
	return shift ? ((v << shift) + MICA_PAGE_SIZE - 1) / MICA_PAGE_SIZE : v;
}

/* Parse one line (comment cut off) into the next entry. Returns NULL or what is wrong. */
static const char *parse_line(char *line)
{
	char *p = line, *kind = word(&p), *module, *w;
	struct entry e = {.restart = RESTART_NEVER,
	                  .procs = PROCS_DEFAULT,
	                  .deadline_ms = DEADLINE_DEFAULT_MS,
	                  .irq = -1};

	if (!kind)
		return 0; /* blank */
	/* A kind, a module, and room for the entry. */
	if (strcmp(kind, "server") == 0)
		e.server = true;
	else if (strcmp(kind, "program") != 0)
		return "unknown kind";
	if (!(module = word(&p)))
		return "no module";
	if (strlen(module) > MODULE_MAX)
		return "module name too long";
	if (nentries == ENTRIES_MAX)
		return "too many entries";
	strcpy(e.module, module);
	/* Options (restart=, mem=, procs=, deadline=), then the arguments, as one string. */
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "restart=", 8) == 0) {
			char *policy = word(&p) + 8;

			if (strcmp(policy, "never") == 0)
				e.restart = RESTART_NEVER;
			else if (strcmp(policy, "on-failure") == 0)
				e.restart = RESTART_ON_FAILURE;
			else if (strcmp(policy, "always") == 0)
				e.restart = RESTART_ALWAYS;
			else
				return "bad restart policy";
		} else if (strncmp(p, "mem=", 4) == 0) {
			if (!(e.mem_pages = mem_pages(word(&p) + 4)))
				return "bad mem limit";
		} else if (strncmp(p, "procs=", 6) == 0) {
			if (!number(word(&p) + 6, &e.procs) || !e.procs)
				return "bad procs limit";
		} else if (strncmp(p, "deadline=", 9) == 0) {
			uint64_t ms;

			/* A server's registration deadline (a program's is not used). */
			if (!number(word(&p) + 9, &ms) || ms < 1 || ms > DEADLINE_MAX_MS)
				return "bad deadline";
			e.deadline_ms = (uint32_t)ms;
		} else if (strncmp(p, "irq=", 4) == 0) {
			uint64_t line;

			if (!port_number(word(&p) + 4, &line) || line >= 16)
				return "bad irq";
			e.irq = (int32_t)line;
		} else if (strcmp(p, "trace") == 0 || strncmp(p, "trace ", 6) == 0) {
			(void)word(&p);
			e.trace = true;
		} else if (strncmp(p, "ports=", 6) == 0) {
			char *range = word(&p) + 6, *dash = strchr(range, '-');
			uint64_t first, last;

			if (!dash)
				return "bad ports";
			*dash = 0;
			if (!port_number(range, &first) || !port_number(dash + 1, &last) ||
			    last < first || last > 0xFFFF)
				return "bad ports";
			e.port_first = (uint32_t)first;
			e.port_count = (uint32_t)(last - first + 1);
		} else {
			break;
		}
	}
	while ((w = word(&p))) {
		size_t n = strlen(e.args);

		if (n + (n ? 1 : 0) + strlen(w) > ARGS_MAX)
			return "arguments too long";
		if (n)
			e.args[n++] = ' ';
		strcpy(e.args + n, w);
	}
	entries[nentries++] = e;
	return 0;
}

/*
 * Read module `name` whole (pager.module_read, 4000 bytes a call) and parse
 * it. Returns 0, or the pager's error (MICA_ENOENT: no manifest) or
 * MICA_ENOMEM.
 */
int manifest_load(const char *name)
{
	uint64_t total = 0, got = 0;
	char *text = 0;
	int rc;

	do {
		uint8_t chunk[PAGER_MODULE_READ_DATA_MAX];
		uint32_t len = 0;

		memset(chunk, 0, sizeof(chunk)); /* mapped before the reply lands (main.c) */
		if ((rc = pager_module_read(init_pager, name, got, chunk, &len, &total)) < 0) {
			free(text);
			return rc;
		}
		if (!text && !(text = malloc(total + 1)))
			return MICA_ENOMEM;
		if (got + len > total)
			len = (uint32_t)(total - got);
		memcpy(text + got, chunk, len);
		got += len;
		if (len == 0)
			break;
	} while (got < total);
	text[got] = 0;
	unsigned lineno = 0;

	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n'), *hash;

		lineno++;
		if (nl)
			*nl = 0;
		if ((hash = strchr(line, '#')))
			*hash = 0;
		for (char *c = line; *c; c++)
			if (*c == '\r')
				*c = ' ';
		const char *bad = parse_line(line);

		if (bad)
			printf("init: manifest line %u: %s, skipped\n", lineno, bad);
		line = nl ? nl + 1 : 0;
	}
	free(text);
	return 0;
}
