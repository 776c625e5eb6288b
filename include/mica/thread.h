/*
 * Threads: what thread_create takes. A thread runs in an address space,
 * starts at `entry` with RSP = `stack_top` and RDI = `arg`, and has a
 * priority. Its pager (an endpoint handle with the send right, or
 * MICA_HANDLE_NONE) receives its page faults as calls (fault.h); its
 * supervisor (likewise) receives one exit notice when it ends. The kernel
 * keeps a reference to both endpoints, and the badge of the handles given,
 * which the pager and supervisor see with every message about the thread.
 *
 * Priorities are bounded by the creator's maximum priority (as L4's MCP):
 * a thread may create threads at or below its own max_priority, each with
 * a max_priority no higher. The first task runs at 16 with max_priority
 * MICA_PRIO_MAX, so it can place servers above itself and its clients.
 */
#ifndef MICA_THREAD_H
#define MICA_THREAD_H

#include <mica/handle.h>
#include <stdint.h>

/* Priorities: higher runs first; equal ones share the CPU in turn. */
#define MICA_PRIO_MIN 0
#define MICA_PRIO_MAX 31

struct mica_thread_params {
	uint64_t entry;
	uint64_t stack_top;
	uint64_t arg;
	uint32_t priority;        /* MICA_PRIO_MIN .. MICA_PRIO_MAX */
	mica_handle_t pager;      /* endpoint for faults, or MICA_HANDLE_NONE */
	mica_handle_t supervisor; /* endpoint for the exit notice, or MICA_HANDLE_NONE */
	uint32_t max_priority;    /* the highest priority it may give threads it creates */
};

#endif /* MICA_THREAD_H */
