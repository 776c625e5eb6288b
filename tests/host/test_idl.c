/*
 * Host round-trip tests of the IDL stubs (tests/idl/idltest.idl, generated
 * by tools/idlc) and libipc's server loop: the client stubs call the
 * server's dispatch through a fake transport that moves messages as the
 * kernel does (words, a buffer cut to the receiver's room, one handle
 * copied or moved through a fake handle table). Every type at its limits,
 * every malformed request (none reaches a handler), malformed replies, and
 * the server loop's handling of kernel messages and failures.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <libipc/server.h>
#include <idl/idltest_client.h>
#include <idl/idltest_server.h>

/* ---- the fake kernel: a handle table and message transfer ---- */

#define NHANDLES 64
static bool open_handle[NHANDLES];

static mica_handle_t handle_new(void)
{
	for (int h = 1; h < NHANDLES; h++)
		if (!open_handle[h]) {
			open_handle[h] = true;
			return h;
		}
	fail_msg("fake handle table full");
	return MICA_HANDLE_NONE;
}

static bool handle_is_open(mica_handle_t h)
{
	return h > 0 && h < NHANDLES && open_handle[h];
}

static int handles_open(void)
{
	int n = 0;

	for (int h = 0; h < NHANDLES; h++)
		n += open_handle[h];
	return n;
}

/* libipc/ipc.c's switch for IPC buffers: off here (no thread has one on the host). */
bool ipc_buffers_on(void)
{
	return false;
}

int64_t ipc_handle_close(mica_handle_t h)
{
	if (!handle_is_open(h))
		return MICA_EBADH;
	open_handle[h] = false;
	return MICA_OK;
}

/* Move message s to receiver r as the kernel would. */
static int64_t transfer(const struct ipc_msg *s, struct ipc_msg *r, uint64_t badge)
{
	if (s->m.label >= MICA_LABEL_KERNEL)
		return MICA_EINVAL;
	if (s->len > MICA_MSG_BUF_MAX)
		return MICA_EINVAL;
	if (s->handle != MICA_HANDLE_NONE && !handle_is_open(s->handle))
		return MICA_EBADH;
	r->m = s->m;
	r->len = s->len;
	if (s->len && r->cap)
		memcpy(r->buf, s->buf, s->len < r->cap ? s->len : r->cap);
	r->handle = MICA_HANDLE_NONE;
	if (s->handle != MICA_HANDLE_NONE) {
		r->handle = handle_new();
		if (s->xfer == MICA_XFER_MOVE)
			open_handle[s->handle] = false;
	}
	r->badge = badge;
	return MICA_OK;
}

/* The server behind the fake endpoint: by default the idltest dispatch. */
static int (*server)(const struct ipc_msg *req, struct ipc_msg *rep);
static uint64_t call_badge; /* the badge the server sees */
static unsigned calls_sent; /* messages that reached the server */

int64_t ipc_call(mica_handle_t ep, const struct ipc_msg *req, struct ipc_msg *rep)
{
	static uint8_t srx[MICA_MSG_BUF_MAX], stx[MICA_MSG_BUF_MAX];
	struct ipc_msg sreq, srep;

	assert_int_equal(ep, 7); /* every test calls "endpoint 7" */
	ipc_msg_init(&sreq, 0, srx, sizeof(srx));
	int64_t rc = transfer(req, &sreq, call_badge);
	if (rc != MICA_OK)
		return rc;
	calls_sent++;
	ipc_msg_init(&srep, 0, stx, sizeof(stx));
	(void)server(&sreq, &srep);
	return transfer(&srep, rep, 0);
}

#define EP 7

/* ---- the handlers ---- */

struct state {
	unsigned calls;     /* handler calls */
	mica_handle_t got;  /* the handle a handler was given */
	mica_handle_t kept; /* the server's own copy after copy_out */
	int bug;            /* a handler misbehaving on purpose (below) */
} st;

enum { BUG_NONE, BUG_LONG_STRING, BUG_LONG_BYTES, BUG_NO_HANDLE, BUG_POSITIVE };

static int h_ints(void *ctx, uint64_t badge, int8_t a, int16_t b, int32_t c, int64_t d, uint8_t e,
                  uint16_t f, uint32_t g, uint64_t h, int8_t *ra, int16_t *rb, int32_t *rc,
                  int64_t *rd, uint8_t *re, uint16_t *rf, uint32_t *rg, uint64_t *rh)
{
	(void)ctx, (void)badge;
	st.calls++;
	*ra = a, *rb = b, *rc = c, *rd = d, *re = e, *rf = f, *rg = g, *rh = h;
	return st.bug == BUG_POSITIVE ? 5 : 0;
}

static int h_flags(void *ctx, uint64_t badge, bool a, bool b, bool *na, bool *nb)
{
	(void)ctx, (void)badge;
	st.calls++;
	*na = !a, *nb = !b;
	return 0;
}

static int h_blob(void *ctx, uint64_t badge, const uint8_t *data, uint32_t data_len, uint8_t *back,
                  uint32_t *back_len)
{
	(void)ctx, (void)badge;
	st.calls++;
	for (uint32_t i = 0; i < data_len; i++)
		back[i] = data[data_len - 1 - i];
	*back_len = st.bug == BUG_LONG_BYTES ? IDLTEST_BLOB_BACK_MAX + 1 : data_len;
	return 0;
}

static int h_text(void *ctx, uint64_t badge, const char *s, char *back, uint32_t *len)
{
	(void)ctx, (void)badge;
	st.calls++;
	uint32_t n = (uint32_t)strlen(s);
	for (uint32_t i = 0; i < n; i++)
		back[i] = s[n - 1 - i];
	back[n] = '\0';
	if (st.bug == BUG_LONG_STRING)
		memset(back, 'x', IDLTEST_TEXT_BACK_MAX + 1); /* no NUL in bounds */
	*len = n;
	return 0;
}

static int h_shapes(void *ctx, uint64_t badge, const struct idltest_shape *s, uint64_t extra,
                    const char *name, const uint8_t *tag, uint32_t tag_len, struct idltest_shape *t,
                    uint64_t *extra2, char *name2, uint8_t *tag2, uint32_t *tag2_len)
{
	(void)ctx, (void)badge;
	st.calls++;
	*t = *s;
	t->a = s->b;
	t->b = s->a;
	*extra2 = extra + 1;
	strcpy(name2, name);
	memcpy(tag2, tag, tag_len);
	*tag2_len = tag_len;
	return 0;
}

static int h_copy_in(void *ctx, uint64_t badge, mica_handle_t h, int64_t *probe)
{
	(void)ctx, (void)badge;
	st.calls++;
	st.got = h;
	*probe = handle_is_open(h) ? h : -1;
	ipc_handle_close(h);
	return 0;
}

static int h_copy_out(void *ctx, uint64_t badge, mica_handle_t *h)
{
	(void)ctx, (void)badge;
	st.calls++;
	if (st.bug == BUG_NO_HANDLE)
		return 0;
	st.kept = *h = handle_new();
	return 0;
}

static int h_move_out(void *ctx, uint64_t badge, mica_handle_t *h)
{
	(void)ctx, (void)badge;
	st.calls++;
	st.got = *h = handle_new();
	return st.bug == BUG_POSITIVE ? MICA_EPERM : 0;
}

static int h_fail(void *ctx, uint64_t badge, int32_t status, uint64_t *never)
{
	(void)ctx, (void)badge;
	st.calls++;
	*never = 99;
	return status;
}

static int h_whoami(void *ctx, uint64_t badge, uint64_t *badge_seen)
{
	(void)ctx;
	st.calls++;
	*badge_seen = badge;
	return 0;
}

static const struct idltest_ops ops = {
    .ints = h_ints,
    .flags = h_flags,
    .blob = h_blob,
    .text = h_text,
    .shapes = h_shapes,
    .copy_in = h_copy_in,
    .move_in = h_copy_in, /* the same: try it, close it */
    .copy_out = h_copy_out,
    .move_out = h_move_out,
    .fail = h_fail,
    .whoami = h_whoami,
    /* absent: none */
};

static int serve(const struct ipc_msg *req, struct ipc_msg *rep)
{
	return idltest_dispatch(&ops, &st, req, rep);
}

static int setup(void **state)
{
	(void)state;
	memset(open_handle, 0, sizeof(open_handle));
	memset(&st, 0, sizeof(st));
	server = serve;
	call_badge = 0;
	calls_sent = 0;
	return 0;
}

/* ---- round trips: every type at its limits ---- */

static void test_ints_limits(void **state)
{
	(void)state;
	static const struct {
		int8_t a;
		int16_t b;
		int32_t c;
		int64_t d;
		uint8_t e;
		uint16_t f;
		uint32_t g;
		uint64_t h;
	} v[] = {
	    {INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, 0, 0, 0, 0},
	    {INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX,
	     UINT64_MAX},
	    {-1, -1, -1, -1, 1, 1, 1, 1},
	    {0, 0, 0, 0, 0x80, 0x8000, 0x80000000u, 1ull << 63},
	};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int8_t a;
		int16_t b;
		int32_t c;
		int64_t d;
		uint8_t e;
		uint16_t f;
		uint32_t g;
		uint64_t h;
		assert_int_equal(idltest_ints(EP, v[i].a, v[i].b, v[i].c, v[i].d, v[i].e, v[i].f,
		                              v[i].g, v[i].h, &a, &b, &c, &d, &e, &f, &g, &h),
		                 MICA_OK);
		assert_true(a == v[i].a && b == v[i].b && c == v[i].c && d == v[i].d);
		assert_true(e == v[i].e && f == v[i].f && g == v[i].g && h == v[i].h);
	}
}

static void test_bools(void **state)
{
	(void)state;
	for (int i = 0; i < 4; i++) {
		bool na, nb;
		assert_int_equal(idltest_flags(EP, i & 1, i & 2, &na, &nb), MICA_OK);
		assert_true(na == !(i & 1) && nb == !(i & 2));
	}
}

static uint8_t big[IDLTEST_BLOB_DATA_MAX + 1], back[IDLTEST_BLOB_BACK_MAX];

static void test_bytes_limits(void **state)
{
	(void)state;
	uint32_t n = 12345;

	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + 1);
	/* Empty, one byte, full. */
	static const uint32_t lens[] = {0, 1, IDLTEST_BLOB_DATA_MAX};
	for (int k = 0; k < 3; k++) {
		memset(back, 0xee, sizeof(back));
		assert_int_equal(idltest_blob(EP, big, lens[k], back, &n), MICA_OK);
		assert_int_equal(n, lens[k]);
		for (uint32_t i = 0; i < n; i++)
			assert_int_equal(back[i], big[n - 1 - i]);
	}
	/* Over the bound: refused before anything is sent. */
	assert_int_equal(idltest_blob(EP, big, IDLTEST_BLOB_DATA_MAX + 1, back, &n), MICA_EINVAL);
	assert_int_equal(calls_sent, 3);
	assert_int_equal(n, IDLTEST_BLOB_DATA_MAX);
}

static char str[IDLTEST_TEXT_S_MAX + 2], sback[IDLTEST_TEXT_BACK_MAX + 1];

static void test_strings_limits(void **state)
{
	(void)state;
	uint32_t len = 77;

	/* Empty. */
	assert_int_equal(idltest_text(EP, "", sback, &len), MICA_OK);
	assert_string_equal(sback, "");
	assert_int_equal(len, 0);
	/* Full: 4095 bytes and the NUL, the whole buffer. */
	for (int i = 0; i < IDLTEST_TEXT_S_MAX; i++)
		str[i] = (char)('a' + i % 26);
	str[IDLTEST_TEXT_S_MAX] = '\0';
	assert_int_equal(idltest_text(EP, str, sback, &len), MICA_OK);
	assert_int_equal(len, IDLTEST_TEXT_S_MAX);
	assert_int_equal(strlen(sback), IDLTEST_TEXT_S_MAX);
	for (int i = 0; i < IDLTEST_TEXT_S_MAX; i++)
		assert_int_equal(sback[i], str[IDLTEST_TEXT_S_MAX - 1 - i]);
	/* One byte over: refused, nothing sent. */
	str[IDLTEST_TEXT_S_MAX] = 'z';
	str[IDLTEST_TEXT_S_MAX + 1] = '\0';
	assert_int_equal(idltest_text(EP, str, sback, &len), MICA_EINVAL);
	assert_int_equal(calls_sent, 2);
}

static void test_structs_past_the_words(void **state)
{
	(void)state;
	/* 11 request slots: 3 in the buffer head, before the name and the tag. */
	assert_int_equal(IDLTEST_SHAPES_REQ_SLOTS, 11);
	assert_int_equal(IDLTEST_SHAPES_REQ_HEAD, 24);
	struct idltest_shape s = {.a = {INT32_MIN, INT32_MAX},
	                          .b = {-1, 0},
	                          .sides = UINT16_MAX,
	                          .filled = true,
	                          .layer = INT8_MIN,
	                          .id = UINT64_MAX},
	                     t;
	uint8_t tag[IDLTEST_SHAPES_TAG_MAX], tag2[IDLTEST_SHAPES_TAG2_MAX];
	char name2[IDLTEST_SHAPES_NAME2_MAX + 1];
	uint64_t extra2;
	uint32_t tag2_len;

	memset(tag, 0xab, sizeof(tag));
	tag[0] = 0;
	assert_int_equal(idltest_shapes(EP, &s, 41, "sixteen-bytes-ok", tag, sizeof(tag), &t,
	                                &extra2, name2, tag2, &tag2_len),
	                 MICA_OK);
	assert_true(t.a.x == -1 && t.a.y == 0 && t.b.x == INT32_MIN && t.b.y == INT32_MAX);
	assert_true(t.sides == UINT16_MAX && t.filled && t.layer == INT8_MIN && t.id == UINT64_MAX);
	assert_int_equal(extra2, 42);
	assert_string_equal(name2, "sixteen-bytes-ok");
	assert_int_equal(tag2_len, sizeof(tag));
	assert_memory_equal(tag2, tag, sizeof(tag));
	/* Empty name and tag; a zero shape. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
	    idltest_shapes(EP, &s, UINT64_MAX, "", tag, 0, &t, &extra2, name2, tag2, &tag2_len),
	    MICA_OK);
	assert_true(t.a.x == 0 && !t.filled && t.id == 0 && extra2 == 0);
	assert_string_equal(name2, "");
	assert_int_equal(tag2_len, 0);
}

static void test_handles(void **state)
{
	(void)state;
	int64_t probe;
	mica_handle_t h = handle_new(), out = MICA_HANDLE_NONE;

	/* Copied: the server gets its own, the caller keeps its. */
	assert_int_equal(idltest_copy_in(EP, h, &probe), MICA_OK);
	assert_true(probe > 0 && probe != h && !handle_is_open((mica_handle_t)probe));
	assert_true(handle_is_open(h));
	/* Moved: gone from the caller. */
	assert_int_equal(idltest_move_in(EP, h, &probe), MICA_OK);
	assert_true(probe > 0 && !handle_is_open(h));
	/* None: refused before sending. */
	assert_int_equal(idltest_copy_in(EP, MICA_HANDLE_NONE, &probe), MICA_EBADH);
	assert_int_equal(calls_sent, 2);
	/* Out, copied: both sides hold one. */
	assert_int_equal(idltest_copy_out(EP, &out), MICA_OK);
	assert_true(handle_is_open(out) && handle_is_open(st.kept) && out != st.kept);
	/* Out, moved: only the caller. */
	assert_int_equal(idltest_move_out(EP, &out), MICA_OK);
	assert_true(handle_is_open(out) && !handle_is_open(st.got));
	assert_int_equal(handles_open(), 3); /* the copy_out pair and the moved one */
}

static void test_status_and_badge(void **state)
{
	(void)state;
	uint64_t never = 1234, who = 0;

	assert_int_equal(idltest_fail(EP, MICA_EPERM, &never), MICA_EPERM);
	assert_int_equal(never, 1234); /* untouched on an error */
	assert_int_equal(idltest_fail(EP, INT32_MIN, &never), INT32_MIN);
	assert_int_equal(idltest_fail(EP, 0, &never), MICA_OK);
	assert_int_equal(never, 99);
	/* A positive status is no status: the dispatch replaces it. */
	assert_int_equal(idltest_fail(EP, 3, &never), MICA_EBADMSG);
	assert_int_equal(idltest_absent(EP), MICA_ENOMETHOD);
	call_badge = 0xfeedface12345678ull;
	assert_int_equal(idltest_whoami(EP, &who), MICA_OK);
	assert_int_equal(who, 0xfeedface12345678ull);
}

/* ---- malformed requests: each gets an error reply and reaches no handler ---- */

static uint8_t rq_buf[MICA_MSG_BUF_MAX], rp_buf[MICA_MSG_BUF_MAX];

/* A request by hand, as a careless or hostile client might send it. */
static struct ipc_msg raw(uint64_t label, uint32_t len)
{
	struct ipc_msg m;

	ipc_msg_init(&m, label, rq_buf, sizeof(rq_buf));
	m.len = len;
	return m;
}

/* Dispatch req; expect `status` alone in the reply, no handler called, no handle left. */
static void expect_refused(const struct ipc_msg *req, int status)
{
	struct ipc_msg rep;
	unsigned calls = st.calls;

	ipc_msg_init(&rep, 0, rp_buf, sizeof(rp_buf));
	rep.len = 99, rep.m.w[3] = 5; /* dirt the dispatch must clear */
	assert_int_equal(idltest_dispatch(&ops, &st, req, &rep), status);
	assert_int_equal(st.calls, calls);
	assert_int_equal(rep.m.label, MICA_IDL_STATUS_LABEL(status));
	assert_int_equal(rep.len, 0);
	assert_int_equal(rep.handle, MICA_HANDLE_NONE);
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		assert_int_equal(rep.m.w[i], 0);
	assert_int_equal(handles_open(), 0);
}

static void expect_served(const struct ipc_msg *req)
{
	struct ipc_msg rep;
	unsigned calls = st.calls;

	ipc_msg_init(&rep, 0, rp_buf, sizeof(rp_buf));
	assert_int_equal(idltest_dispatch(&ops, &st, req, &rep), MICA_OK);
	assert_int_equal(st.calls, calls + 1);
}

static void test_unknown_labels(void **state)
{
	(void)state;
	static const uint64_t labels[] = {
	    0,
	    1,
	    MICA_IDL_LABEL(IDLTEST_NUMBER, 0),
	    MICA_IDL_LABEL(IDLTEST_NUMBER, 13),
	    MICA_IDL_LABEL(IDLTEST_NUMBER, 0xFFFF),
	    MICA_IDL_LABEL(IDLTEST_NUMBER + 1, 1),
	    MICA_IDL_LABEL(1, 1),
	    IDLTEST_LABEL_INTS | (1ull << 32),
	    MICA_LABEL_FAULT,
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		struct ipc_msg m = raw(labels[i], 0);
		expect_refused(&m, MICA_ENOMETHOD);
		m.handle = handle_new(); /* a handle with it is closed */
		expect_refused(&m, MICA_ENOMETHOD);
	}
	/* A method no handler serves. */
	struct ipc_msg m = raw(IDLTEST_LABEL_ABSENT, 0);
	expect_refused(&m, MICA_ENOMETHOD);
	m.handle = handle_new();
	expect_refused(&m, MICA_ENOMETHOD);
}

static void test_bad_integers_and_bools(void **state)
{
	(void)state;
	/* Slot, a bad word, and a good word at that slot's edge. */
	static const struct {
		int slot;
		uint64_t bad, edge;
	} cases[] = {
	    {0, 128, (uint64_t)-128},                       /* i8 */
	    {0, (uint64_t)-129, 127},                       /* i8 */
	    {0, 0xff, (uint64_t)-1},                        /* i8: 0xff is not -1 */
	    {1, 0x8000, (uint64_t)INT16_MIN},               /* i16 */
	    {2, 0x80000000u, (uint64_t)(int64_t)INT32_MIN}, /* i32 */
	    {2, 0xffffffffu, (uint64_t)-1},                 /* i32, not sign-extended */
	    {4, 256, 255},                                  /* u8 */
	    {5, 0x10000, 0xffff},                           /* u16 */
	    {6, 1ull << 32, 0xffffffffu},                   /* u32 */
	    {4, (uint64_t)-1, 0},                           /* u8 */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipc_msg m = raw(IDLTEST_LABEL_INTS, 0);
		m.m.w[cases[i].slot] = cases[i].bad;
		expect_refused(&m, MICA_EBADMSG);
		m.m.w[cases[i].slot] = cases[i].edge;
		expect_served(&m);
	}
	/* i64 and u64 take any word. */
	struct ipc_msg m = raw(IDLTEST_LABEL_INTS, 0);
	m.m.w[3] = m.m.w[7] = ~0ull;
	expect_served(&m);
	/* Bools are 0 or 1. */
	static const uint64_t bools[] = {2, 0x100, ~0ull};
	for (size_t i = 0; i < 3; i++) {
		m = raw(IDLTEST_LABEL_FLAGS, 0);
		m.m.w[1] = bools[i];
		expect_refused(&m, MICA_EBADMSG);
	}
	/* A struct's fields are checked too (shape: sides u16 at w4, filled at w5). */
	m = raw(IDLTEST_LABEL_SHAPES, IDLTEST_SHAPES_REQ_HEAD + 1);
	m.m.w[5] = 2;
	expect_refused(&m, MICA_EBADMSG);
	m.m.w[5] = 1;
	m.m.w[4] = 0x10000;
	expect_refused(&m, MICA_EBADMSG);
	m.m.w[4] = 3;
	rq_buf[IDLTEST_SHAPES_REQ_HEAD] = 0; /* the empty name's NUL */
	memset(rq_buf, 0, IDLTEST_SHAPES_REQ_HEAD);
	expect_served(&m);
}

static void test_bad_lengths(void **state)
{
	(void)state;
	struct ipc_msg m;

	/* Registers only, yet buffer bytes came. */
	m = raw(IDLTEST_LABEL_INTS, 1);
	expect_refused(&m, MICA_EBADMSG);
	m = raw(IDLTEST_LABEL_WHOAMI, MICA_MSG_BUF_MAX);
	expect_refused(&m, MICA_EBADMSG);
	/* blob: the length word against the bound and the bytes that came. */
	static const struct {
		uint64_t word;
		uint32_t len;
		int ok;
	} blobs[] =
	    {
	        {0, 0, 1},          {10, 10, 1},
	        {4096, 4096, 1},    {10, 9, 0},
	        {10, 11, 0},        {4097, 4096, 0},
	        {1ull << 63, 0, 0}, {(1ull << 32) + 5, 5, 0}, /* would be 5 if cut to 32 bits */
	        {~0ull, 4095, 0},
	    };
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++) {
		m = raw(IDLTEST_LABEL_BLOB, blobs[i].len);
		m.m.w[0] = blobs[i].word;
		if (blobs[i].ok)
			expect_served(&m);
		else
			expect_refused(&m, MICA_EBADMSG);
	}
	/* A message cut by the kernel: more sent than the receiver had room for. */
	m = raw(IDLTEST_LABEL_BLOB, 100);
	m.m.w[0] = 100;
	m.cap = 50;
	expect_refused(&m, MICA_EBADMSG);
	/* shapes: the buffer head must be there. */
	m = raw(IDLTEST_LABEL_SHAPES, IDLTEST_SHAPES_REQ_HEAD - 8);
	expect_refused(&m, MICA_EBADMSG);
	/* shapes: a bound in the head too large (name at head+8). */
	m = raw(IDLTEST_LABEL_SHAPES, IDLTEST_SHAPES_REQ_HEAD + 18);
	memset(rq_buf, 0, IDLTEST_SHAPES_REQ_HEAD + 18);
	ipc_store64(rq_buf + 8, 17);
	expect_refused(&m, MICA_EBADMSG);
	ipc_store64(rq_buf + 8, 16);
	memset(rq_buf + IDLTEST_SHAPES_REQ_HEAD, 'n', 16);
	rq_buf[IDLTEST_SHAPES_REQ_HEAD + 16] = 0;
	rq_buf[IDLTEST_SHAPES_REQ_HEAD + 17] = 0;
	expect_refused(&m, MICA_EBADMSG); /* one byte more than name and NUL */
	m.len--;
	expect_served(&m);
	/*
	 * Exactly one over a bound and otherwise well formed (text, then its
	 * NUL; bytes that all came): refused. A bound check off by one would
	 * let a handler write one byte past its buffer.
	 */
	const uint32_t H = IDLTEST_SHAPES_REQ_HEAD;
	m = raw(IDLTEST_LABEL_SHAPES, H + IDLTEST_SHAPES_NAME_MAX + 2);
	memset(rq_buf, 0, H);
	ipc_store64(rq_buf + 8, IDLTEST_SHAPES_NAME_MAX + 1);
	memset(rq_buf + H, 'n', IDLTEST_SHAPES_NAME_MAX + 1);
	rq_buf[H + IDLTEST_SHAPES_NAME_MAX + 1] = 0;
	expect_refused(&m, MICA_EBADMSG);
	m = raw(IDLTEST_LABEL_SHAPES, H + 1 + IDLTEST_SHAPES_TAG_MAX + 1);
	memset(rq_buf, 0, H + 1);
	ipc_store64(rq_buf + 16, IDLTEST_SHAPES_TAG_MAX + 1);
	memset(rq_buf + H + 1, 't', IDLTEST_SHAPES_TAG_MAX + 1);
	expect_refused(&m, MICA_EBADMSG);
	/* And at the bound: served. */
	m = raw(IDLTEST_LABEL_SHAPES, H + 1 + IDLTEST_SHAPES_TAG_MAX);
	ipc_store64(rq_buf + 16, IDLTEST_SHAPES_TAG_MAX);
	expect_served(&m);
}

static void test_bad_strings(void **state)
{
	(void)state;
	static const struct {
		const char *bytes; /* sent as they are, len bytes */
		uint32_t len;
		uint64_t word;
		int ok;
	} cases[] = {
	    {"abc", 4, 3, 1},  /* "abc" and its NUL */
	    {"", 1, 0, 1},     /* empty */
	    {"abcd", 4, 3, 0}, /* no NUL after */
	    {"a\0c", 4, 3, 0}, /* a NUL inside */
	    {"abc", 4, 4, 0},  /* the NUL counted as text */
	    {"abc", 3, 3, 0},  /* the NUL missing from the buffer */
	    {"", 0, 0, 0},     /* empty, without its NUL */
	    {"abc", 4, 2, 0},  /* length short of the NUL */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ipc_msg m = raw(IDLTEST_LABEL_TEXT, cases[i].len);
		memcpy(rq_buf, cases[i].bytes, cases[i].len);
		m.m.w[0] = cases[i].word;
		if (cases[i].ok)
			expect_served(&m);
		else
			expect_refused(&m, MICA_EBADMSG);
	}
	/* Longer than the bound. */
	struct ipc_msg m = raw(IDLTEST_LABEL_TEXT, MICA_MSG_BUF_MAX);
	memset(rq_buf, 'q', MICA_MSG_BUF_MAX);
	m.m.w[0] = MICA_MSG_BUF_MAX;
	expect_refused(&m, MICA_EBADMSG);
}

static void test_bad_handles(void **state)
{
	(void)state;
	struct ipc_msg m;

	/* Missing. */
	m = raw(IDLTEST_LABEL_COPY_IN, 0);
	expect_refused(&m, MICA_EBADMSG);
	m = raw(IDLTEST_LABEL_MOVE_IN, 0);
	expect_refused(&m, MICA_EBADMSG);
	/* Unasked: closed, not leaked. */
	m = raw(IDLTEST_LABEL_INTS, 0);
	m.handle = handle_new();
	expect_refused(&m, MICA_EBADMSG);
	m = raw(IDLTEST_LABEL_COPY_OUT, 0);
	m.handle = handle_new();
	expect_refused(&m, MICA_EBADMSG);
	/* With a handle but another fault: still closed. */
	m = raw(IDLTEST_LABEL_COPY_IN, 3);
	m.handle = handle_new();
	expect_refused(&m, MICA_EBADMSG);
}

/* ---- the server's own mistakes: caught before the reply goes out ---- */

static void test_handler_bugs(void **state)
{
	(void)state;
	struct ipc_msg m, rep;

	st.bug = BUG_LONG_STRING;
	m = raw(IDLTEST_LABEL_TEXT, 1);
	rq_buf[0] = 0;
	ipc_msg_init(&rep, 0, rp_buf, sizeof(rp_buf));
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_EBADMSG);
	assert_int_equal(rep.len, 0);
	st.bug = BUG_LONG_BYTES;
	m = raw(IDLTEST_LABEL_BLOB, 0);
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_EBADMSG);
	st.bug = BUG_NO_HANDLE;
	m = raw(IDLTEST_LABEL_COPY_OUT, 0);
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_EBADMSG);
	assert_int_equal(rep.handle, MICA_HANDLE_NONE);
	/* A moved-out handle with an error reply is closed, not leaked. */
	st.bug = BUG_POSITIVE;
	m = raw(IDLTEST_LABEL_MOVE_OUT, 0);
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_EPERM);
	assert_false(handle_is_open(st.got));
	assert_int_equal(handles_open(), 0);
	/* Positive: not a status. */
	m = raw(IDLTEST_LABEL_INTS, 0);
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_EBADMSG);
	assert_int_equal(rep.m.label, MICA_IDL_STATUS_LABEL(MICA_EBADMSG));
	/* No room for the reply. */
	st.bug = BUG_NONE;
	m = raw(IDLTEST_LABEL_BLOB, 0);
	ipc_msg_init(&rep, 0, rp_buf, IDLTEST_BLOB_REP_BUF_MAX - 1);
	assert_int_equal(idltest_dispatch(&ops, &st, &m, &rep), MICA_ENOMEM);
}

/* ---- malformed replies: the client stub returns MICA_EBADMSG, writes nothing ---- */

static struct ipc_msg crafted; /* the reply the crafting server sends */
static uint8_t crafted_buf[MICA_MSG_BUF_MAX];

static int craft(const struct ipc_msg *req, struct ipc_msg *rep)
{
	(void)req;
	uint8_t *buf = rep->buf;

	*rep = crafted;
	rep->buf = buf;
	memcpy(buf, crafted_buf, crafted.len);
	return 0;
}

static void reply_with(uint64_t label, uint32_t len)
{
	ipc_msg_init(&crafted, label, crafted_buf, sizeof(crafted_buf));
	crafted.len = len;
	server = craft;
}

static void test_bad_replies(void **state)
{
	(void)state;
	int8_t a = 9;
	int16_t b;
	int32_t c;
	int64_t d;
	uint8_t e;
	uint16_t f;
	uint32_t g, n;
	uint64_t h;
	mica_handle_t out = MICA_HANDLE_NONE;

#define INTS() idltest_ints(EP, 0, 0, 0, 0, 0, 0, 0, 0, &a, &b, &c, &d, &e, &f, &g, &h)
	/* A label that is no status: positive, or past 32 bits. */
	reply_with(5, 0);
	assert_int_equal(INTS(), MICA_EBADMSG);
	reply_with(1ull << 32, 0);
	assert_int_equal(INTS(), MICA_EBADMSG);
	/* An error status: returned, with a handle that came along closed. */
	reply_with(MICA_IDL_STATUS_LABEL(MICA_ENOENT), 0);
	ipc_msg_handle(&crafted, handle_new(), MICA_XFER_MOVE);
	assert_int_equal(INTS(), MICA_ENOENT);
	/* Success with a value out of its type's range. */
	reply_with(0, 0);
	crafted.m.w[0] = 200; /* an i8 */
	assert_int_equal(INTS(), MICA_EBADMSG);
	assert_int_equal(a, 9); /* nothing written */
	/* Success with buffer bytes or a handle it should not have. */
	reply_with(0, 1);
	assert_int_equal(INTS(), MICA_EBADMSG);
	reply_with(0, 0);
	ipc_msg_handle(&crafted, handle_new(), MICA_XFER_MOVE);
	assert_int_equal(INTS(), MICA_EBADMSG);
	assert_int_equal(handles_open(), 0);
#undef INTS
	/* Bytes: length against what came, against the bound; cut by the receiver. */
	reply_with(0, 5);
	crafted.m.w[0] = 6;
	assert_int_equal(idltest_blob(EP, big, 0, back, &n), MICA_EBADMSG);
	reply_with(0, 4096);
	crafted.m.w[0] = 4097;
	assert_int_equal(idltest_blob(EP, big, 0, back, &n), MICA_EBADMSG);
	reply_with(0, 0);
	crafted.m.w[0] = 0;
	assert_int_equal(idltest_blob(EP, big, 0, back, &n), MICA_OK);
	assert_int_equal(n, 0);
	/* Strings: no NUL. */
	reply_with(0, 3);
	memcpy(crafted_buf, "abc", 3);
	crafted.m.w[0] = 2;
	assert_int_equal(idltest_text(EP, "x", sback, &g), MICA_EBADMSG);
	/* Longer than the client's room: cut by the kernel, refused. */
	struct idltest_shape s = {0}, t = {.id = 5};
	reply_with(0, IDLTEST_SHAPES_REP_BUF_MAX + 1);
	assert_int_equal(idltest_shapes(EP, &s, 0, "", big, 0, &t, &h, sback, back, &n),
	                 MICA_EBADMSG);
	assert_int_equal(t.id, 5);
	/* A handle missing from a reply that must carry one. */
	reply_with(0, 0);
	assert_int_equal(idltest_copy_out(EP, &out), MICA_EBADMSG);
	assert_int_equal(out, MICA_HANDLE_NONE);
	/* A reply from the kernel's range is refused by the (fake) kernel itself. */
	reply_with(MICA_LABEL_FAULT, 0);
	assert_int_equal(idltest_fail(EP, 0, &h), MICA_EINVAL);
}

/* ---- the server loop ---- */

/* Scripted endpoint: each receive delivers the next step's message. */
static unsigned step;
static struct ipc_msg replies[8];

static void deliver(struct ipc_msg *req, uint64_t label, uint64_t w0, uint64_t badge)
{
	req->m.label = label;
	req->m.w[0] = w0;
	req->badge = badge;
	req->len = 0;
	req->handle = MICA_HANDLE_NONE;
}

static int64_t script(struct ipc_msg *req)
{
	assert_int_equal(req->cap, MICA_MSG_BUF_MAX);
	switch (step++) {
	case 0:
		deliver(req, IDLTEST_LABEL_WHOAMI, 0, 77);
		return MICA_OK;
	case 1:
		deliver(req, MICA_LABEL_FAULT, 0x1000, 5);
		return MICA_OK;
	case 2:
		deliver(req, MICA_LABEL_EXIT, 3, 6);
		return MICA_OK;
	case 3:
		return MICA_EPEER; /* the caller died before the answer */
	case 4:
		deliver(req, MICA_IDL_LABEL(9, 9), 0, 0);
		req->handle = handle_new();
		return MICA_OK;
	default:
		return MICA_EBADH; /* the endpoint is gone */
	}
}

int64_t ipc_recv(mica_handle_t ep, struct ipc_msg *req)
{
	assert_int_equal(ep, EP);
	assert_int_equal(step, 0);
	return script(req);
}

int64_t ipc_reply_recv(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req)
{
	assert_int_equal(ep, EP);
	assert_true(step > 0 && step <= 8);
	replies[step - 1] = *rep;
	return script(req);
}

/* The server loop waits through these: without an idle callback, for ever. */
int64_t ipc_recv_timeout(mica_handle_t ep, struct ipc_msg *req, uint64_t timeout_ns)
{
	assert_true(timeout_ns == IPC_FOREVER);
	return ipc_recv(ep, req);
}

int64_t ipc_reply_recv_timeout(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req,
                               uint64_t timeout_ns)
{
	assert_true(timeout_ns == IPC_FOREVER);
	return ipc_reply_recv(ep, rep, req);
}

static unsigned kernel_calls;

static void on_kernel(void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	assert_ptr_equal(ctx, &st);
	kernel_calls++;
	if (req->m.label == MICA_LABEL_FAULT) {
		assert_int_equal(req->m.w[0], 0x1000);
		rep->m.label = MICA_FAULT_RESUME;
	}
}

static struct ipc_server srv; /* 8 KiB of buffers */

static void test_server_loop(void **state)
{
	(void)state;
	for (int with_callback = 0; with_callback < 2; with_callback++) {
		step = kernel_calls = 0;
		memset(replies, 0, sizeof(replies));
		idltest_server_init(&srv, &ops, &st);
		if (with_callback)
			srv.kernel = on_kernel;
		assert_int_equal(ipc_serve(&srv, EP), MICA_EBADH);
		/* whoami: the badge came back. */
		assert_int_equal(replies[0].m.label, 0);
		assert_int_equal(replies[0].m.w[0], 77);
		/* The fault: resumed by the callback, else killed. */
		assert_int_equal(replies[1].m.label,
		                 with_callback ? MICA_FAULT_RESUME : MICA_FAULT_KILL);
		assert_int_equal(kernel_calls, with_callback ? 2 : 0);
		/* After EPEER: an answer to nobody, then the next message. */
		assert_int_equal(replies[3].m.label, MICA_IDL_STATUS_LABEL(MICA_EPEER));
		/* Another interface's label: refused, its handle closed. */
		assert_int_equal(replies[4].m.label, MICA_IDL_STATUS_LABEL(MICA_ENOMETHOD));
		assert_int_equal(handles_open(), 0);
		/* The endpoint gone: one retry, then the loop returns. */
		assert_int_equal(step, 7);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_ints_limits, setup),
	    cmocka_unit_test_setup(test_bools, setup),
	    cmocka_unit_test_setup(test_bytes_limits, setup),
	    cmocka_unit_test_setup(test_strings_limits, setup),
	    cmocka_unit_test_setup(test_structs_past_the_words, setup),
	    cmocka_unit_test_setup(test_handles, setup),
	    cmocka_unit_test_setup(test_status_and_badge, setup),
	    cmocka_unit_test_setup(test_unknown_labels, setup),
	    cmocka_unit_test_setup(test_bad_integers_and_bools, setup),
	    cmocka_unit_test_setup(test_bad_lengths, setup),
	    cmocka_unit_test_setup(test_bad_strings, setup),
	    cmocka_unit_test_setup(test_bad_handles, setup),
	    cmocka_unit_test_setup(test_handler_bugs, setup),
	    cmocka_unit_test_setup(test_bad_replies, setup),
	    cmocka_unit_test_setup(test_server_loop, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
