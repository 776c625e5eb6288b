/*
 * I/O port handles (include/mica/device.h). An object is a range of ports;
 * the ranges of live objects never overlap (a fixed table of them is
 * searched at creation). ioport_enable adds a range to the caller's
 * address space (which then holds a reference, until it is released), and
 * the TSS I/O permission bitmap opens exactly the ranges of the address
 * space that runs: switch_to (sched.c) calls ioport_switch, which closes
 * the previous one's ranges and opens the next one's only when that
 * changes something, so switches between address spaces without ports
 * cost a compare. IOPL stays 0: every other port faults (#GP), and the
 * thread is killed with MICA_EXIT_PORT (trap.c asks ioport_fault).
 */
#include <mica/device.h>
#include <mica/error.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include "gdt.h"
#include "ioport.h"
#include "sched.h"
#include "syscall.h"
#include "thread.h"
#include "usercopy.h"

#define IOPORT_OBJECTS 32 /* ranges alive at once */

static struct ioport ranges[IOPORT_OBJECTS];
static bool range_used[IOPORT_OBJECTS];
struct aspace *ioport_open_as;

/* Open (or close) every range of as in the bitmap. */
static void set_ranges(struct aspace *as, bool allow)
{
	for (unsigned i = 0; i < MICA_IOPORT_PER_ASPACE && as->ports[i]; i++)
		gdt_io_allow(as->ports[i]->first, as->ports[i]->count, allow);
}

/* Make the bitmap open exactly as's ranges. */
void ioport_load(struct aspace *as)
{
	if (ioport_open_as)
		set_ranges(ioport_open_as, false);
	ioport_open_as = NULL;
	if (as && as->ports[0]) {
		set_ranges(as, true);
		ioport_open_as = as;
	}
}

/* as is being freed: close its ranges and drop them. */
void ioport_aspace_release(struct aspace *as)
{
	if (ioport_open_as == as)
		ioport_load(NULL);
	for (unsigned i = 0; i < MICA_IOPORT_PER_ASPACE && as->ports[i]; i++) {
		struct ioport *p = as->ports[i];

		as->ports[i] = NULL;
		kobj_unref(&p->obj);
	}
}

/* The last reference is gone (no handle, no address space uses it): the range is free. */
void ioport_release(struct ioport *p)
{
	range_used[p - ranges] = false;
}

/*
 * A #GP in user mode: was it in, out, ins or outs? If so the port it
 * named goes in the exit notice (the immediate, or DX). Prefixes (operand
 * size, rep) are skipped. false if the instruction is something else.
 */
static bool port_of(const struct trap_frame *f, uint32_t *port)
{
	uint8_t code[4];
	unsigned i = 0;

	if (usercopy_from(code, f->rip, sizeof(code)) != MICA_OK)
		return false;
	while (i < 3 && (code[i] == 0x66 || code[i] == 0xF3 || code[i] == 0xF2))
		i++;
	uint8_t op = code[i];
	if (op >= 0xE4 && op <= 0xE7) { /* in/out with an immediate port */
		*port = code[i + 1];
		return true;
	}
	if ((op >= 0xEC && op <= 0xEF) || (op >= 0x6C && op <= 0x6F)) { /* port in DX */
		*port = (uint16_t)f->rdx;
		return true;
	}
	return false;
}

/*
 * The current thread took a #GP in user mode: if in or out on a port
 * its address space was not given did it, the thread ends with
 * MICA_EXIT_PORT and the port (this does not return). Else false.
 */
bool ioport_fault(const struct trap_frame *f)
{
	uint32_t port;

	if (f->vector != 13 || !port_of(f, &port))
		return false;
	thread_end(sched_current(), MICA_EXIT_PORT, port, 0, "I/O port not granted");
	return true;
}

/*
 * ioport_create(devices, first, count): a handle (COPY) to ports [first,
 * first + count). Errors: MICA_EBADH, MICA_ERIGHTS (the authority lacks
 * MANAGE), MICA_EINVAL (count 0), MICA_ERANGE (past port 0xFFFF),
 * MICA_EBUSY (it overlaps a live range), MICA_ENOMEM (no object or a full
 * table).
 */
int64_t ioport_sys_create(const struct syscall_args *s)
{
	struct handle_table *table = &sched_current()->as->handles;
	uint64_t first = s->a[1], count = s->a[2];
	unsigned free = IOPORT_OBJECTS;
	mica_handle_t h;

	int rc = syscall_handle(s->a[0], MICA_OBJ_DEVICES, MICA_RIGHT_MANAGE, NULL);
	if (rc != MICA_OK)
		return rc;
	if (count == 0)
		return MICA_EINVAL;
	if (first >= MICA_IOPORT_COUNT || count > MICA_IOPORT_COUNT - first)
		return MICA_ERANGE;
	for (unsigned i = 0; i < IOPORT_OBJECTS; i++) {
		if (!range_used[i]) {
			free = free < i ? free : i;
			continue;
		}
		if (first < ranges[i].first + ranges[i].count && ranges[i].first < first + count)
			return MICA_EBUSY;
	}
	if (free == IOPORT_OBJECTS || handle_room(table) != MICA_OK)
		return MICA_ENOMEM;
	struct ioport *p = &ranges[free];
	p->first = (uint32_t)first;
	p->count = (uint32_t)count;
	kobj_init(&p->obj, MICA_OBJ_IOPORT);
	range_used[free] = true;
	(void)handle_alloc(table, &p->obj, MICA_RIGHT_COPY, 0, &h);
	kobj_unref(&p->obj); /* the handle holds it now */
	return h;
}

/*
 * ioport_enable(ports): the caller's address space may use the range from
 * now on, for as long as it lives (again: no change). Errors: MICA_EBADH,
 * MICA_ENOMEM (it has MICA_IOPORT_PER_ASPACE ranges already).
 */
int64_t ioport_sys_enable(const struct syscall_args *s)
{
	struct aspace *as = sched_current()->as;
	const struct handle *hp;
	unsigned i;

	int rc = syscall_handle(s->a[0], MICA_OBJ_IOPORT, 0, &hp);
	if (rc != MICA_OK)
		return rc;
	struct ioport *p = (struct ioport *)hp->obj;
	for (i = 0; i < MICA_IOPORT_PER_ASPACE && as->ports[i]; i++)
		if (as->ports[i] == p)
			return MICA_OK;
	if (i == MICA_IOPORT_PER_ASPACE)
		return MICA_ENOMEM;
	kobj_ref(&p->obj);
	as->ports[i] = p;
	if (ioport_open_as == as || !ioport_open_as)
		gdt_io_allow(p->first, p->count, true);
	if (!ioport_open_as)
		ioport_open_as = as;
	return MICA_OK;
}
