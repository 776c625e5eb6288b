/*
 * consoleclient: the echo program of the default manifest, and the
 * console's test client (tests/system/test_console.py). It checks the
 * console's errors, attaches as the foreground reader, then reads lines
 * typed on the serial console and writes each back as "echo: <line>",
 * waiting on the console's notification between lines; the line "exit"
 * ends it. It is a server entry (init waits for it to register, and ends
 * it with the servers), so it registers a name of its own.
 *
 * `consoleclient.elf poke <port> [enable]` instead reads one I/O port (hex
 * after 0x; after enabling the range init gave it, with `enable`) and
 * exits 0: without the port its process is killed at the in
 * (tests/system/test_console.py).
 *
 * `consoleclient.elf count <n> [direct]` prints n lines with printf and
 * reports how many writes and bytes the console's stats grew by meanwhile
 * (with `direct`, after rt_stdout_direct(): none). `consoleclient.elf spam
 * <tag> <n>` prints n long lines (over 256 bytes) as fast as it can, for
 * the tests of concurrent printers and of a console dying under them.
 */
#include <idl/console_client.h>
#include <idl/names_client.h>
#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

static mica_handle_t con;

/* Write a NUL-terminated string through the console. */
static void put(const char *s)
{
	console_write(con, s, (uint32_t)strlen(s));
}

static int check(const char *what, long got, long want)
{
	if (got == want)
		return 0;
	printf("consoleclient: %s: got %ld, want %ld\n", what, got, want);
	return 1;
}

/* A port number: hex after 0x, else decimal. */
static long port_arg(const char *s)
{
	long v = 0;
	int base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2, base = 16;
	for (; *s; s++) {
		int d = *s >= '0' && *s <= '9'   ? *s - '0'
		        : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10
		                                 : 99;
		if (d >= base)
			return -1;
		v = v * base + d;
	}
	return v;
}

/* poke: in on one port, with or without enabling the range from the startup info. */
static int poke(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	long port = port_arg(argv[2]);

	if (port < 0 || port > 0xFFFF)
		return 2;
	if (argc > 3 && strcmp(argv[3], "enable") == 0) {
		long rc = st->version >= 3 ? mica_ioport_enable(st->ports) : MICA_EBADH;
		if (rc < 0) {
			printf("consoleclient: ioport_enable: error %s\n", mica_error_name(rc));
			return 1;
		}
	}
	uint8_t v = mica_inb((uint16_t)port);
	printf("consoleclient: port 0x%lx read 0x%x\n", (unsigned long)port, (unsigned)v);
	return 0;
}

/* A decimal argument, or -1. */
static long num_arg(const char *s)
{
	long v = port_arg(s);

	return s[0] == '0' && s[1] == 'x' ? -1 : v;
}

/* count: the console's stats before and after n printf lines. */
static int count(int argc, char **argv)
{
	uint64_t w0, b0, w1, b1;
	long n = num_arg(argv[2]);
	long rc;

	if (n < 0)
		return 2;
	if ((rc = names_lookup(rt_names_handle(), "console", &con)) < 0 ||
	    (rc = console_stats(con, &w0, &b0)) < 0) {
		printf("consoleclient: count: error %s\n", mica_error_name(rc));
		return 1;
	}
	if (argc > 3 && strcmp(argv[3], "direct") == 0)
		rt_stdout_direct();
	int len = 0;
	for (long i = 0; i < n; i++)
		len = printf("consoleclient: count line %3ld of %3ld\n", i + 1, n);
	if ((rc = console_stats(con, &w1, &b1)) < 0)
		return 1;
	printf("consoleclient: console counted %lu writes %lu bytes for %ld lines of %d bytes\n",
	       (unsigned long)(w1 - w0), (unsigned long)(b1 - b0), n, len);
	return 0;
}

/* spam: n lines of 300 bytes, "spam <tag> <i> <tag repeated> end". */
static int spam(char **argv)
{
	static char fill[301];
	long n = num_arg(argv[3]);

	if (n < 0 || !argv[2][0])
		return 2;
	memset(fill, argv[2][0], 300);
	for (long i = 0; i < n; i++)
		printf("spam %s %03ld %s end\n", argv[2], i, fill);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t token, old;
	mica_handle_t input, stale;
	static uint8_t buf[CONSOLE_READ_DATA_MAX + 1];
	uint32_t len = 0;
	int bad = 0;
	long rc;

	if (argc > 2 && strcmp(argv[1], "poke") == 0)
		return poke(argc, argv);
	if (argc > 2 && strcmp(argv[1], "count") == 0)
		return count(argc, argv);
	if (argc > 3 && strcmp(argv[1], "spam") == 0)
		return spam(argv);
	if ((rc = names_lookup(rt_names_handle(), "console", &con)) < 0) {
		printf("consoleclient: no console: error %s\n", mica_error_name(rc));
		return 1;
	}
	/* The errors: a token before attaching, max out of range, a reader replaced. */
	bad += check("read before attach", console_read(con, 1, 16, true, buf, &len), MICA_EBUSY);
	if ((rc = console_attach(con, &old, &stale)) < 0)
		return check("attach", rc, 0) + 1;
	bad += check("read max 0", console_read(con, old, 0, true, buf, &len), MICA_EINVAL);
	bad += check("read max 1025", console_read(con, old, 1025, true, buf, &len), MICA_EINVAL);
	if ((rc = console_attach(con, &token, &input)) < 0)
		return check("attach again", rc, 0) + 1;
	bad +=
	    check("the old reader's read", console_read(con, old, 16, true, buf, &len), MICA_EBUSY);
	bad += check("the old reader is told", mica_notify_poll(stale), 2);
	bad += check("the notification is wait-only", mica_notify_signal(input, 1), MICA_ERIGHTS);
	mica_handle_close(stale);
	/* Only init may start drivers. */
	struct pager_limits lim = {0, 0};
	struct pager_devices dev = {.irq = 3, .port_first = 0, .port_count = 0};
	uint64_t pid;
	bad +=
	    check("spawn_driver from a program",
	          pager_spawn_driver(rt_startup_info()->pager, "rthello.elf", "", &lim, &dev, &pid),
	          MICA_EPERM);
	/* init waits for us to register (a server entry). */
	int64_t ep = mica_endpoint_create();
	if (ep < 0 ||
	    names_register_name(rt_names_handle(), "consoleclient", (mica_handle_t)ep) < 0)
		return 2;
	put(bad ? "consoleclient: errors FAILED\n" : "consoleclient: errors ok\n");
	put("consoleclient: ready, type a line\n");
	for (;;) {
		rc = console_read(con, token, CONSOLE_WRITE_DATA_MAX - 6, true, buf, &len);
		if (rc == MICA_EAGAIN) {
			rc = mica_notify_wait(input);
			if (rc < 0)
				break;
			continue;
		}
		if (rc < 0)
			break;
		buf[len] = 0;
		if (strcmp((char *)buf, "exit\n") == 0) {
			put("consoleclient: bye\n");
			return bad;
		}
		/* One write: the line comes out whole. */
		static char out[CONSOLE_READ_DATA_MAX + 8];
		memcpy(out, "echo: ", 6);
		memcpy(out + 6, buf, len);
		console_write(con, out, 6 + len);
	}
	printf("consoleclient: read: error %s\n", mica_error_name(rc));
	return 3;
}
