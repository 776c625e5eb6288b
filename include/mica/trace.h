/*
 * The kernel trace buffer (docs/TRACING.md): the events it records, the
 * operations of the trace system call, and the record it copies out.
 */
#ifndef MICA_TRACE_H
#define MICA_TRACE_H

#include <stdint.h>

/* Event types: a record's `type`, and bit (1 << type) of an event mask. */
enum mica_trace_type {
	MICA_TRACE_SYSCALL = 1, /* a system call: sub = number, a = RDI, b = RSI */
	MICA_TRACE_IPC =
	    2, /* a message moved: sub = kind, x = from, y = to, a = label, b = badge */
	MICA_TRACE_SWITCH = 3, /* the CPU goes to thread x (tid is the one leaving) */
	MICA_TRACE_FAULT = 4,  /* a user fault: sub = vector, a = address (CR2), b = RIP */
	MICA_TRACE_IRQ = 5,    /* an interrupt: sub = line (0 is the timer) */
	MICA_TRACE_TYPES
};

#define MICA_TRACE_EV(type) (1u << (type))
#define MICA_TRACE_ALL                                                                             \
	(MICA_TRACE_EV(MICA_TRACE_SYSCALL) | MICA_TRACE_EV(MICA_TRACE_IPC) |                       \
	 MICA_TRACE_EV(MICA_TRACE_SWITCH) | MICA_TRACE_EV(MICA_TRACE_FAULT) |                      \
	 MICA_TRACE_EV(MICA_TRACE_IRQ))

/* The kind of an IPC event (its sub). */
enum mica_trace_ipc_kind {
	MICA_TRACE_IPC_SEND = 0,   /* send or try_send */
	MICA_TRACE_IPC_CALL = 1,   /* call: the sender waits for the reply */
	MICA_TRACE_IPC_REPLY = 2,  /* the reply of reply_recv */
	MICA_TRACE_IPC_KERNEL = 3, /* the kernel's message for x (a fault or exit notice) */
};

/* Operations of the trace system call (its second argument). */
enum mica_trace_op {
	MICA_TRACE_START = 1, /* (mask): empty the ring, record the events in mask -> 0 */
	MICA_TRACE_STOP = 2,  /* (): record nothing more -> events in the ring */
	MICA_TRACE_DUMP = 3,  /* (): print the ring on the serial line -> events printed */
	MICA_TRACE_READ = 4,  /* (buf, cap): copy the ring out, oldest first -> records copied */
};

/* The ring's size in records: older ones are overwritten. */
#define MICA_TRACE_RING 4096

/* One record: 40 bytes. tsc counts instructions under QEMU -icount. */
struct mica_trace_event {
	uint64_t tsc;  /* the time stamp counter (RDTSC) */
	uint16_t type; /* enum mica_trace_type */
	uint16_t sub;  /* per type (above) */
	uint32_t tid;  /* the thread running (the kernel's thread id) */
	uint32_t x, y; /* per type */
	uint64_t a, b; /* per type */
};

#endif /* MICA_TRACE_H */
