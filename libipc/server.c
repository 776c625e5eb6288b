/*
 * libipc's server loop (server.h): reply-and-receive around a dispatch.
 */
#include <libipc/server.h>

void ipc_server_init(struct ipc_server *s, ipc_dispatch_fn dispatch, const void *ops, void *ctx)
{
	s->dispatch = dispatch;
	s->ops = ops;
	s->ctx = ctx;
	s->kernel = 0;
	s->idle = 0;
	s->timeout_ns = IPC_FOREVER;
	s->req_max = MICA_MSG_BUF_MAX;
}

/*
 * Where req is received: the thread's IPC buffer's data if every request
 * fits it (the kernel then checks lengths only), else the loop's rx page.
 */
static void req_init(struct ipc_server *s, struct ipc_msg *req)
{
	if (s->req_max <= MICA_IPC_BUFFER_DATA && ipc_buffers_on())
		ipc_msg_init(req, 0, mica_ipc_buffer()->data, MICA_IPC_BUFFER_DATA);
	else
		ipc_msg_init(req, 0, s->rx, sizeof(s->rx));
}

/* How long the next wait may last. */
static uint64_t wait_ns(const struct ipc_server *s)
{
	return s->idle ? s->timeout_ns : IPC_FOREVER;
}

/* Answer req, a message from the kernel, in rep. */
static void kernel_message(struct ipc_server *s, const struct ipc_msg *req, struct ipc_msg *rep)
{
	if (s->kernel) {
		s->kernel(s->ctx, req, rep);
		return;
	}
	/* Nobody here handles faults: the faulting thread is killed. */
	rep->m.label = MICA_FAULT_KILL;
}

/* req, which arrived in the IPC buffer, as *copy with its bytes in rx (out of line: rare in the
 * pager). */
static __attribute__((noinline)) const struct ipc_msg *
moved(struct ipc_server *s, const struct ipc_msg *req, struct ipc_msg *copy)
{
	*copy = *req;
	copy->buf = s->rx;
	ipc_copy(s->rx, req->buf, req->len < req->cap ? req->len : req->cap);
	return copy;
}

int64_t ipc_serve(struct ipc_server *s, mica_handle_t ep)
{
	struct ipc_msg req, rep, copy;
	bool retried = false;

	req_init(s, &req);
	int64_t rc = ipc_recv_timeout(ep, &req, wait_ns(s));
	for (;;) {
		ipc_msg_init(&rep, 0, s->tx, sizeof(s->tx));
		if (rc == MICA_ETIMEDOUT && s->idle) {
			/* Nobody came in time (a reply went out): what is due, then wait. */
			s->idle(s->ctx);
			req_init(s, &req);
			rc = ipc_recv_timeout(ep, &req, wait_ns(s));
			continue;
		}
		if (rc == MICA_OK) {
			/*
			 * A request in the IPC buffer is copied to rx first: a
			 * handler's own calls go through the same buffer, and its
			 * strings and arrays point into the request.
			 */
			const struct ipc_msg *in = &req;

			if (req.buf != s->rx)
				in = moved(s, &req, &copy);
			retried = false;
			if (in->m.label >= MICA_LABEL_KERNEL)
				kernel_message(s, in, &rep);
			else
				(void)s->dispatch(s->ops, s->ctx, in, &rep);
		} else if (!retried) {
			/*
			 * Once more, answering with the error alone: the reply
			 * may have been at fault (a bad handle to pass), or the
			 * caller died before it (MICA_EPEER: the answer goes
			 * nowhere). An endpoint that is gone fails again. A
			 * handle the failed answer was to move stays here: it
			 * may have gone after all, so it is not closed.
			 */
			retried = true;
			ipc_msg_status(&rep, (int)rc);
		} else {
			return rc;
		}
		/* req keeps its buffer; what arrives overwrites the rest (nothing, on an error). */
		rc = ipc_reply_recv_timeout(ep, &rep, &req, wait_ns(s));
	}
}
