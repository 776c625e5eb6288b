/*
 * A thread's IPC buffer (ipcbuf.c; include/mica/ipc.h): the page it
 * registered, reached through a kept view (usercopy.h) while no mapping
 * has gone since the kernel last found it.
 */
#ifndef KERNEL_IPCBUF_H
#define KERNEL_IPCBUF_H

#include <mica/ipc.h>
#include "syscall_abi.h"
#include "thread.h"
#include "usercopy.h"

struct mica_ipc_buffer *ipcbuf_refill(struct thread *t, struct usercopy_cache *uc);

/*
 * t's IPC buffer in place (through the direct map), found mapped
 * user-writable; NULL if t has none or its page is not mapped so now. A
 * hit is one compare: the view always names t's buffer page, whole and
 * writable, and is emptied when t registers another. A miss walks
 * through uc (the running thread's kept cache).
 */
static inline struct mica_ipc_buffer *ipcbuf_get(struct thread *t, struct usercopy_cache *uc)
{
	if (t->ipcbuf_view.gen == pt_generation)
		return (struct mica_ipc_buffer *)t->ipcbuf_view.kva;
	return ipcbuf_refill(t, uc);
}

/* t's IPC buffer if the kernel's view of it is current (no walk): NULL if not. */
static inline struct mica_ipc_buffer *ipcbuf_kept(const struct thread *t)
{
	return t->ipcbuf_view.gen == pt_generation ? (struct mica_ipc_buffer *)t->ipcbuf_view.kva
	                                           : NULL;
}

int64_t ipcbuf_sys_set(const struct syscall_args *s);

#endif /* KERNEL_IPCBUF_H */
