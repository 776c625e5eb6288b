/*
 * Synchronous IPC: a message is a label and MICA_MSG_WORDS words carried in
 * registers, plus an optional buffer of up to MICA_MSG_BUF_MAX bytes and an
 * optional handle, described by a struct mica_ipc_extra in user memory.
 *
 * Registers of the IPC system calls (syscall.h numbers 7-12):
 *
 *   in:  RAX call number, RDI endpoint handle, RSI label,
 *        RDX R10 R8 R9 R12 R13 R14 R15 words 0-7,
 *        RBX address of a struct mica_ipc_extra, or 0, or MICA_IPC_BUFFER
 *   out: RAX 0 or an error, RDI the badge of the handle the message was
 *        sent through (receive side), RSI label, words as above (the
 *        message received, or for call the reply)
 *
 * send blocks until a receiver takes the message; recv blocks until a
 * sender comes; call sends and waits for the reply, and the receiver of a
 * call may answer it once with reply_recv, which then receives again. The
 * try_ forms return MICA_EAGAIN instead of blocking.
 *
 * A descriptor with MICA_IPC_TIMEOUT in `flags` bounds the wait by
 * `timeout_ns` (relative, at most MICA_TIMEOUT_MAX: time.h): a call not
 * complete by then returns MICA_ETIMEDOUT, having taken or left nothing
 * (send and recv: not sent, nothing received; call: not sent, or sent
 * and the reply no longer awaited; reply_recv: replied, nothing
 * received). 0 polls (not for call, which must wait for its reply:
 * MICA_EINVAL). Without the flag a call waits as long as it takes.
 */
#ifndef MICA_IPC_H
#define MICA_IPC_H

#include <mica/time.h>
#include <stdint.h>

#define MICA_MSG_WORDS   8
#define MICA_MSG_BUF_MAX 4096

/* How a handle travels: copied (needs MICA_RIGHT_COPY) or moved. */
#define MICA_XFER_COPY 0
#define MICA_XFER_MOVE 1

/* Descriptor flags: the only one so far; others are MICA_EINVAL. */
#define MICA_IPC_TIMEOUT 1u /* timeout_ns bounds the wait */

struct mica_ipc_extra {
	/* What this side sends. */
	uint64_t send_buf;   /* address of send_len bytes */
	uint32_t send_len;   /* at most MICA_MSG_BUF_MAX; 0 for none */
	int32_t send_handle; /* a handle to pass, or MICA_HANDLE_NONE */
	uint32_t send_xfer;  /* MICA_XFER_COPY or MICA_XFER_MOVE */
	/* Where this side receives. */
	uint32_t recv_cap; /* bytes recv_buf holds; 0 for none */
	uint64_t recv_buf;
	/* Filled in by the kernel on receipt. */
	uint32_t recv_len;   /* bytes the sender sent (more than recv_cap: cut) */
	int32_t recv_handle; /* the handle received, or MICA_HANDLE_NONE */
	/* How long this side waits: with MICA_IPC_TIMEOUT, timeout_ns; else for ever. */
	uint64_t flags;      /* MICA_IPC_* */
	uint64_t timeout_ns; /* relative; 0 polls; at most MICA_TIMEOUT_MAX */
};

/*
 * The IPC buffer: a page of the thread's own address space that the
 * thread registers with ipc_buffer_set (syscall.h 35). With RBX =
 * MICA_IPC_BUFFER (1: below MICA_USER_BASE, so never a descriptor's
 * address) an IPC call takes its descriptor from the buffer's head and
 * sends from, and receives into, its data: the same area both ways (what
 * is sent is taken before anything is received). The kernel checks the
 * page once and keeps its translation, so such a call needs no address
 * checks, only lengths. The thread finds its buffer through FS: the
 * kernel sets the FS base to the buffer's address while the thread runs
 * and writes `self` at registration, so `mov %fs:0` gives its address
 * (libipc/syscall.h mica_ipc_buffer). docs/ABI.md, "The IPC buffer".
 */
#define MICA_IPC_BUFFER      1ul  /* RBX: the descriptor is the thread's IPC buffer */
#define MICA_IPC_BUFFER_SIZE 4096 /* one page, page-aligned */
#define MICA_IPC_BUFFER_HEAD 64   /* bytes before data */
#define MICA_IPC_BUFFER_DATA (MICA_IPC_BUFFER_SIZE - MICA_IPC_BUFFER_HEAD) /* 4032 */

struct mica_ipc_buffer {
	uint64_t self; /* its own address: written by the kernel at ipc_buffer_set */
	/* What this side sends: send_len bytes of data (at most MICA_IPC_BUFFER_DATA). */
	uint32_t send_len;
	int32_t send_handle; /* a handle to pass, or MICA_HANDLE_NONE */
	uint32_t send_xfer;  /* MICA_XFER_COPY or MICA_XFER_MOVE */
	/* Filled in by the kernel on receipt (into data, up to MICA_IPC_BUFFER_DATA bytes). */
	uint32_t recv_len;   /* bytes the sender sent (more than MICA_IPC_BUFFER_DATA: cut) */
	int32_t recv_handle; /* the handle received, or MICA_HANDLE_NONE */
	uint32_t reserved0;
	/* How long this side waits, as a descriptor's. */
	uint64_t flags;      /* MICA_IPC_* */
	uint64_t timeout_ns; /* relative; 0 polls; at most MICA_TIMEOUT_MAX */
	uint64_t reserved[2];
	uint8_t data[MICA_IPC_BUFFER_DATA];
};

#endif /* MICA_IPC_H */
