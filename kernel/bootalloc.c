/*
 * Boot allocator: a bump pointer over one physical arena [start, end)
 * chosen at boot (memmap_find_free) away from the kernel image, the boot
 * information and the modules. Nothing is ever freed.
 */
#include <mica/layout.h>
#include "bootalloc.h"
#include "lib/string.h"
#include "phys.h"

static struct {
	paddr_t start; /* arena start */
	paddr_t next;  /* first byte not yet handed out */
	paddr_t end;   /* arena end */
	bool closed;
} ba;

/* Use the physical range [start, end) as the arena. */
void bootalloc_init(paddr_t start, paddr_t end)
{
	ba.start = ba.next = start;
	ba.end = end;
	ba.closed = false;
}

/*
 * Allocate `size` zeroed bytes aligned to `align` (a power of two) and
 * return their address in the direct map; NULL if the arena is exhausted
 * or closed. Callers at boot treat NULL as fatal.
 */
void *bootalloc(size_t size, size_t align)
{
	paddr_t p = ALIGN_UP(ba.next, align);

	if (ba.closed || p > ba.end || size > ba.end - p)
		return NULL;
	ba.next = p + size;
	memset(phys_to_virt(p), 0, size);
	return phys_to_virt(p);
}

/* Stop handing out memory; report the frames used so they can be marked. */
void bootalloc_close(paddr_t *start, paddr_t *end)
{
	ba.closed = true;
	*start = ALIGN_DOWN(ba.start, MICA_PAGE_SIZE);
	*end = ALIGN_UP(ba.next, MICA_PAGE_SIZE);
}
