/*
 * Where the heap's memory comes from: the program break, which the pager
 * owns. This is the one file the pager's work replaces.
 */
#include "rt.h"

/*
 * rt_sbrk: move the break by delta bytes; returns the old break, or
 * (void *)-1 if it cannot move. Called only by the allocator (malloc.c).
 *
 * TODO(pager): call the pager's IDL method `sbrk` (idl/pager.idl,
 * `method sbrk 1 (i64 delta) -> (u64 old_break)`) through its generated
 * client stub, on the pager endpoint that the startup info names
 * (rt_startup_info()->pager, include/mica/startup.h), mapping MICA_ENOMEM
 * to (void *)-1. Until the pager serves it, there is no heap: every
 * allocation fails and malloc returns NULL.
 */
void *rt_sbrk(intptr_t delta)
{
	(void)delta;
	return (void *)-1;
}
