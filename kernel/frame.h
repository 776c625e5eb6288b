/*
 * The physical frame bitmap: one bit per 4 KiB frame, from frame 0 up to
 * the end of the highest usable range, plus a summary level with one bit
 * per 64-frame word. The kernel's only record of which frames are in use.
 */
#ifndef KERNEL_FRAME_H
#define KERNEL_FRAME_H

#include "memmap.h"
#include "types.h"

/* Counts of usable frames: total == free + used. */
struct frame_stats {
	uint64_t total;
	uint64_t free;
	uint64_t used;
};

/* The fixed serial line with the counts (tests read it). */
#define FRAME_STATS_LINE "frames: total=%lu free=%lu used=%lu\n"

size_t frame_meta_bytes(const struct memmap *m);
void frame_init(const struct memmap *m, void *meta, size_t bytes);
uint64_t frame_mark_used(paddr_t start, paddr_t end);
int frame_alloc(paddr_t *pa);
int frame_alloc_run(uint64_t n, uint64_t align, paddr_t *pa);
int frame_free(paddr_t pa, uint64_t n);
bool frame_is_free(paddr_t pa);
uint64_t frame_take_top(uint64_t lo, uint64_t hi, uint64_t max, paddr_t *pa);
uint64_t frame_free_count(void);
void frame_stats(struct frame_stats *s);
uint64_t frame_meta_size(void);

#endif /* KERNEL_FRAME_H */
