/*
 * libipc: messages as the IDL stubs see them. A struct ipc_msg is one
 * direction of an IPC: the label and words, the buffer and the handle.
 * Helpers here read and write its slots (include/mica/idl.h), check
 * values, copy bytes (no libc) and drop handles; the transport below moves
 * messages. libipc/ipc.c is the transport over the kernel; the host tests
 * link a fake one instead, so everything else here builds on the host too.
 */
#ifndef LIBIPC_IPC_H
#define LIBIPC_IPC_H

#include <libipc/syscall.h>
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/idl.h>
#include <mica/ipc.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ipc_msg {
	/* The registers. */
	struct mica_msg m; /* label and words */
	/* The buffer: what to send (len bytes), or where to receive (cap bytes). */
	uint8_t *buf;
	uint32_t len; /* sending: bytes to send; received: bytes the sender sent */
	uint32_t cap; /* receiving: bytes buf holds (a longer message is cut: len > cap) */
	/* The handle: to send (with xfer), or received; MICA_HANDLE_NONE for none. */
	mica_handle_t handle;
	uint32_t xfer; /* MICA_XFER_COPY or MICA_XFER_MOVE */
	/* Received: the badge of the handle the message came through (0 for a reply). */
	uint64_t badge;
};

/* ---- the transport (libipc/ipc.c on Mica; a fake in the host tests) ---- */

/* A wait with no time limit (the transport's timeouts are in ns otherwise). */
#define IPC_FOREVER UINT64_MAX

/*
 * Send req on endpoint ep as a call and receive the reply into rep (its buf
 * and cap say where; the rest is filled in). Returns 0 or the kernel's
 * error (nothing was received then).
 */
int64_t ipc_call(mica_handle_t ep, const struct ipc_msg *req, struct ipc_msg *rep);

/* Receive the next message on ep into req (buf and cap say where). Returns 0 or an error. */
int64_t ipc_recv(mica_handle_t ep, struct ipc_msg *req);

/*
 * Answer the caller this thread owes (if any) with rep, then receive the
 * next message on ep into req. Returns as ipc_recv; MICA_EPEER without
 * receiving if the caller died before the answer (call again).
 */
int64_t ipc_reply_recv(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req);

/*
 * ipc_recv and ipc_reply_recv that wait at most timeout_ns for the next
 * message (0 polls; IPC_FOREVER: no limit, as the plain ones), then return
 * MICA_ETIMEDOUT having received nothing (the reply went out, if one was
 * owed).
 */
int64_t ipc_recv_timeout(mica_handle_t ep, struct ipc_msg *req, uint64_t timeout_ns);
int64_t ipc_reply_recv_timeout(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req,
                               uint64_t timeout_ns);

/*
 * The transport's timeout for every later ipc_call of this program, and so
 * for every IDL client stub, whose signatures stay as they are: a call not
 * answered within timeout_ns (at least 1, at most MICA_TIMEOUT_MAX)
 * returns MICA_ETIMEDOUT (sent or not: the server's late answer goes
 * nowhere). IPC_FOREVER, the default, waits as long as it takes. Returns
 * the setting it replaces. One setting per program (libipc keeps no
 * per-thread state): a program whose threads want different ones sets it
 * around its calls.
 */
uint64_t ipc_set_call_timeout(uint64_t timeout_ns);

/*
 * on: every thread of this program has an IPC buffer (mica_ipc_buffer_set;
 * the runtime gives each one), so messages that fit one (at most
 * MICA_IPC_BUFFER_DATA bytes each way) go through the calling thread's.
 * Off (the default): by descriptor. One setting per program.
 */
void ipc_buffers_enable(bool on);
bool ipc_buffers_on(void);

/* Drop handle h. Returns 0 or MICA_EBADH. */
int64_t ipc_handle_close(mica_handle_t h);

/* ---- messages ---- */

/* An empty message with `label`, buffer buf of cap bytes, no handle. */
static inline void ipc_msg_init(struct ipc_msg *m, uint64_t label, void *buf, uint32_t cap)
{
	m->m.label = label;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		m->m.w[i] = 0;
	m->buf = (uint8_t *)buf;
	m->len = 0;
	m->cap = cap;
	m->handle = MICA_HANDLE_NONE;
	m->xfer = MICA_XFER_COPY;
	m->badge = 0;
}

/* Make rep an error reply with `status`: nothing but the label (idl.h). */
static inline void ipc_msg_status(struct ipc_msg *rep, int status)
{
	ipc_msg_init(rep, MICA_IDL_STATUS_LABEL(status), rep->buf, rep->cap);
}

/*
 * The status a reply carries: 0, a negative MICA_E* code, or MICA_EBADMSG
 * if its label is no status at all.
 */
static inline int ipc_reply_status(const struct ipc_msg *rep)
{
	if (rep->m.label > MICA_IDL_STATUS_LABEL_MAX || (int32_t)(uint32_t)rep->m.label > 0)
		return MICA_EBADMSG;
	return (int32_t)(uint32_t)rep->m.label;
}

/* ---- bytes (freestanding: no libc) ---- */

/*
 * Copy n bytes from src to dst; they may overlap if dst <= src. Eight bytes
 * a step (`rep movsq`, forward: a word is read before the words after it
 * are written, so dst <= src is safe), then the tail a byte a step; a copy
 * onto itself (a server's reply moved down to its place) does nothing.
 * Under QEMU -icount each iteration of a `rep` counts as an instruction.
 */
static inline void ipc_copy(void *dst, const void *src, uint32_t n)
{
	uint64_t words = n / 8, bytes = n % 8;

	if (dst == src || n == 0)
		return;
	__asm__ volatile("rep movsq\n\tmovq %3, %%rcx\n\trep movsb"
	                 : "+D"(dst), "+S"(src), "+c"(words)
	                 : "r"(bytes)
	                 : "memory");
}

/* The length of string s, looking at no more than max bytes (max if no NUL is there). */
static inline uint32_t ipc_strnlen(const char *s, uint32_t max)
{
	uint32_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

/* Are the len bytes at s free of NUL, with a NUL right after them? */
static inline bool ipc_string_ok(const uint8_t *s, uint32_t len)
{
	return ipc_strnlen((const char *)s, len) == len && s[len] == 0;
}

/* A buffer-head slot: 8 bytes, little-endian, at p (no alignment needed). */
static inline uint64_t ipc_load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void ipc_store64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

/* ---- values: is word w a valid encoding of the type? ---- */

/* A signed integer of `bits` (1-63) bits, sign-extended to 64. */
static inline bool ipc_fits_signed(uint64_t w, unsigned bits)
{
	int64_t v = (int64_t)w, lim = (int64_t)1 << (bits - 1);

	return v >= -lim && v < lim;
}

/* An unsigned integer of `bits` (1-63) bits, zero-extended to 64. */
static inline bool ipc_fits_unsigned(uint64_t w, unsigned bits)
{
	return (w >> bits) == 0;
}

/* A bool: 0 or 1. */
static inline bool ipc_fits_bool(uint64_t w)
{
	return w <= 1;
}

/* ---- handles ---- */

/* Close h unless it is MICA_HANDLE_NONE (a handle nobody will use). */
static inline void ipc_handle_drop(mica_handle_t h)
{
	if (h != MICA_HANDLE_NONE)
		(void)ipc_handle_close(h);
}

/* Attach handle h to m, to be copied or moved (MICA_XFER_*) when m is sent. */
static inline void ipc_msg_handle(struct ipc_msg *m, mica_handle_t h, uint32_t xfer)
{
	m->handle = h;
	m->xfer = xfer;
}

#endif /* LIBIPC_IPC_H */
