/*
 * Where the heap's memory comes from: the program break, which the pager
 * owns (idl/pager.idl, method sbrk). The pager reserves the heap region
 * and backs its pages with frames on first touch.
 */
#include <idl/pager_client.h>
#include <mica/pager.h>
#include "rt.h"

/*
 * rt_sbrk: move the break by delta bytes through the pager; returns the
 * old break, or (void *)-1 if it cannot move (no pager, ENOMEM, or any
 * other error). Called only by the allocator (malloc.c).
 */
void *rt_sbrk(intptr_t delta)
{
	const struct mica_startup *st = rt_startup_info();
	uint64_t old;

	if (!st || pager_sbrk(st->pager, delta, &old) != MICA_OK)
		return (void *)-1;
	return (void *)old;
}
