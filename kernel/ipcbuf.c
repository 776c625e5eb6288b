/*
 * IPC buffers: each thread may register one page of its own address space
 * (ipc_buffer_set) as its IPC buffer, the descriptor and the data of its
 * IPC calls made with RBX = MICA_IPC_BUFFER (include/mica/ipc.h). The
 * kernel checks the page when it is registered and keeps its translation
 * (t->ipcbuf_view), which stays valid while pt_generation has not moved:
 * nothing is pinned and no frame count changes, and a page that was
 * unmapped, remapped or made read-only since is walked again at its next
 * use (and the call fails with MICA_EFAULT if it is not mapped writable
 * then). So the IPC paths reach both sides' buffers with a compare, and a
 * call through them needs only its lengths checked.
 *
 * The buffer's address is also the thread's FS base (ctx.c), so user code
 * finds its own thread's buffer with `mov %fs:0` (the kernel writes the
 * address into the head's `self` at registration) without thread-local
 * storage of its own.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "aspace.h"
#include "ctx.h"
#include "ipcbuf.h"
#include "sched.h"

_Static_assert(sizeof(struct mica_ipc_buffer) == MICA_IPC_BUFFER_SIZE &&
                   MICA_IPC_BUFFER_SIZE == MICA_PAGE_SIZE,
               "the IPC buffer is one page");
_Static_assert(__builtin_offsetof(struct mica_ipc_buffer, data) == MICA_IPC_BUFFER_HEAD,
               "the data follows the head");
_Static_assert(__builtin_offsetof(struct mica_ipc_buffer, recv_handle) ==
                   __builtin_offsetof(struct mica_ipc_buffer, recv_len) + sizeof(uint32_t),
               "recv_len and recv_handle are adjacent, as in a descriptor");

/* ipcbuf_get's miss: find t's buffer page again (NULL: none, or not mapped writable now). */
struct mica_ipc_buffer *ipcbuf_refill(struct thread *t, struct usercopy_cache *uc)
{
	if (!t->ipcbuf)
		return NULL;
	return usercopy_view_fill(&t->ipcbuf_view, uc, t->as->root, t->ipcbuf, MICA_IPC_BUFFER_SIZE,
	                          true);
}

/*
 * ipc_buffer_set(addr): the calling thread's IPC buffer is the page at
 * addr from now on (0: none), and its FS base addr. The page must be
 * mapped user-writable now; the kernel writes addr into its `self`.
 * Errors: MICA_EALIGN (not page-aligned), MICA_ERANGE (not in the user
 * half), MICA_EFAULT (not mapped user-writable). On an error nothing
 * changed.
 */
int64_t ipcbuf_sys_set(const struct syscall_args *s)
{
	struct thread *t = sched_current();
	vaddr_t va = s->a[0];
	struct usercopy_view v;

	if (va) {
		/* A whole user page, mapped writable now. */
		if (va & (MICA_PAGE_SIZE - 1))
			return MICA_EALIGN;
		if (va < MICA_USER_BASE || va >= MICA_USER_TOP)
			return MICA_ERANGE;
		struct mica_ipc_buffer *b =
		    usercopy_view_fill(&v, NULL, t->as->root, va, MICA_IPC_BUFFER_SIZE, true);
		if (!b)
			return MICA_EFAULT;
		b->self = va;
	} else {
		v.gen = 0; /* never valid: the generation starts past 0 */
	}
	t->ipcbuf = va;
	t->ipcbuf_view = v;
	ctx_fs_base_set(va);
	return MICA_OK;
}
