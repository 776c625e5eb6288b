/*
 * The kernel's memory interface: map, unmap, grant, address-space create
 * and destroy, donate and statistics (syscall.h numbers 13-19). Only a
 * holder of MICA_RIGHT_MEMORY (the pager) may change mappings. The kernel
 * keeps no policy: the caller names every frame and every address.
 */
#ifndef MICA_MEMORY_H
#define MICA_MEMORY_H

#include <stdint.h>

/* Rights of a mapping. Every mapping is readable; never write and execute. */
#define MICA_MAP_READ  (1u << 0)
#define MICA_MAP_WRITE (1u << 1)
#define MICA_MAP_EXEC  (1u << 2)

/*
 * map: use 2 MiB pages (MICA_LARGE_PAGE_SIZE). vaddr and frame must be
 * 2 MiB-aligned, npages a multiple of 512, and every frame of each 2 MiB
 * the pool's; only into the caller's own address space (aspace_destroy and
 * grant work a 4 KiB page at a time). Such a page is unmapped whole.
 */
#define MICA_MAP_LARGE (1u << 3)

/* 4 KiB pages in one 2 MiB page (MICA_MAP_LARGE). */
#define MICA_MAP_LARGE_PAGES 512

/*
 * The most pages one map, unmap, grant, donate or destroy step handles: the
 * kernel is not preemptible, so every call's work is bounded.
 */
#define MICA_MAP_MAX_PAGES 1024

/* The most mappings a single frame may have at once. */
#define MICA_MAP_MAX_SHARERS 65534

/* mem_stats: the kernel's frame counts (4 KiB frames). */
struct mica_mem_stats {
	uint64_t reserve_total; /* usable frames the kernel keeps for itself */
	uint64_t reserve_free;  /* of those, free now */
	uint64_t pool_total;    /* frames in the user pool (the pager's) */
	uint64_t pool_mapped;   /* pool frames mapped somewhere now */
	uint64_t mappings;      /* pool page mappings, counting each sharer */
	uint64_t page_tables;   /* page-table frames in use, the kernel's included */
	uint64_t objects;       /* kernel objects alive: threads, address spaces, endpoints */
	uint64_t frame_meta;    /* bytes per frame kept: frame bitmap, states, shared counts */
};

#endif /* MICA_MEMORY_H */
