/*
 * Messages the kernel sends on a thread's behalf: page faults to the
 * thread's pager, and exit notices to its supervisor. Both arrive as
 * ordinary IPC (ipc.h): RDI the badge of the handle the thread was given
 * (so the pager or supervisor knows whose it is), RSI the label, the words
 * as below. Labels from MICA_LABEL_KERNEL up are the kernel's own: a user
 * send with one is refused, so these messages cannot be forged.
 */
#ifndef MICA_FAULT_H
#define MICA_FAULT_H

#define MICA_LABEL_KERNEL 0xFFFFFFFFFFFF0000ULL
#define MICA_LABEL_FAULT  (MICA_LABEL_KERNEL + 1) /* a page fault, sent as a call */
#define MICA_LABEL_EXIT   (MICA_LABEL_KERNEL + 2) /* an exit notice, sent as a send */

/*
 * Page fault: w0 the address (CR2), w1 MICA_FAULT_* bits, w2 the
 * instruction pointer, w3 the thread id. The pager answers with
 * reply_recv: label MICA_FAULT_RESUME retries the access; any other label
 * kills the thread, with w0 of the reply as the code in its exit notice.
 */
#define MICA_FAULT_WRITE   (1u << 0) /* the access was a write (else a read) */
#define MICA_FAULT_EXEC    (1u << 1) /* an instruction fetch */
#define MICA_FAULT_PRESENT (1u << 2) /* the page was mapped: a rights violation */
#define MICA_FAULT_RESUME  0
#define MICA_FAULT_KILL    1

/*
 * Exit notice: w0 the thread id, w1 MICA_EXIT_* (why), w2 the code (the
 * exit code, the exception vector, or the code the killer gave), w3 the
 * faulting address (page faults), w4 the instruction pointer (faults).
 */
enum mica_exit_reason {
	MICA_EXIT_NORMAL = 0, /* thread_exit(code) */
	MICA_EXIT_FAULT = 1,  /* an exception nobody handled (code: vector) */
	MICA_EXIT_PAGER = 2,  /* its pager answered a fault with a kill */
	MICA_EXIT_KILLED = 3, /* thread_kill, or its address space was destroyed */
	MICA_EXIT_PORT = 4,   /* in/out on an I/O port it was not given (code: the port) */
};

#endif /* MICA_FAULT_H */
