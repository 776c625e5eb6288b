/*
 * System calls: numbers and register convention (docs/ABI.md lists each
 * call's arguments, rights checks and errors).
 *
 * The number goes in RAX; arguments in RDI, RSI, RDX, R10, R8, R9 (in that
 * order); the result comes back in RAX, negative for an error (error.h).
 * The syscall instruction clobbers RCX and R11; every other register is
 * preserved.
 */
#ifndef MICA_SYSCALL_H
#define MICA_SYSCALL_H

enum mica_syscall {
	MICA_SYS_DEBUG_WRITE = 0,     /* (const char *buf, size_t len) -> len */
	MICA_SYS_THREAD_EXIT = 1,     /* (int64_t code) -> does not return */
	MICA_SYS_YIELD = 2,           /* () -> 0 */
	MICA_SYS_THREAD_CREATE = 3,   /* (aspace, const struct mica_thread_params *) -> handle */
	MICA_SYS_ENDPOINT_CREATE = 4, /* () -> handle (send, receive, copy) */
	MICA_SYS_HANDLE_CLOSE = 5,    /* (handle) -> 0 */
	MICA_SYS_HANDLE_MINT = 6,     /* (handle, rights mask, badge) -> new handle */
	MICA_SYS_IPC_SEND = 7,        /* IPC registers (ipc.h) */
	MICA_SYS_IPC_TRY_SEND = 8,
	MICA_SYS_IPC_RECV = 9,
	MICA_SYS_IPC_TRY_RECV = 10,
	MICA_SYS_IPC_CALL = 11,
	MICA_SYS_IPC_REPLY_RECV = 12,
	MICA_SYS_ASPACE_CREATE = 13,  /* (authority) -> address-space handle */
	MICA_SYS_ASPACE_DESTROY = 14, /* (aspace, frames_out, cap) -> frames reported */
	MICA_SYS_MAP = 15,            /* (aspace, vaddr, frame, npages, rights) -> 0 */
	MICA_SYS_UNMAP = 16,          /* (aspace, vaddr, npages, frames_out) -> npages */
	MICA_SYS_GRANT = 17,          /* (src, src_vaddr, dst, dst_vaddr, npages) -> 0 */
	MICA_SYS_DONATE = 18,         /* (authority, frame, npages) -> 0 */
	MICA_SYS_MEM_STATS = 19,      /* (struct mica_mem_stats *out) -> 0 */
	MICA_SYS_THREAD_KILL = 20,    /* (thread, code) -> 0 */
	MICA_SYS_HANDLE_GIVE = 21,    /* (aspace, handle, rights mask) -> handle in aspace */
	MICA_SYS_CLOCK = 22,          /* () -> ns since boot (time.h) */
	MICA_SYS_SLEEP = 23,          /* (uint64_t ns) -> 0 after at least ns */
	/* Notifications, interrupts and I/O ports (notify.h, device.h). */
	MICA_SYS_NOTIFY_CREATE = 24, /* () -> handle (signal, wait, copy) */
	MICA_SYS_NOTIFY_SIGNAL = 25, /* (notification, bits) -> 0 */
	MICA_SYS_NOTIFY_WAIT = 26,   /* (notification, flags, timeout_ns) -> the bits, cleared */
	MICA_SYS_NOTIFY_POLL = 27,   /* (notification) -> the bits (maybe 0), cleared */
	MICA_SYS_NOTIFY_BIND = 28,   /* (notification or MICA_HANDLE_NONE) -> 0 */
	MICA_SYS_IRQ_CREATE = 29,    /* (devices, line) -> interrupt handle */
	MICA_SYS_IRQ_BIND = 30,      /* (interrupt, notification or MICA_HANDLE_NONE) -> 0 */
	MICA_SYS_IRQ_ACK = 31,       /* (interrupt) -> 0 */
	MICA_SYS_IOPORT_CREATE = 32, /* (devices, first port, count) -> I/O port handle */
	MICA_SYS_IOPORT_ENABLE = 33, /* (I/O ports) -> 0 */
	MICA_SYS_TRACE = 34,         /* (devices, op, arg, cap): the trace buffer (trace.h) */
	MICA_SYS_IPC_BUFFER_SET =
	    35, /* (page address or 0) -> 0: the thread's IPC buffer (ipc.h) */
	MICA_SYS_COUNT
};

/* Largest buffer one debug_write takes. */
#define MICA_DEBUG_WRITE_MAX 4096

#endif /* MICA_SYSCALL_H */
