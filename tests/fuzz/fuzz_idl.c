/*
 * Fuzz target: the server dispatch tools/idlc generates (build/gen/idl/),
 * for kv and for the idltest interface (every parameter kind: integers,
 * bools, arrays, strings, a struct, handles in and out), over a fuzzed
 * request: label, words, badge, a handle or none, the length the sender
 * claims and a buffer of exactly the bytes received; and a reply buffer of
 * a fuzzed size. The handlers are stand-ins that check what the dispatch
 * promises them (strings NUL-terminated inside the request, within their
 * maximum; arrays inside the request; out-buffers with the room the header
 * says, inside the reply) and fill their out-buffers to the brim. After
 * every dispatch: the reply fits its buffer, and every handle was closed
 * exactly once or passed on (a fake handle table counts them).
 */
#define _POSIX_C_SOURCE 200809L /* strnlen */

#include <string.h>

#include <idl/idltest_server.h>
#include <idl/kv_server.h>

#include "fuzz.h"

/* ---- the fuzzed input, read front to back (zeros once it runs out) ---- */

static const uint8_t *in;
static size_t in_left;

static uint64_t take(unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes && in_left; i++, in_left--)
		v |= (uint64_t)*in++ << (8 * i);
	return v;
}

/* A word: small values in one byte, any value in nine. */
static uint64_t take_word(void)
{
	uint8_t tag = (uint8_t)take(1);

	return tag & 0x80 ? take(8) : tag;
}

/* ---- a fake handle table: each handle closed exactly once ---- */

#define NHANDLES 16
static bool open_handle[NHANDLES];

static mica_handle_t handle_new(void)
{
	for (int h = 1; h < NHANDLES; h++)
		if (!open_handle[h]) {
			open_handle[h] = true;
			return h;
		}
	FUZZ_CHECK(!"fake handle table full");
	return MICA_HANDLE_NONE;
}

int64_t ipc_handle_close(mica_handle_t h)
{
	FUZZ_CHECK(h > 0 && h < NHANDLES && open_handle[h]); /* no double or stray close */
	open_handle[h] = false;
	return MICA_OK;
}

/* ---- the request and reply of the current run, for the handlers' checks ---- */

static struct ipc_msg req, rep;
static int verdict;      /* what handlers return: 0 or an error */
static uint32_t out_len; /* the length handlers claim for their out-arrays */

static void check_in_string(const char *s, size_t max)
{
	size_t room = (size_t)(req.buf + req.cap - (const uint8_t *)s);

	FUZZ_CHECK(fuzz_inside(s, 1, req.buf, req.cap));
	FUZZ_CHECK(strnlen(s, room) < room && strlen(s) <= max);
}

static void check_in_array(const void *p, uint32_t n, size_t max)
{
	FUZZ_CHECK(n <= max && (n == 0 || fuzz_inside(p, n, req.buf, req.cap)));
}

/* An out-buffer of room bytes: inside the reply, and writable to its end. */
static void fill_out(void *p, size_t room)
{
	FUZZ_CHECK(fuzz_inside(p, room, rep.buf, rep.cap));
	memset(p, 'r', room);
}

/* ---- kv's handlers ---- */

static int kv_put(void *ctx, uint64_t badge, const char *key, const uint8_t *value,
                  uint32_t value_len)
{
	(void)ctx, (void)badge;
	check_in_string(key, KV_PUT_KEY_MAX);
	check_in_array(value, value_len, KV_PUT_VALUE_MAX);
	return verdict;
}

static int kv_get(void *ctx, uint64_t badge, const char *key, uint8_t *value, uint32_t *value_len)
{
	(void)ctx, (void)badge;
	check_in_string(key, KV_GET_KEY_MAX);
	fill_out(value, KV_GET_VALUE_MAX);
	*value_len = out_len; /* may be too long: the dispatch must refuse it */
	return verdict;
}

static int kv_remove(void *ctx, uint64_t badge, const char *key)
{
	(void)ctx, (void)badge;
	check_in_string(key, KV_REMOVE_KEY_MAX);
	return verdict;
}

static int kv_count(void *ctx, uint64_t badge, uint32_t *n)
{
	(void)ctx, (void)badge;
	*n = out_len;
	return verdict;
}

static const struct kv_ops kv_handlers = {kv_put, kv_get, kv_remove, kv_count};

/* ---- idltest's handlers ---- */

static int t_ints(void *ctx, uint64_t badge, int8_t a, int16_t b, int32_t c, int64_t d, uint8_t e,
                  uint16_t f, uint32_t g, uint64_t h, int8_t *ra, int16_t *rb, int32_t *rc,
                  int64_t *rd, uint8_t *re, uint16_t *rf, uint32_t *rg, uint64_t *rh)
{
	(void)ctx, (void)badge;
	*ra = a, *rb = b, *rc = c, *rd = d, *re = e, *rf = f, *rg = g, *rh = h;
	return verdict;
}

static int t_flags(void *ctx, uint64_t badge, bool a, bool b, bool *na, bool *nb)
{
	(void)ctx, (void)badge;
	*na = !a, *nb = !b;
	return verdict;
}

static int t_blob(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len, uint8_t *back,
                  uint32_t *back_len)
{
	(void)ctx, (void)badge;
	check_in_array(data, data_len, IDLTEST_BLOB_DATA_MAX);
	fill_out(back, IDLTEST_BLOB_BACK_MAX);
	*back_len = out_len;
	return verdict;
}

static int t_text(void *ctx, uint64_t badge, const char *s, char *back, uint32_t *len)
{
	(void)ctx, (void)badge;
	check_in_string(s, IDLTEST_TEXT_S_MAX);
	fill_out(back, IDLTEST_TEXT_BACK_MAX + 1);
	back[out_len % (IDLTEST_TEXT_BACK_MAX + 1)] = '\0'; /* a string of any length that fits */
	*len = (uint32_t)strlen(s);
	return verdict;
}

static int t_shapes(void *ctx, uint64_t badge, const struct idltest_shape *s, uint64_t extra,
                    const char *name, const uint8_t *tag, uint32_t tag_len, struct idltest_shape *t,
                    uint64_t *extra2, char *name2, uint8_t *tag2, uint32_t *tag2_len)
{
	(void)ctx, (void)badge;
	check_in_string(name, IDLTEST_SHAPES_NAME_MAX);
	check_in_array(tag, tag_len, IDLTEST_SHAPES_TAG_MAX);
	*t = *s;
	*extra2 = extra + 1;
	fill_out(name2, IDLTEST_SHAPES_NAME2_MAX + 1);
	name2[out_len % (IDLTEST_SHAPES_NAME2_MAX + 1)] = '\0';
	fill_out(tag2, IDLTEST_SHAPES_TAG2_MAX);
	*tag2_len = out_len;
	return verdict;
}

/* A handle given to a handler is its own: it is closed here (exactly once, or the table says). */
static int t_copy_in(void *ctx, uint64_t badge, mica_handle_t h, int64_t *probe)
{
	(void)ctx, (void)badge;
	*probe = ipc_handle_close(h);
	return verdict;
}

static int t_move_out(void *ctx, uint64_t badge, mica_handle_t *h)
{
	(void)ctx, (void)badge;
	if (verdict == 0)
		*h = handle_new();
	return verdict;
}

static int t_fail(void *ctx, uint64_t badge, int32_t status, uint64_t *never)
{
	(void)ctx, (void)badge;
	*never = 1;
	return status;
}

static int t_whoami(void *ctx, uint64_t badge, uint64_t *badge_seen)
{
	(void)ctx;
	*badge_seen = badge;
	return verdict;
}

static const struct idltest_ops idltest_handlers = {
    .ints = t_ints,
    .flags = t_flags,
    .blob = t_blob,
    .text = t_text,
    .shapes = t_shapes,
    .copy_in = t_copy_in,
    .move_in = t_copy_in,
    .copy_out = t_move_out,
    .move_out = t_move_out,
    .fail = t_fail,
    .whoami = t_whoami,
    .absent = NULL,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	in = data, in_left = size;
	memset(open_handle, 0, sizeof(open_handle));
	unsigned sel = (unsigned)take(1);
	bool kv = sel & 1;
	uint64_t iface = kv ? KV_NUMBER : IDLTEST_NUMBER;

	/* The request: a label of the interface (or any), words, badge, handle. */
	uint64_t method = take(1);
	uint64_t label = sel & 2 ? take(8) : MICA_IDL_LABEL(iface, method % 16);
	uint64_t words[MICA_MSG_WORDS];

	for (int i = 0; i < MICA_MSG_WORDS; i++)
		words[i] = take_word();
	uint64_t badge = take_word();
	uint32_t claimed = (uint32_t)take(2);
	uint32_t rep_cap = sel & 8 ? (uint32_t)take(2) % (MICA_MSG_BUF_MAX + 1) : MICA_MSG_BUF_MAX;
	int results[4] = {0, MICA_ENOENT, MICA_EINVAL, 1};

	verdict = results[(sel >> 4) & 3];
	out_len = (uint32_t)take_word();
	/* The rest is the buffer received: exactly that many bytes. */
	uint32_t got = in_left > MICA_MSG_BUF_MAX ? MICA_MSG_BUF_MAX : (uint32_t)in_left;
	uint8_t *buf = malloc(got ? got : 1);
	uint8_t *rbuf = malloc(rep_cap ? rep_cap : 1);

	FUZZ_CHECK(buf && rbuf);
	memcpy(buf, in, got);
	ipc_msg_init(&req, label, buf, got);
	memcpy(req.m.w, words, sizeof(words));
	req.len = sel & 4 ? claimed : got; /* a longer claim: the message was cut */
	req.badge = badge;
	if (sel & 0x40)
		req.handle = handle_new();
	ipc_msg_init(&rep, 0, rbuf, rep_cap);

	int rc = kv ? kv_dispatch(&kv_handlers, NULL, &req, &rep)
	            : idltest_dispatch(&idltest_handlers, NULL, &req, &rep);

	/* The reply: its status, and a buffer that fits. */
	FUZZ_CHECK(rc <= 0);
	FUZZ_CHECK(rep.len <= rep.cap && rep.cap == rep_cap && rep.buf == rbuf);
	FUZZ_CHECK(rep.m.label == MICA_IDL_STATUS_LABEL(rc));
	FUZZ_CHECK(rc != 0 || rep.handle == MICA_HANDLE_NONE || open_handle[rep.handle]);
	FUZZ_CHECK(rc == 0 || (rep.handle == MICA_HANDLE_NONE && rep.len == 0));
	/* Sending the reply passes its handle on (a copy: the server's own closes later). */
	if (rep.handle != MICA_HANDLE_NONE)
		ipc_handle_close(rep.handle);
	for (int h = 0; h < NHANDLES; h++)
		FUZZ_CHECK(
		    !open_handle[h]); /* the request's handle: closed by dispatch or handler */
	free(buf);
	free(rbuf);
	return 0;
}
