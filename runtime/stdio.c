/*
 * Console output (stdio.h): printf and friends. Each call formats into a
 * buffer on its stack and writes it whenever it fills and at the end, so
 * a line of up to OUT_BUF bytes that one call prints is one write, which
 * nothing else's output can split (the console writes each whole, through
 * the kernel's line).
 *
 * Where a write goes (runtime/README.md "Where output goes"): to the
 * console server (idl/console.idl, the name `console`) once it is
 * registered, else straight to the kernel's debug_write. The name is
 * looked up at the first write, and after a failed lookup again at the
 * 2nd, 4th, 8th, ... write (doubling), so a program started before the
 * console finds it later at the cost of a few lookups, and a program
 * without one costs log2(writes) of them. A console write that fails
 * (MICA_EPEER: the console died; any error) drops the handle, writes the
 * same bytes through debug_write (nothing is lost) and starts the
 * doubling again from there (a restarted console is found again).
 *
 * rt_stdout_direct() opts out for good: init (the name service the lookup
 * calls), the console itself and whatever the console calls must write
 * directly, or a write would wait on itself. Writes are serialized
 * between a program's threads (out_locked). Freestanding only.
 */
#include <idl/console_client.h>
#include <idl/names_client.h>
#include <libipc/syscall.h>
#include <stdbool.h>
#include <stdio.h>
#include <startup.h>
#include "rt.h"

#define OUT_BUF CONSOLE_WRITE_DATA_MAX /* 1024: one buffer is one console write */

_Static_assert(OUT_BUF <= MICA_DEBUG_WRITE_MAX, "one buffer is one debug_write");

static bool direct;                          /* rt_stdout_direct(): never the console */
static mica_handle_t con = MICA_HANDLE_NONE; /* the console's endpoint (SEND), once found */
static uint64_t writes;                      /* writes so far */
static uint64_t next_lookup = 1;             /* the write at which to look the name up next */

/* rt_stdout_direct (stdio.h): from now on, straight to debug_write. */
void rt_stdout_direct(void)
{
	direct = true;
	if (con != MICA_HANDLE_NONE)
		mica_handle_close(con);
	con = MICA_HANDLE_NONE;
}

/* The console's handle, looking it up if this write is one of those due a lookup. */
static mica_handle_t stdout_console(void)
{
	mica_handle_t h = rt_names_handle();

	writes++;
	if (direct || con != MICA_HANDLE_NONE || h == MICA_HANDLE_NONE || writes < next_lookup)
		return con;
	if (names_lookup(h, "console", &con) < 0) {
		con = MICA_HANDLE_NONE;
		next_lookup = writes * 2;
	}
	return con;
}

/*
 * The lookup state and the order of writes are shared by a program's
 * threads (runtime/thread.c): one write at a time, a thread that finds
 * the lock taken yields, as the runtime's mutex does.
 */
static volatile int out_locked;

/* Write n bytes (stdio.h): through the console if there is one, else (or if it fails) directly. */
void rt_stdout_write(const void *s, size_t n)
{
	mica_handle_t c;

	if (!n)
		return;
	while (__atomic_exchange_n(&out_locked, 1, __ATOMIC_ACQUIRE))
		(void)mica_yield();
	if (n <= OUT_BUF && (c = stdout_console()) != MICA_HANDLE_NONE) {
		if (console_write(c, s, (uint32_t)n) == 0) {
			__atomic_store_n(&out_locked, 0, __ATOMIC_RELEASE);
			return;
		}
		mica_handle_close(c); /* gone or broken: not used again */
		con = MICA_HANDLE_NONE;
		next_lookup = writes * 2;
	}
	mica_debug_write(s, n);
	__atomic_store_n(&out_locked, 0, __ATOMIC_RELEASE);
}

/* fork.c: the console's lock held across a fork (the child's copy of the lookup state is whole). */
void rt_stdout_fork_lock(void)
{
	while (__atomic_exchange_n(&out_locked, 1, __ATOMIC_ACQUIRE))
		(void)mica_yield();
}

void rt_stdout_fork_unlock(void)
{
	__atomic_store_n(&out_locked, 0, __ATOMIC_RELEASE);
}

/* In a fork's child: the console's handle number was the parent's; look it up afresh. */
void rt_stdout_forked(void)
{
	con = MICA_HANDLE_NONE;
	writes = 0;
	next_lookup = 1;
	rt_stdout_fork_unlock();
}

static void console_flush(struct rt_sink *s)
{
	rt_stdout_write(s->buf, s->len);
	s->len = 0;
}

/* vprintf: format to the console; returns the bytes written, or -1 if more than INT_MAX. */
int vprintf(const char *fmt, va_list ap)
{
	char buf[OUT_BUF];
	struct rt_sink s = {.buf = buf, .cap = sizeof(buf), .flush = console_flush};
	int r = rt_vformat(&s, fmt, ap);

	console_flush(&s);
	return r;
}

/* printf: as vprintf. */
int printf(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vprintf(fmt, ap);
	va_end(ap);
	return r;
}

/* puts: s and a newline, in one write when they fit; returns a non-negative number. */
int puts(const char *s)
{
	return printf("%s\n", s) < 0 ? EOF : 0;
}

/* putchar: one byte; returns it as an unsigned char. */
int putchar(int c)
{
	char ch = (char)c;

	rt_stdout_write(&ch, 1);
	return (unsigned char)c;
}
