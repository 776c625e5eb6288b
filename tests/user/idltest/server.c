/*
 * idltest's server: the handlers of tests/idl/idltest.idl, and a thread
 * that serves them with ipc_serve, kernel messages going to a callback.
 */
#include "idltest.h"

struct kernel_seen kernel_seen;
volatile int server_done;
volatile long server_rc;

static int h_ints(void *ctx, uint64_t badge, int8_t a, int16_t b, int32_t c, int64_t d, uint8_t e,
                  uint16_t f, uint32_t g, uint64_t h, int8_t *ra, int16_t *rb, int32_t *rc,
                  int64_t *rd, uint8_t *re, uint16_t *rf, uint32_t *rg, uint64_t *rh)
{
	(void)ctx, (void)badge;
	*ra = a, *rb = b, *rc = c, *rd = d, *re = e, *rf = f, *rg = g, *rh = h;
	return MICA_OK;
}

static int h_flags(void *ctx, uint64_t badge, bool a, bool b, bool *na, bool *nb)
{
	(void)ctx, (void)badge;
	*na = !a, *nb = !b;
	return MICA_OK;
}

static int h_blob(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len, uint8_t *back,
                  uint32_t *back_len)
{
	(void)ctx, (void)badge;
	for (uint32_t i = 0; i < data_len; i++)
		back[i] = data[data_len - 1 - i];
	*back_len = data_len;
	return MICA_OK;
}

static int h_text(void *ctx, uint64_t badge, const char *s, char *back, uint32_t *len)
{
	(void)ctx, (void)badge;
	uint32_t n = ipc_strnlen(s, IDLTEST_TEXT_S_MAX);

	for (uint32_t i = 0; i < n; i++)
		back[i] = s[n - 1 - i];
	back[n] = '\0';
	*len = n;
	return MICA_OK;
}

static int h_shapes(void *ctx, uint64_t badge, const struct idltest_shape *s, uint64_t extra,
                    const char *name, const uint8_t *tag, uint32_t tag_len, struct idltest_shape *t,
                    uint64_t *extra2, char *name2, uint8_t *tag2, uint32_t *tag2_len)
{
	(void)ctx, (void)badge;
	*t = *s;
	t->a = s->b;
	t->b = s->a;
	*extra2 = extra + 1;
	ipc_copy(name2, name, ipc_strnlen(name, IDLTEST_SHAPES_NAME_MAX) + 1);
	ipc_copy(tag2, tag, tag_len);
	*tag2_len = tag_len;
	return MICA_OK;
}

/* Use the handle (try_send: no receiver, so MICA_EAGAIN if it is an endpoint), then close it. */
static int h_handle_in(void *ctx, uint64_t badge, mica_handle_t h, int64_t *probe)
{
	struct mica_msg m = {0};

	(void)ctx, (void)badge;
	*probe = mica_try_send(h, &m, 0);
	mica_handle_close(h);
	return MICA_OK;
}

static int h_copy_out(void *ctx, uint64_t badge, mica_handle_t *h)
{
	(void)ctx, (void)badge;
	long e = mica_endpoint_create();

	if (e < 0)
		return (int)e;
	*h = (mica_handle_t)e; /* copied: the server keeps it (idltest ends before it matters) */
	return MICA_OK;
}

static int h_move_out(void *ctx, uint64_t badge, mica_handle_t *h)
{
	(void)ctx, (void)badge;
	long e = mica_endpoint_create();

	if (e < 0)
		return (int)e;
	*h = (mica_handle_t)e;
	return MICA_OK;
}

static int h_fail(void *ctx, uint64_t badge, int32_t status, uint64_t *never)
{
	(void)ctx, (void)badge;
	*never = 1;
	return status;
}

static int h_whoami(void *ctx, uint64_t badge, uint64_t *badge_seen)
{
	(void)ctx;
	*badge_seen = badge;
	return MICA_OK;
}

static const struct idltest_ops ops = {
    .ints = h_ints,
    .flags = h_flags,
    .blob = h_blob,
    .text = h_text,
    .shapes = h_shapes,
    .copy_in = h_handle_in,
    .move_in = h_handle_in,
    .copy_out = h_copy_out,
    .move_out = h_move_out,
    .fail = h_fail,
    .whoami = h_whoami,
    /* absent: not served */
};

/* Faults: killed with FAULT_KILL_CODE; exit notices: recorded. */
static void on_kernel(void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	(void)ctx;
	if (req->m.label == MICA_LABEL_FAULT) {
		kernel_seen.fault_badge = req->badge;
		kernel_seen.fault_addr = req->m.w[0];
		kernel_seen.faults++;
		rep->m.label = MICA_FAULT_KILL;
		rep->m.w[0] = FAULT_KILL_CODE;
	} else if (req->m.label == MICA_LABEL_EXIT) {
		kernel_seen.exit_badge = req->badge;
		kernel_seen.exit_reason = req->m.w[1];
		kernel_seen.exit_code = req->m.w[2];
		kernel_seen.exits++;
	}
}

static struct ipc_server srv; /* its buffers: 8 KiB, not on the thread's stack */

void server_main(uint64_t ep)
{
	idltest_server_init(&srv, &ops, 0);
	srv.kernel = on_kernel;
	server_rc = ipc_serve(&srv, (mica_handle_t)ep);
	server_done = 1;
	mica_thread_exit(0);
}
