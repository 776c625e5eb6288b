/*
 * libipc's transport over the kernel: struct ipc_msg to and from the
 * registers and descriptor of the IPC system calls (include/mica/ipc.h).
 *
 * In a program whose every thread has an IPC buffer (the runtime's:
 * ipc_buffers_enable), a message that fits the buffer's data both ways
 * goes through the calling thread's buffer (RBX MICA_IPC_BUFFER), found
 * through FS: the kernel then checks lengths only (docs/PERFORMANCE.md).
 * The bytes are copied into the buffer's data before the call and out of
 * it after, unless the message is already there (buf the buffer's data).
 * A larger message, and every message of a program without buffers,
 * goes by a descriptor on the stack as before.
 */
#include <libipc/ipc.h>

static uint64_t call_timeout = IPC_FOREVER; /* ipc_set_call_timeout */
static bool buffers;                        /* ipc_buffers_enable */

void ipc_buffers_enable(bool on)
{
	buffers = on;
}

bool ipc_buffers_on(void)
{
	return buffers;
}

/*
 * The calling thread's IPC buffer if this message may use it: buffers on,
 * what is sent (out, if not NULL) and the room to receive (in) within its
 * data. NULL: use a descriptor.
 */
static inline struct mica_ipc_buffer *buffer_for(const struct ipc_msg *out,
                                                 const struct ipc_msg *in)
{
	if (!buffers || (out && out->len > MICA_IPC_BUFFER_DATA) || in->cap > MICA_IPC_BUFFER_DATA)
		return 0;
	return mica_ipc_buffer();
}

/* Fill the buffer's head (and data) as extra_fill does a descriptor. */
static void buffer_fill(struct mica_ipc_buffer *b, const struct ipc_msg *out, uint64_t timeout_ns)
{
	if (out) {
		ipc_copy(b->data, out->buf, out->len);
		b->send_len = out->len;
		b->send_handle = out->handle;
		b->send_xfer = out->xfer;
	} else {
		b->send_len = 0;
		b->send_handle = MICA_HANDLE_NONE;
		b->send_xfer = MICA_XFER_COPY;
	}
	b->recv_len = 0;
	b->recv_handle = MICA_HANDLE_NONE;
	b->flags = 0;
	b->timeout_ns = 0;
	if (timeout_ns != IPC_FOREVER) {
		b->flags = MICA_IPC_TIMEOUT;
		b->timeout_ns = timeout_ns;
	}
}

/* What arrived through the buffer: the registers in m, the bytes (up to in->cap) copied out. */
static void buffer_received(struct ipc_msg *in, const struct mica_msg *m,
                            const struct mica_ipc_buffer *b, uint64_t badge)
{
	in->m = *m;
	in->len = b->recv_len;
	in->handle = b->recv_handle;
	in->xfer = MICA_XFER_COPY;
	in->badge = badge;
	ipc_copy(in->buf, b->data, in->len < in->cap ? in->len : in->cap);
}

/* One IPC call nr through the buffer b: out sent (or NULL), in received, as the plain forms. */
static int64_t buffer_ipc(uint64_t nr, struct mica_ipc_buffer *b, mica_handle_t ep,
                          const struct ipc_msg *out, struct ipc_msg *in, uint64_t timeout_ns)
{
	struct mica_msg m = {0};
	uint64_t badge = 0;

	if (out)
		m = out->m;
	buffer_fill(b, out, timeout_ns);
	int64_t rc = mica_ipc(nr, ep, &m, MICA_IPC_BUF, &badge);
	if (rc != MICA_OK)
		return rc;
	buffer_received(in, &m, b, nr == MICA_SYS_IPC_CALL ? 0 : badge);
	return MICA_OK;
}

/*
 * The descriptor for sending `out` (if not NULL) and receiving into `in`,
 * waiting at most timeout_ns (IPC_FOREVER: no limit).
 */
static void extra_fill(struct mica_ipc_extra *x, const struct ipc_msg *out,
                       const struct ipc_msg *in, uint64_t timeout_ns)
{
	x->send_buf = out ? (uint64_t)out->buf : 0;
	x->send_len = out ? out->len : 0;
	x->send_handle = out ? out->handle : MICA_HANDLE_NONE;
	x->send_xfer = out ? out->xfer : MICA_XFER_COPY;
	x->recv_buf = (uint64_t)in->buf;
	x->recv_cap = in->cap;
	/* What a failed call leaves: nothing received. */
	x->recv_len = 0;
	x->recv_handle = MICA_HANDLE_NONE;
	x->flags = 0;
	x->timeout_ns = 0;
	if (timeout_ns != IPC_FOREVER)
		mica_ipc_timeout(x, timeout_ns);
}

/* What arrived: the registers in m, the rest in x. */
static void received(struct ipc_msg *in, const struct mica_msg *m, const struct mica_ipc_extra *x,
                     uint64_t badge)
{
	in->m = *m;
	in->len = x->recv_len;
	in->handle = x->recv_handle;
	in->xfer = MICA_XFER_COPY;
	in->badge = badge;
}

int64_t ipc_call(mica_handle_t ep, const struct ipc_msg *req, struct ipc_msg *rep)
{
	struct mica_ipc_extra x;
	struct mica_msg m = req->m;
	struct mica_ipc_buffer *b = buffer_for(req, rep);

	if (b)
		return buffer_ipc(MICA_SYS_IPC_CALL, b, ep, req, rep, call_timeout);
	extra_fill(&x, req, rep, call_timeout);
	int64_t rc = mica_call(ep, &m, &x);
	if (rc != MICA_OK)
		return rc;
	received(rep, &m, &x, 0);
	return MICA_OK;
}

uint64_t ipc_set_call_timeout(uint64_t timeout_ns)
{
	uint64_t old = call_timeout;

	call_timeout = timeout_ns;
	return old;
}

int64_t ipc_recv(mica_handle_t ep, struct ipc_msg *req)
{
	return ipc_recv_timeout(ep, req, IPC_FOREVER);
}

int64_t ipc_recv_timeout(mica_handle_t ep, struct ipc_msg *req, uint64_t timeout_ns)
{
	struct mica_ipc_extra x;
	struct mica_msg m = {0};
	uint64_t badge = 0;
	struct mica_ipc_buffer *b = buffer_for(0, req);

	if (b)
		return buffer_ipc(MICA_SYS_IPC_RECV, b, ep, 0, req, timeout_ns);
	extra_fill(&x, 0, req, timeout_ns);
	int64_t rc = mica_recv(ep, &m, &x, &badge);
	if (rc != MICA_OK)
		return rc;
	received(req, &m, &x, badge);
	return MICA_OK;
}

int64_t ipc_reply_recv(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req)
{
	return ipc_reply_recv_timeout(ep, rep, req, IPC_FOREVER);
}

int64_t ipc_reply_recv_timeout(mica_handle_t ep, const struct ipc_msg *rep, struct ipc_msg *req,
                               uint64_t timeout_ns)
{
	struct mica_ipc_extra x;
	struct mica_msg m = rep->m;
	uint64_t badge = 0;
	struct mica_ipc_buffer *b = buffer_for(rep, req);

	if (b)
		return buffer_ipc(MICA_SYS_IPC_REPLY_RECV, b, ep, rep, req, timeout_ns);
	extra_fill(&x, rep, req, timeout_ns);
	int64_t rc = mica_reply_recv(ep, &m, &x, &badge);
	if (rc != MICA_OK)
		return rc;
	received(req, &m, &x, badge);
	return MICA_OK;
}

int64_t ipc_handle_close(mica_handle_t h)
{
	return mica_handle_close(h);
}
