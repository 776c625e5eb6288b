/*
 * idltest: the IDL stubs through a real kernel endpoint, run as the first
 * user task with idle=exit. The first thread is the client: every type at
 * its limits through the generated stubs, then malformed messages sent by
 * hand with mica_call (each gets an error reply; the server goes on), then
 * kernel messages on the same endpoint, then the shutdown. This file: the
 * helpers and the tests; server.c: the server thread.
 */
#include "idltest.h"

/* ---- output (the user runtime comes with a later issue) ---- */

static mica_handle_t self_as;

long spawn(void (*entry)(uint64_t), void *top, uint64_t arg, mica_handle_t pager,
           mica_handle_t supervisor)
{
	struct mica_thread_params p = {.entry = (uint64_t)entry,
	                               .stack_top = (uint64_t)top,
	                               .arg = arg,
	                               .priority = 16,
	                               .pager = pager,
	                               .supervisor = supervisor};

	return mica_thread_create(self_as, &p);
}

static bool same(const void *a, const void *b, uint32_t n)
{
	const uint8_t *x = a, *y = b;

	for (uint32_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return false;
	return true;
}

/* ---- every type at its limits, through the stubs ---- */

static mica_handle_t ep;

static void test_ints(void)
{
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
	};
	for (int i = 0; i < 3; i++) {
		int8_t a;
		int16_t b;
		int32_t c;
		int64_t d;
		uint8_t e;
		uint16_t f;
		uint32_t g;
		uint64_t h;
		int rc = idltest_ints(ep, v[i].a, v[i].b, v[i].c, v[i].d, v[i].e, v[i].f, v[i].g,
		                      v[i].h, &a, &b, &c, &d, &e, &f, &g, &h);
		if (rc)
			return result("idl.ints", "ints gave", rc);
		if (a != v[i].a || b != v[i].b || c != v[i].c || d != v[i].d || e != v[i].e ||
		    f != v[i].f || g != v[i].g || h != v[i].h)
			return result("idl.ints", "a value changed in row", i);
	}
	result("idl.ints", 0, 0);
}

static void test_bools(void)
{
	for (int i = 0; i < 4; i++) {
		bool na, nb;
		int rc = idltest_flags(ep, i & 1, i & 2, &na, &nb);
		if (rc)
			return result("idl.bools", "flags gave", rc);
		if (na != !(i & 1) || nb != !(i & 2))
			return result("idl.bools", "wrong answer for", i);
	}
	result("idl.bools", 0, 0);
}

static uint8_t data[IDLTEST_BLOB_DATA_MAX + 1], back[IDLTEST_BLOB_BACK_MAX];

static void test_bytes(void)
{
	static const uint32_t lens[] = {0, 1, 4095, IDLTEST_BLOB_DATA_MAX};
	uint32_t n;
	int rc;

	for (uint32_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 5);
	for (int k = 0; k < 4; k++) {
		if ((rc = idltest_blob(ep, data, lens[k], back, &n)))
			return result("idl.bytes", "blob gave", rc);
		if (n != lens[k])
			return result("idl.bytes", "length came back as", n);
		for (uint32_t i = 0; i < n; i++)
			if (back[i] != data[n - 1 - i])
				return result("idl.bytes", "wrong byte at", i);
	}
	rc = idltest_blob(ep, data, IDLTEST_BLOB_DATA_MAX + 1, back, &n);
	result("idl.bytes", rc == MICA_EINVAL ? 0 : "one byte over the bound gave", rc);
}

static char str[IDLTEST_TEXT_S_MAX + 2], sback[IDLTEST_TEXT_BACK_MAX + 1];

static void test_strings(void)
{
	uint32_t len;
	int rc;

	if ((rc = idltest_text(ep, "", sback, &len)) || len || sback[0])
		return result("idl.strings", "empty string gave", rc ? rc : (long)len);
	for (int i = 0; i < IDLTEST_TEXT_S_MAX; i++)
		str[i] = (char)('A' + i % 26);
	str[IDLTEST_TEXT_S_MAX] = '\0';
	if ((rc = idltest_text(ep, str, sback, &len)))
		return result("idl.strings", "full string gave", rc);
	if (len != IDLTEST_TEXT_S_MAX || ipc_strnlen(sback, sizeof(sback)) != IDLTEST_TEXT_S_MAX)
		return result("idl.strings", "full string came back with length", len);
	for (int i = 0; i < IDLTEST_TEXT_S_MAX; i++)
		if (sback[i] != str[IDLTEST_TEXT_S_MAX - 1 - i])
			return result("idl.strings", "wrong character at", i);
	str[IDLTEST_TEXT_S_MAX] = 'x'; /* one byte over */
	str[IDLTEST_TEXT_S_MAX + 1] = '\0';
	rc = idltest_text(ep, str, sback, &len);
	result("idl.strings", rc == MICA_EINVAL ? 0 : "one byte over the bound gave", rc);
}

static void test_structs(void)
{
	struct idltest_shape s = {.a = {INT32_MIN, INT32_MAX},
	                          .b = {-7, 0},
	                          .sides = UINT16_MAX,
	                          .filled = true,
	                          .layer = INT8_MIN,
	                          .id = UINT64_MAX},
	                     t;
	uint8_t tag[IDLTEST_SHAPES_TAG_MAX], tag2[IDLTEST_SHAPES_TAG2_MAX];
	char name2[IDLTEST_SHAPES_NAME2_MAX + 1];
	uint64_t extra2;
	uint32_t tag2_len;
	int rc;

	for (uint32_t i = 0; i < sizeof(tag); i++)
		tag[i] = (uint8_t)(0xF0 + i);
	/* 11 request slots: the last three in the buffer head, then the name and tag. */
	rc = idltest_shapes(ep, &s, 1ull << 40, "sixteen-chars-ok", tag, sizeof(tag), &t, &extra2,
	                    name2, tag2, &tag2_len);
	if (rc)
		return result("idl.structs", "shapes gave", rc);
	if (t.a.x != -7 || t.a.y != 0 || t.b.x != INT32_MIN || t.b.y != INT32_MAX ||
	    t.sides != UINT16_MAX || !t.filled || t.layer != INT8_MIN || t.id != UINT64_MAX)
		return result("idl.structs", "the shape came back wrong", 0);
	if (extra2 != (1ull << 40) + 1 || !same(name2, "sixteen-chars-ok", 17) ||
	    tag2_len != sizeof(tag) || !same(tag2, tag, sizeof(tag)))
		return result("idl.structs", "the words past the registers came back wrong", 0);
	s = (struct idltest_shape){0};
	rc = idltest_shapes(ep, &s, 0, "", tag, 0, &t, &extra2, name2, tag2, &tag2_len);
	if (rc || t.filled || t.id || extra2 != 1 || name2[0] || tag2_len)
		return result("idl.structs", "empty arrays gave", rc);
	result("idl.structs", 0, 0);
}

static void test_handles(void)
{
	int64_t probe;
	mica_handle_t out;
	int rc;

	/* Copied in: the server can use its copy; ours stays. */
	long e = mica_endpoint_create();
	if ((rc = idltest_copy_in(ep, (mica_handle_t)e, &probe)) || probe != MICA_EAGAIN)
		return result("idl.handles", "copy_in gave", rc ? rc : probe);
	if ((rc = (int)mica_handle_close((mica_handle_t)e)))
		return result("idl.handles", "the copied handle is gone from the client:", rc);
	/* Moved in: ours is gone. */
	e = mica_endpoint_create();
	if ((rc = idltest_move_in(ep, (mica_handle_t)e, &probe)) || probe != MICA_EAGAIN)
		return result("idl.handles", "move_in gave", rc ? rc : probe);
	if ((rc = (int)mica_handle_close((mica_handle_t)e)) != MICA_EBADH)
		return result("idl.handles", "the moved handle is still held:", rc);
	/* None: refused before sending. */
	if ((rc = idltest_copy_in(ep, MICA_HANDLE_NONE, &probe)) != MICA_EBADH)
		return result("idl.handles", "no handle gave", rc);
	/* Out, copied and moved: each a working endpoint of ours. */
	for (int i = 0; i < 2; i++) {
		struct mica_msg m = {0};
		out = MICA_HANDLE_NONE;
		rc = i ? idltest_move_out(ep, &out) : idltest_copy_out(ep, &out);
		if (rc || out == MICA_HANDLE_NONE)
			return result("idl.handles", i ? "move_out gave" : "copy_out gave", rc);
		if ((rc = (int)mica_try_send(out, &m, 0)) != MICA_EAGAIN)
			return result("idl.handles", "the handle out does not work:", rc);
		mica_handle_close(out);
	}
	result("idl.handles", 0, 0);
}

static void test_status(void)
{
	uint64_t never = 5;
	uint32_t n;
	int rc;

	if ((rc = idltest_fail(ep, MICA_EPERM, &never)) != MICA_EPERM || never != 5)
		return result("idl.status", "fail(EPERM) gave", rc);
	if ((rc = idltest_fail(ep, INT32_MIN, &never)) != INT32_MIN)
		return result("idl.status", "fail(INT32_MIN) gave", rc);
	if ((rc = idltest_fail(ep, 0, &never)) != MICA_OK || never != 1)
		return result("idl.status", "fail(0) gave", rc);
	if ((rc = idltest_fail(ep, 9, &never)) != MICA_EBADMSG)
		return result("idl.status", "a positive status gave", rc);
	if ((rc = idltest_absent(ep)) != MICA_ENOMETHOD)
		return result("idl.status", "a method without handler gave", rc);
	if ((rc = idltest_blob(12345, data, 1, back, &n)) != MICA_EBADH)
		return result("idl.status", "a call on a bad handle gave", rc);
	result("idl.status", 0, 0);
}

static void test_badge(void)
{
	uint64_t seen = 1;
	long minted = mica_handle_mint(ep, MICA_RIGHT_SEND, 0xB1D6E);
	int rc;

	if (minted < 0)
		return result("idl.badge", "mint gave", minted);
	if ((rc = idltest_whoami((mica_handle_t)minted, &seen)) || seen != 0xB1D6E)
		return result("idl.badge", "whoami through the badged handle gave",
		              rc ? rc : (long)seen);
	if ((rc = idltest_whoami(ep, &seen)) || seen != 0)
		return result("idl.badge", "whoami unbadged gave", rc ? rc : (long)seen);
	mica_handle_close((mica_handle_t)minted);
	result("idl.badge", 0, 0);
}

/* ---- malformed messages, by hand: an error reply each, and the server goes on ---- */

static uint8_t raw_buf[MICA_MSG_BUF_MAX];

struct raw {
	const char *what;
	uint64_t label;
	int slot;        /* a word to set, or -1 */
	uint64_t word;   /* its value */
	const char *buf; /* the buffer to send (len bytes), or NULL */
	uint32_t len;
	int handle; /* send a fresh endpoint with it, moved */
	int want;   /* the status replied */
};

static const struct raw raws[] = {
    {"unknown method", MICA_IDL_LABEL(IDLTEST_NUMBER, 99), -1, 0, 0, 0, 0, MICA_ENOMETHOD},
    {"another interface", MICA_IDL_LABEL(1, 1), -1, 0, 0, 0, 0, MICA_ENOMETHOD},
    {"a label that is not IDL", 5, -1, 0, 0, 0, 0, MICA_ENOMETHOD},
    {"a method without handler", IDLTEST_LABEL_ABSENT, -1, 0, 0, 0, 0, MICA_ENOMETHOD},
    {"u8 word 256", IDLTEST_LABEL_INTS, 4, 256, 0, 0, 0, MICA_EBADMSG},
    {"i8 word 0x80", IDLTEST_LABEL_INTS, 0, 0x80, 0, 0, 0, MICA_EBADMSG},
    {"i32 not sign-extended", IDLTEST_LABEL_INTS, 2, 0xFFFFFFFFu, 0, 0, 0, MICA_EBADMSG},
    {"bool 2", IDLTEST_LABEL_FLAGS, 0, 2, 0, 0, 0, MICA_EBADMSG},
    {"bytes shorter than their length", IDLTEST_LABEL_BLOB, 0, 10, "123456789", 9, 0, MICA_EBADMSG},
    {"bytes longer than their length", IDLTEST_LABEL_BLOB, 0, 2, "123", 3, 0, MICA_EBADMSG},
    {"bytes length over the bound", IDLTEST_LABEL_BLOB, 0, 4097, 0, 0, 0, MICA_EBADMSG},
    {"bytes length past 32 bits", IDLTEST_LABEL_BLOB, 0, (1ull << 32) + 3, "abc", 3, 0,
     MICA_EBADMSG},
    {"string without NUL", IDLTEST_LABEL_TEXT, 0, 3, "abcd", 4, 0, MICA_EBADMSG},
    {"string with a NUL inside", IDLTEST_LABEL_TEXT, 0, 3, "a\0c", 4, 0, MICA_EBADMSG},
    {"buffer head missing", IDLTEST_LABEL_SHAPES, -1, 0, "12345678", 8, 0, MICA_EBADMSG},
    {"handle missing", IDLTEST_LABEL_COPY_IN, -1, 0, 0, 0, 0, MICA_EBADMSG},
    {"handle unasked", IDLTEST_LABEL_INTS, -1, 0, 0, 0, 1, MICA_EBADMSG},
    {"buffer unasked", IDLTEST_LABEL_WHOAMI, -1, 0, "x", 1, 0, MICA_EBADMSG},
};

static volatile long waiter_rc = 1;
static char waiter_stack[4096] __attribute__((aligned(16)));

static void waiter(uint64_t e)
{
	struct mica_msg m;

	waiter_rc = mica_recv((mica_handle_t)e, &m, 0, 0);
	mica_thread_exit(0);
}

static void test_malformed(void)
{
	struct mica_msg m;
	struct mica_ipc_extra x;
	long rc, e = MICA_HANDLE_NONE;

	for (unsigned i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
		const struct raw *r = &raws[i];
		m = (struct mica_msg){.label = r->label};
		if (r->slot >= 0)
			m.w[r->slot] = r->word;
		x = (struct mica_ipc_extra){.send_buf = (uint64_t)raw_buf,
		                            .send_len = r->len,
		                            .send_handle = MICA_HANDLE_NONE,
		                            .recv_buf = (uint64_t)raw_buf,
		                            .recv_cap = sizeof(raw_buf)};
		ipc_copy(raw_buf, r->buf ? r->buf : "", r->len);
		if (r->handle) {
			/* A fresh endpoint with a thread waiting on it: once the server has
			 * closed the handle it was given, the waiter hears MICA_EPEER. */
			e = mica_endpoint_create();
			spawn(waiter, waiter_stack + sizeof(waiter_stack), (uint64_t)e,
			      MICA_HANDLE_NONE, MICA_HANDLE_NONE);
			for (int k = 0; k < 3; k++)
				mica_yield();
			x.send_handle = (mica_handle_t)e;
			x.send_xfer = MICA_XFER_MOVE;
		}
		if ((rc = mica_call(ep, &m, &x)))
			return result("idl.malformed", r->what, rc);
		if (m.label != MICA_IDL_STATUS_LABEL(r->want) || x.recv_len ||
		    x.recv_handle != MICA_HANDLE_NONE) {
			say(r->what);
			say(": ");
			return result("idl.malformed", "wrong reply, label", (long)m.label);
		}
		for (int k = 0; k < MICA_MSG_WORDS; k++)
			if (m.w[k])
				return result("idl.malformed", r->what, 1000 + k);
		if (r->handle) {
			for (int k = 0; k < 5 && waiter_rc == 1; k++)
				mica_yield();
			if (waiter_rc != MICA_EPEER)
				return result("idl.malformed",
				              "an unasked handle was kept:", waiter_rc);
		}
	}
	/* A malformed send (no caller to answer), then a kernel label (refused by the kernel). */
	m = (struct mica_msg){.label = IDLTEST_LABEL_FLAGS, .w = {7}};
	if ((rc = mica_send(ep, &m, 0)))
		return result("idl.malformed", "a send gave", rc);
	m = (struct mica_msg){.label = MICA_LABEL_FAULT};
	if ((rc = mica_call(ep, &m, 0)) != MICA_EINVAL)
		return result("idl.malformed", "a forged kernel label gave", rc);
	/* The server is still serving. */
	bool na, nb;
	if ((rc = idltest_flags(ep, true, false, &na, &nb)) || na || !nb)
		return result("idl.malformed", "the server stopped serving:", rc);
	result("idl.malformed", 0, 0);
}

/* ---- the kernel's own messages on the same endpoint ---- */

static char faulter_stack[4096] __attribute__((aligned(16)));

static void faulter(uint64_t addr)
{
	(void)*(volatile int *)addr; /* unmapped: a page fault, to the pager */
	mica_thread_exit(-1);        /* not reached: the pager kills it */
}

static void test_kernel_messages(void)
{
	long pager = mica_handle_mint(ep, MICA_RIGHT_SEND, 0xFA);
	long sup = mica_handle_mint(ep, MICA_RIGHT_SEND, 0x5E);
	long t;

	if (pager < 0 || sup < 0)
		return result("idl.kernel_msgs", "mint gave", pager < 0 ? pager : sup);
	t = spawn(faulter, faulter_stack + sizeof(faulter_stack), 0x10000000, (mica_handle_t)pager,
	          (mica_handle_t)sup);
	if (t < 0)
		return result("idl.kernel_msgs", "thread_create gave", t);
	for (int k = 0; k < 50 && kernel_seen.exits == 0; k++)
		mica_yield();
	mica_handle_close((mica_handle_t)pager);
	mica_handle_close((mica_handle_t)sup);
	mica_handle_close((mica_handle_t)t);
	if (kernel_seen.faults != 1 || kernel_seen.fault_badge != 0xFA ||
	    kernel_seen.fault_addr != 0x10000000)
		return result("idl.kernel_msgs", "fault seen:", (long)kernel_seen.faults);
	if (kernel_seen.exits != 1 || kernel_seen.exit_badge != 0x5E ||
	    kernel_seen.exit_reason != MICA_EXIT_PAGER || kernel_seen.exit_code != FAULT_KILL_CODE)
		return result("idl.kernel_msgs", "exit notice seen:", (long)kernel_seen.exits);
	result("idl.kernel_msgs", 0, 0);
}

/* ---- the end: closing the endpoint stops the server ---- */

static void test_shutdown(void)
{
	mica_handle_close(ep); /* the last handle to it: the server's receive fails */
	for (int k = 0; k < 50 && !server_done; k++)
		mica_yield();
	if (!server_done)
		return result("idl.shutdown", "the server still runs", 0);
	result("idl.shutdown", server_rc == MICA_EBADH ? 0 : "ipc_serve returned", server_rc);
}

/* ---- entry ---- */

static char server_stack[16384] __attribute__((aligned(16)));

/* The kernel passes the boot-info page's address in RDI. */
int main(const struct mica_bootinfo *bi)
{
	say("idltest: start\n");
	self_as = bi->aspace;
	long e = mica_endpoint_create();
	if (e < 0 || spawn(server_main, server_stack + sizeof(server_stack), (uint64_t)e,
	                   MICA_HANDLE_NONE, MICA_HANDLE_NONE) < 0) {
		result("idl.ints", "could not start the server", e);
		return 1;
	}
	ep = (mica_handle_t)e;
	test_ints();
	test_bools();
	test_bytes();
	test_strings();
	test_structs();
	test_handles();
	test_status();
	test_badge();
	test_malformed();
	test_kernel_messages();
	test_shutdown();
	say("idltest: done\n");
	return 0;
}
