/*
 * console: the driver of COM1 in user space (servers/console/README.md,
 * docs/DRIVERS.md). init starts it with the line's interrupt and the
 * UART's ports (manifest: irq=4 ports=0x3f8-0x3ff), which it finds in its
 * startup info. One thread serves idl/console.idl and the interrupt: the
 * interrupt's notification is bound to its receive, so ipc_serve hands
 * the interrupt to on_kernel as a MICA_LABEL_NOTIFY message between
 * requests. Input is buffered whether or not anybody reads; the
 * foreground reader (the last to attach) is signalled when some arrives.
 */
#include <mica/errname.h>
#include <idl/console_server.h>
#include <idl/names_client.h>
#include <libipc/server.h>
#include <mica/notify.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

static mica_handle_t irq;           /* our interrupt line */
static mica_handle_t reader_signal; /* the foreground reader's notification (SIGNAL), or none */
static mica_handle_t reader_wait;   /* its WAIT copy, handed out by attach */
static uint64_t reader_token;       /* the foreground reader's token; 0: none */
static uint64_t written, wbytes;    /* clients' writes and their bytes so far (stats) */
static uint64_t exit_after;         /* `exit-after=<n>`: end at write n + 1 (tests); 0: never */

#define INPUT_BIT    1u /* the reader's notification: input arrived */
#define DETACHED_BIT 2u /* another reader attached: reads now fail */

/*
 * A client's write goes out whole, through the kernel's polled line: the
 * kernel is not preemptible, so it never lands in the middle of the
 * kernel's own lines (or they in it), as our own polling loop, which a
 * timer tick may interrupt, could. (Only the echo of typed bytes, a byte
 * at a time, goes through our ports.)
 */
static int op_write(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len)
{
	(void)ctx, (void)badge;
	/*
	 * `exit-after=<n>` (tests/system/test_console.py): the write after
	 * the n-th ends us with it unanswered, as a console that dies
	 * mid-call; the caller's printf must write that line itself.
	 */
	if (exit_after && written == exit_after) {
		printf("console: exiting after %lu writes\n", (unsigned long)written);
		mica_thread_exit(7);
	}
	int64_t r = mica_debug_write(data, data_len);
	if (r < 0)
		return (int)r;
	written++;
	wbytes += data_len;
	return 0;
}

static int op_stats(void *ctx, uint64_t badge, uint64_t *writes, uint64_t *bytes)
{
	(void)ctx, (void)badge;
	*writes = written;
	*bytes = wbytes;
	return 0;
}

static int op_attach(void *ctx, uint64_t badge, uint64_t *token, mica_handle_t *input)
{
	int64_t n, w;

	(void)ctx, (void)badge;
	if ((n = mica_notify_create()) < 0)
		return (int)n;
	if ((w = mica_handle_mint((mica_handle_t)n, MICA_RIGHT_WAIT | MICA_RIGHT_COPY, 0)) < 0) {
		mica_handle_close((mica_handle_t)n);
		return (int)w;
	}
	/* The reader before is woken once to learn it is no longer foreground. */
	if (reader_token) {
		mica_notify_signal(reader_signal, DETACHED_BIT);
		mica_handle_close(reader_signal);
		mica_handle_close(reader_wait);
	}
	reader_signal = (mica_handle_t)n;
	reader_wait = (mica_handle_t)w;
	*token = ++reader_token;
	*input = reader_wait;
	if (input_count())
		mica_notify_signal(reader_signal, INPUT_BIT);
	return 0;
}

static int op_read(void *ctx, uint64_t badge, uint64_t token, uint32_t max, bool line,
                   uint8_t *data, uint32_t *data_len)
{
	(void)ctx, (void)badge;
	if (max == 0 || max > CONSOLE_READ_DATA_MAX)
		return MICA_EINVAL;
	if (!reader_token || token != reader_token)
		return MICA_EBUSY;
	*data_len = input_take(data, max, line);
	return *data_len ? 0 : MICA_EAGAIN;
}

/* The interrupt (our bound notification): take every byte received, then unmask the line. */
static void on_kernel(void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	int c;

	(void)ctx;
	rep->m.label = MICA_FAULT_KILL; /* nothing else of the kernel's is expected */
	if (req->m.label != MICA_LABEL_NOTIFY)
		return;
	uint32_t before = input_count();
	while ((c = uart_getc()) >= 0)
		input_put((uint8_t)c);
	mica_irq_ack(irq);
	if (reader_token && input_count() != before)
		mica_notify_signal(reader_signal, INPUT_BIT);
}

static const struct console_ops handlers = {
    .write = op_write, .attach = op_attach, .read = op_read, .stats = op_stats};
static struct ipc_server server; /* 8 KiB of buffers: not on the stack */

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	int64_t r, n;

	rt_stdout_direct(); /* our own lines: a write to ourselves would wait forever */
	if (!st || st->version < 3 || st->irq == MICA_HANDLE_NONE ||
	    st->ports == MICA_HANDLE_NONE) {
		printf("console: no interrupt line or ports (manifest: irq=4 ports=0x3f8-0x3ff)\n");
		return 1;
	}
	irq = st->irq;
	/* The interrupt goes to a notification bound to our receive. */
	if ((n = mica_notify_create()) < 0 || (r = mica_notify_bind((mica_handle_t)n)) < 0 ||
	    (r = mica_irq_bind(irq, (mica_handle_t)n)) < 0) {
		printf("console: notification: error %s\n", mica_error_name(n < 0 ? n : r));
		return 2;
	}
	if ((r = uart_init(st->ports)) < 0) {
		printf("console: ports: error %s\n", mica_error_name(r));
		return 3;
	}
	/* The test of a driver that dies holding its line (tests/system/test_console.py). */
	if (argc > 1 && strcmp(argv[1], "crash") == 0) {
		printf("console: crashing with the line and the ports\n");
		return 9;
	}
	if (argc > 1 && strncmp(argv[1], "exit-after=", 11) == 0)
		for (const char *p = argv[1] + 11; *p >= '0' && *p <= '9'; p++)
			exit_after = exit_after * 10 + (uint64_t)(*p - '0');
	int64_t ep = mica_endpoint_create();
	if (ep < 0 ||
	    (r = mica_handle_mint((mica_handle_t)ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 1)) < 0) {
		printf("console: endpoint: error %s\n", mica_error_name(ep < 0 ? ep : r));
		return 4;
	}
	int rc = names_register_name(rt_names_handle(), "console", (mica_handle_t)r);
	if (rc < 0) {
		printf("console: register: error %s\n", mica_error_name(rc));
		return 5;
	}
	memset(&server, 0, sizeof(server));
	console_server_init(&server, &handlers, 0);
	server.kernel = on_kernel;
	r = ipc_serve(&server, (mica_handle_t)ep);
	printf("console: serving ended: error %s\n", mica_error_name(r));
	return 6;
}
