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
	MICA_SYS_THREAD_CREATE = 3,   /* (entry, stack_top, arg, priority) -> thread id */
	MICA_SYS_ENDPOINT_CREATE = 4, /* () -> handle (send, receive, copy) */
	MICA_SYS_HANDLE_CLOSE = 5,    /* (handle) -> 0 */
	MICA_SYS_HANDLE_MINT = 6,     /* (handle, rights mask, badge) -> new handle */
	MICA_SYS_IPC_SEND = 7,        /* IPC registers (ipc.h) */
	MICA_SYS_IPC_TRY_SEND = 8,
	MICA_SYS_IPC_RECV = 9,
	MICA_SYS_IPC_TRY_RECV = 10,
	MICA_SYS_IPC_CALL = 11,
	MICA_SYS_IPC_REPLY_RECV = 12,
	MICA_SYS_COUNT
};

/* Largest buffer one debug_write takes. */
#define MICA_DEBUG_WRITE_MAX 4096

/* Thread priorities: higher runs first; equal ones share the CPU in turn. */
#define MICA_PRIO_MIN 0
#define MICA_PRIO_MAX 31

#endif /* MICA_SYSCALL_H */
