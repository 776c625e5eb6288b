/*
 * The input buffer: a ring of INPUT_MAX bytes typed and not yet read,
 * filled at interrupts whether or not anybody reads (a full buffer drops
 * what comes next). Typed bytes are echoed, so the one typing sees them:
 * a newline as "\r\n", a backspace (or DEL) erases the last byte of the
 * line not yet ended. A '\r' is a newline, and a '\n' right after it is
 * dropped (a terminal may send both). Ctrl-C (0x03) is kept and ends the
 * line at once (echoed "^C"): a line reader sees it without waiting for
 * Enter (the shell cancels the line, or ends its foreground program).
 */
#include "console.h"

static uint8_t ring[INPUT_MAX];
static uint32_t head, count; /* the oldest byte, and how many */
static uint32_t line_len;    /* bytes of the line being typed (after the last newline) */
static bool after_cr;

static void echo(const char *s, uint32_t n)
{
	uart_write((const uint8_t *)s, n);
}

void input_put(uint8_t c)
{
	bool cr = c == '\r';

	if (c == '\n' && after_cr) {
		after_cr = false;
		return;
	}
	after_cr = cr;
	if (cr)
		c = '\n';
	if (c == '\b' || c == 0x7F) {
		if (line_len) {
			line_len--;
			count--;
			echo("\b \b", 3);
		}
		return;
	}
	if (c == 0x03) {
		if (count + 2 > INPUT_MAX)
			return;
		ring[(head + count++) % INPUT_MAX] = c;
		ring[(head + count++) % INPUT_MAX] = '\n';
		line_len = 0;
		echo("^C\r\n", 4);
		return;
	}
	if (count == INPUT_MAX)
		return;
	ring[(head + count++) % INPUT_MAX] = c;
	line_len = c == '\n' ? 0 : line_len + 1;
	if (c == '\n')
		echo("\r\n", 2);
	else
		echo((const char *)&c, 1);
}

uint32_t input_count(void)
{
	return count;
}

uint32_t input_take(uint8_t *out, uint32_t max, bool line)
{
	uint32_t n = count < max ? count : max;

	if (line) {
		uint32_t i = 0;

		while (i < n && ring[(head + i) % INPUT_MAX] != '\n')
			i++;
		if (i < n)
			n = i + 1; /* the line and its newline */
		else if (n < max && count < INPUT_MAX)
			return 0; /* no whole line yet (a longer one comes in pieces of max) */
	}
	for (uint32_t i = 0; i < n; i++)
		out[i] = ring[(head + i) % INPUT_MAX];
	head = (head + n) % INPUT_MAX;
	count -= n;
	if (count < line_len)
		line_len = count; /* the unfinished line was taken in part */
	return n;
}
