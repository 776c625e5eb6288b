/* I/O port ranges as handles, enforced by the TSS bitmap (include/mica/device.h). */
#ifndef KERNEL_IOPORT_H
#define KERNEL_IOPORT_H

#include "aspace.h"
#include "kobj.h"
#include "syscall_abi.h"
#include "trap.h"

struct ioport {
	struct kobj obj; /* references: its handles, the address spaces it is enabled in */
	uint32_t first, count;
};

/* The address space whose ranges the TSS bitmap opens now (NULL: none is open). */
extern struct aspace *ioport_open_as;

void ioport_load(struct aspace *as);

/*
 * At a switch to an address space: open its ports (and close the last
 * one's) if that changes. The common case, neither has any, is one OR of
 * two loads and a branch.
 */
static inline void ioport_switch(struct aspace *as)
{
	if (__builtin_expect(((uintptr_t)ioport_open_as | (uintptr_t)as->ports[0]) != 0, 0) &&
	    as != ioport_open_as)
		ioport_load(as);
}

void ioport_aspace_release(struct aspace *as);
void ioport_release(struct ioport *p);
bool ioport_fault(const struct trap_frame *f);

int64_t ioport_sys_create(const struct syscall_args *s);
int64_t ioport_sys_enable(const struct syscall_args *s);

#endif /* KERNEL_IOPORT_H */
