/*
 * Where file pages come from: the pager, one region of one page each
 * (pager.map with MICA_PAGER_MAP_FILL: backed at once, so writing it takes
 * no fault). A page of its own region can go back alone (pager.unmap), so
 * a removed file's frames are in the pool again at once, and can later be
 * shared or given whole (pager.share, pager.give) to serve a file as a
 * memory object.
 */
#include "fs.h"

#include <idl/pager_client.h>
#include <malloc.h>
#include <mica/memory.h>
#include <mica/pager.h>

static mica_handle_t pager = MICA_HANDLE_NONE;

void pages_init(mica_handle_t p)
{
	pager = p;
}

void *page_alloc(void)
{
	uint64_t at = 0;

	/* ENOMEM (no frame) or ELIMIT (our memory limit): no page either way. */
	if (pager_map(pager, 0, 1, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL, &at) < 0)
		return NULL;
	return (void *)at;
}

void page_free(void *page)
{
	(void)pager_unmap(pager, (uint64_t)page);
}

void pages_trim(void)
{
	malloc_trim();
}
