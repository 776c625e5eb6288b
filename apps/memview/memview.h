/*
 * memview: pictures of memory from the pager's dump (pager.dump,
 * docs/MEMDUMP.md). fetch.c reads the dump into memory; main.c prints it
 * as text lines, or draws one process's address space (vm) or the
 * physical pool by owner (pmap); selftest.c tests the dump call.
 */
#ifndef MEMVIEW_H
#define MEMVIEW_H

#include <mica/bootinfo.h>
#include <mica/pager.h>
#include <stddef.h>
#include <stdint.h>

/* One process and what the dump says of its memory. */
struct mv_proc {
	struct mica_pager_dump_proc p;
	struct mica_pager_region *regions; /* nregions, by address */
	size_t nregions;
	struct mica_pager_dump_run *runs; /* nruns, by address */
	size_t nruns;
};

/* A whole dump. */
struct mv_dump {
	struct mica_pager_dump_pool pool;
	struct mica_pager_dump_range ranges[MICA_BOOTINFO_RANGES];
	struct mica_pager_dump_block *blocks;
	size_t nblocks;
	struct mv_proc procs[64];
	size_t nprocs;
};

/*
 * Read the dump: the pool and blocks, the processes, and for each running
 * one (or only for pid, if it is not 0) its regions and pages. 0, or the
 * pager's error (printed, with what was asked).
 */
int mv_fetch(struct mv_dump *d, uint64_t pid);

/* The rights as "rwx" with '-' for each one missing (out: 4 bytes). */
void mv_rights(uint32_t rights, char *out);
/* A region kind's name ("anon", "image", ...). */
const char *mv_kind(uint32_t kind);

/* memview.elf selftest (selftest.c): TEST lines; 0 if all passed, else 1. */
int mv_selftest(void);

#endif /* MEMVIEW_H */
