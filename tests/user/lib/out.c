/* Output and results for test and benchmark programs (out.h). */
#include <libipc/syscall.h>
#include "out.h"

void say(const char *s)
{
	size_t n = 0;

	while (n < MICA_DEBUG_WRITE_MAX && s[n])
		n++;
	mica_debug_write(s, n);
}

void say_num(long v)
{
	char buf[24];
	int i = sizeof(buf);
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	buf[--i] = '\0';
	do {
		buf[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		buf[--i] = '-';
	say(&buf[i]);
}

void result_in(const char *group, const char *id, const char *fail, long detail)
{
	say("TEST ");
	if (group) {
		say(group);
		say(".");
	}
	say(id);
	if (!fail) {
		say(" PASS\n");
		return;
	}
	say(" FAIL ");
	say(fail);
	say(" ");
	say_num(detail);
	say("\n");
}

void result(const char *id, const char *fail, long detail)
{
	result_in(NULL, id, fail, detail);
}
