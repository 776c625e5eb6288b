/*
 * Handles: the small integers by which a task names kernel objects. Each
 * address space has its own table; a handle carries the object, its type,
 * the rights its holder has, and (for endpoints) a badge the receiver sees.
 */
#ifndef MICA_HANDLE_H
#define MICA_HANDLE_H

#include <stdint.h>

typedef int32_t mica_handle_t;
#define MICA_HANDLE_NONE ((mica_handle_t)-1)

/* Kernel object types. */
enum mica_obj_type {
	MICA_OBJ_NONE = 0,
	MICA_OBJ_ENDPOINT = 1, /* an IPC rendezvous point */
	MICA_OBJ_ASPACE = 2,   /* an address space (page tables and a handle table) */
	MICA_OBJ_THREAD = 3,   /* a thread */
	MICA_OBJ_NOTIFY = 4,   /* a notification: a word of bits (notify.h) */
	MICA_OBJ_IRQ = 5,      /* an interrupt line (device.h) */
	MICA_OBJ_IOPORT = 6,   /* a range of I/O ports (device.h) */
	MICA_OBJ_DEVICES = 7,  /* the right to make interrupt and I/O port handles */
};

/* Rights. A handle's rights can only shrink as it is copied. */
#define MICA_RIGHT_SEND   (1u << 0) /* endpoint: send and call */
#define MICA_RIGHT_RECV   (1u << 1) /* endpoint: receive */
#define MICA_RIGHT_COPY   (1u << 2) /* may be copied into another table (moving needs none) */
#define MICA_RIGHT_MEMORY (1u << 3) /* address space: map, unmap, grant (the pager's right) */
#define MICA_RIGHT_MANAGE (1u << 4) /* address space or thread: create, start, kill, destroy */
#define MICA_RIGHT_SIGNAL (1u << 5) /* notification: signal */
#define MICA_RIGHT_WAIT   (1u << 6) /* notification: wait, poll, bind */
#define MICA_RIGHTS_ALL                                                                            \
	(MICA_RIGHT_SEND | MICA_RIGHT_RECV | MICA_RIGHT_COPY | MICA_RIGHT_MEMORY |                 \
	 MICA_RIGHT_MANAGE | MICA_RIGHT_SIGNAL | MICA_RIGHT_WAIT)

#endif /* MICA_HANDLE_H */
