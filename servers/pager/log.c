/*
 * The pager's serial output: strings, numbers and its fixed count line,
 * written with debug_write (no libc in the pager).
 */
#include "pager.h"

/*
 * The line being built: log_str adds to it, and it goes out whole, in one
 * debug_write, when it ends ('\n') or fills (a system call per line, not
 * per piece; the pager has one thread). log_flush writes out the rest.
 */
static char line[160];
static uint64_t used;

/* Write out what the line holds. */
void log_flush(void)
{
	if (used)
		mica_debug_write(line, used);
	used = 0;
}

/* Print s as it is (at the end of its line). */
void log_str(const char *s)
{
	for (; *s; s++) {
		line[used++] = *s;
		if (*s == '\n' || used == sizeof(line))
			log_flush();
	}
}

/* Print v in decimal. */
void log_num(uint64_t v)
{
	char buf[24];
	int i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	log_str(&buf[i]);
}

/* Print v as 0x followed by hex digits. */
void log_hex(uint64_t v)
{
	char buf[24];
	int i = sizeof(buf);

	buf[--i] = '\0';
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	log_str(&buf[i]);
}

/*
 * The fixed line tests read (docs/ARCHITECTURE.md, "Fixed serial lines"):
 * the pool's free frames, its total, the largest free order and the frames
 * donated to the kernel, tagged with when (start, idle).
 */
void log_counts(const char *when)
{
	int largest = buddy_largest_free_order(&pool);

	log_str("pager: ");
	log_str(when);
	log_str(" free=");
	log_num(buddy_free_count(&pool));
	log_str(" total=");
	log_num(buddy_pool_count(&pool));
	log_str(" largest=");
	if (largest < 0)
		log_str("-1");
	else
		log_num((uint64_t)largest);
	log_str(" donated=");
	log_num(pool_donated);
	log_str("\n");
}
