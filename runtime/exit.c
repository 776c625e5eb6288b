/*
 * Ending the program (stdlib.h): exit and abort. They end the calling
 * thread: from main, the first thread, whose end ends the process and
 * all its threads (the pager's rule); from another thread, that thread
 * only (thread.h).
 */
#include <libipc/syscall.h>
#include <stdlib.h>

#define ABORT_CODE 134 /* as a shell reports SIGABRT: 128 + 6 */

/* exit: end the program with status (what main returned, from crt0). */
void exit(int status)
{
	mica_thread_exit(status);
}

/* abort: say so on the console and end the program with ABORT_CODE. */
void abort(void)
{
	static const char msg[] = "abort\n";

	mica_debug_write(msg, sizeof(msg) - 1);
	mica_thread_exit(ABORT_CODE);
}
