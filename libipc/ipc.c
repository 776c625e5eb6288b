/*
 * libipc's transport over the kernel: struct ipc_msg to and from the
 * registers and descriptor of the IPC system calls (include/mica/ipc.h).
 */
#include <libipc/ipc.h>

static uint64_t call_timeout = IPC_FOREVER; /* ipc_set_call_timeout */

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
