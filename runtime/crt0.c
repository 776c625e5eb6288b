/*
 * Program entry (crt0): a program the pager starts finds RDI = its startup
 * info (include/mica/pager.h: argc, argv, its pager handle, its heap and
 * stack), with argc and argv also on the stack. _start runs main(argc,
 * argv) and exits with its value.
 */
#include <libipc/ipc.h>
#include <mica/pager.h>
#include <stdlib.h>
#include "rt.h"

int main(int argc, char **argv);
__attribute__((noreturn)) void rt_start(const struct mica_startup *info);

/*
 * The startup info: a copy of what the pager gave (a fork's child
 * changes its pid and handles: rt_startup_forked), and NULL until then.
 */
static struct mica_startup startup_copy;
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

/*
 * Make b (a page of the calling thread's stack) its IPC buffer: touched
 * first, so that the page is mapped (a fault the pager fills) before the
 * kernel checks it. Returns 0 or the kernel's error.
 */
long rt_ipc_buffer_take(struct mica_ipc_buffer *b)
{
	*(volatile uint64_t *)&b->self = 0;
	return mica_ipc_buffer_set(b);
}

/* The C side of _start: keep the startup info, run main, exit with what it returns. */
void rt_start(const struct mica_startup *info)
{
	static char *no_args[] = {NULL};
	/* The first thread's IPC buffer: a page of its stack, for as long as it runs. */
	struct mica_ipc_buffer ipcbuf __attribute__((aligned(MICA_PAGE_SIZE)));

	/* Version 1 lacks only the trailing names field (rt_names_handle says none then). */
	if (info && info->magic == MICA_STARTUP_MAGIC && info->version >= 1 &&
	    info->version <= MICA_STARTUP_VERSION) {
		startup_copy = *info;
		startup = &startup_copy;
		/* Every thread of a program the pager started has one (thread.c, fork.c). */
		ipc_buffers_enable(rt_ipc_buffer_take(&ipcbuf) == 0);
		exit(main((int)info->argc, info->argv));
	}
	exit(main(0, no_args)); /* started by something else: no arguments, no heap */
}

/* The startup info the pager gave, or NULL. */
const struct mica_startup *rt_startup_info(void)
{
	return startup;
}

/* The name service's endpoint (SEND), or MICA_HANDLE_NONE if the pager gave none. */
mica_handle_t rt_names_handle(void)
{
	return startup && startup->version >= 2 ? startup->names : MICA_HANDLE_NONE;
}

/* A fork's child: its own pid and handles (fork.c); no devices (the parent's are its own). */
void rt_startup_forked(const struct mica_fork_info *fi)
{
	startup_copy.pid = fi->pid;
	startup_copy.pager = fi->pager;
	startup_copy.names = fi->names;
	startup_copy.irq = MICA_HANDLE_NONE;
	startup_copy.ports = MICA_HANDLE_NONE;
}
