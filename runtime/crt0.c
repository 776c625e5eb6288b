/*
 * Program entry (crt0): _start takes argc, argv and the startup info as
 * include/mica/startup.h says, runs main and exits with its value.
 */
#include <mica/startup.h>
#include <stdlib.h>
#include "rt.h"

int main(int argc, char **argv);
__attribute__((noreturn)) void rt_start(int argc, char **argv, const struct mica_startup *info);

static const struct mica_startup *startup;

/* The zeroed frame pointer ends backtraces; the call leaves RSP 16-byte aligned in rt_start. */
__asm__(".section .text.start\n"
        ".global _start\n"
        "_start:\n"
        "	xorl %ebp, %ebp\n"
        "	andq $-16, %rsp\n"
        "	call rt_start\n"
        "	ud2\n"
        ".text\n");

/* The C side of _start: keep the startup info, run main, exit with what it returns. */
void rt_start(int argc, char **argv, const struct mica_startup *info)
{
	startup = info;
	exit(main(argc, argv));
}

/*
 * The startup info the program was given if it has field `pager` and the
 * ones before it, else NULL. For the runtime's own use (sbrk.c).
 */
const struct mica_startup *rt_startup_info(void)
{
	if (!startup || startup->size < sizeof(*startup))
		return NULL;
	return startup;
}
