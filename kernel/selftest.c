/*
 * selftest=frames: take every free frame from the bitmap, check that each
 * is usable and clear of everything in use at boot, write to each through
 * the direct map, then give them all back. This proves, on the real
 * machine, that the bitmap hands out exactly the usable frames it claims
 * to have, that the direct map covers all of them, and that freeing
 * restores the counts. The frames are chained through their own first
 * word, so the test needs no memory of its own.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "frame.h"
#include "kprintf.h"
#include "panic.h"
#include "phys.h"
#include "selftest.h"

static bool in_busy(paddr_t pa, const struct mem_range *busy, size_t nbusy)
{
	for (size_t i = 0; i < nbusy; i++)
		if (pa + MICA_PAGE_SIZE > busy[i].start && pa < busy[i].end)
			return true;
	return false;
}

/* Run the test; panic on the first discrepancy. */
void selftest_frames(const struct memmap *m, const struct mem_range *busy, size_t nbusy)
{
	struct frame_stats before, after;
	paddr_t pa, chain = 0, highest = 0;
	uint64_t n = 0;

	frame_stats(&before);
	while (frame_alloc(&pa) == MICA_OK) {
		if (!memmap_is_usable(m, pa) || in_busy(pa, busy, nbusy))
			panic("selftest: frame 0x%lx is not free memory", pa);
		*(paddr_t *)phys_to_virt(pa) = chain;
		chain = pa;
		highest = MAX(highest, pa);
		n++;
	}
	if (n != before.free)
		panic("selftest: allocated %lu frames, the bitmap counted %lu free", n,
		      before.free);
	while (chain) {
		paddr_t next = *(paddr_t *)phys_to_virt(chain);

		if (frame_free(chain, 1) != MICA_OK)
			panic("selftest: cannot free frame 0x%lx", chain);
		chain = next;
	}
	frame_stats(&after);
	if (after.free != before.free || after.total != before.total)
		panic("selftest: free count %lu after, %lu before", after.free, before.free);
	kprintf("selftest: frames ok: allocated and freed %lu, highest 0x%lx\n", n, highest);
}
