/*
 * Reading the pager's dump (pager.dump, docs/MEMDUMP.md) into a struct
 * mv_dump: each part in pieces, following the cursor the pager returns.
 */
#include <idl/pager_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "memview.h"

static uint8_t chunk[PAGER_DUMP_CHUNK_MAX]; /* static: the reply lands in mapped pages */

/*
 * Where the records go: static, and all touched before the first call
 * (mv_fetch), so that reading the dump backs no new page of this process
 * while the pager describes it (the dump of memview itself stays exact).
 */
#define MV_BLOCKS 16384
#define MV_RUNS   16384
static struct mica_pager_dump_block blocks[MV_BLOCKS];
static struct mica_pager_dump_run runs[MV_RUNS];
static struct mica_pager_region regions[64 * 64];
static struct mica_pager_dump_proc procs[64];
static uint8_t pool[PAGER_DUMP_CHUNK_MAX];

/* Room left in each store (records). */
static size_t runs_used, regions_used;

/*
 * Every record of part for pid into out (room for cap records of size
 * each); their number to *n. 0, the pager's error, or -1 if they do not
 * fit (both printed; with quiet, MICA_ENOENT is not).
 */
static int fetch_part(uint32_t part, uint64_t pid, size_t size, void *out, size_t cap, size_t *n,
                      bool quiet)
{
	uint64_t cursor = 0, next;
	uint32_t len;
	int r;

	*n = 0;
	do {
		r = pager_dump(rt_startup_info()->pager, part, pid, cursor, &next, chunk, &len);
		/* A process that ended while the dump was read: its caller decides. */
		if (r == MICA_ENOENT && quiet)
			return r;
		if (r < 0) {
			printf("memview: pager.dump part %u pid %llu: %s\n", part,
			       (unsigned long long)pid, mica_error_name(r));
			return r;
		}
		size_t k = len / size;

		if (k > cap - *n) {
			printf("memview: pager.dump part %u: more than %zu records\n", part, cap);
			return -1;
		}
		memcpy((uint8_t *)out + *n * size, chunk, k * size);
		*n += k;
		cursor = next;
	} while (next);
	return 0;
}

/* Touch the stack below us too, as deep as the calls that follow go. */
static void __attribute__((noinline)) warm_stack(void)
{
	volatile uint8_t deep[8192];

	for (size_t i = 0; i < sizeof(deep); i += 512)
		deep[i] = 0;
}

/* The memory of process p (its regions and pages). */
static int fetch_proc(struct mv_proc *p, bool quiet)
{
	int r;

	p->regions = regions + regions_used;
	p->runs = runs + runs_used;
	r = fetch_part(MICA_PAGER_DUMP_REGIONS, p->p.pid, sizeof(*p->regions), p->regions,
	               sizeof(regions) / sizeof(regions[0]) - regions_used, &p->nregions, quiet);
	if (r == 0)
		r = fetch_part(MICA_PAGER_DUMP_PAGES, p->p.pid, sizeof(*p->runs), p->runs,
		               MV_RUNS - runs_used, &p->nruns, quiet);
	regions_used += p->nregions;
	runs_used += p->nruns;
	return r;
}

int mv_fetch(struct mv_dump *d, uint64_t pid)
{
	size_t n;
	int r;

	memset(d, 0, sizeof(*d));
	memset(blocks, 0, sizeof(blocks));
	memset(runs, 0, sizeof(runs));
	memset(regions, 0, sizeof(regions));
	memset(procs, 0, sizeof(procs));
	memset(pool, 0, sizeof(pool));
	warm_stack();
	runs_used = regions_used = 0;
	if ((r = fetch_part(MICA_PAGER_DUMP_POOL, 0, 1, pool, sizeof(pool), &n, false)) < 0)
		return r;
	memcpy(&d->pool, pool, sizeof(d->pool));
	if (d->pool.nranges > MICA_BOOTINFO_RANGES)
		d->pool.nranges = MICA_BOOTINFO_RANGES;
	memcpy(d->ranges, pool + sizeof(d->pool), d->pool.nranges * sizeof(d->ranges[0]));
	d->blocks = blocks;
	if ((r = fetch_part(MICA_PAGER_DUMP_BLOCKS, 0, sizeof(*blocks), blocks, MV_BLOCKS,
	                    &d->nblocks, false)) < 0)
		return r;
	if ((r = fetch_part(MICA_PAGER_DUMP_PROCS, 0, sizeof(*procs), procs, 64, &n, false)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		struct mv_proc *p = &d->procs[d->nprocs++];

		p->p = procs[i];
		/* The memory of running processes (an ended one has none left). */
		if (p->p.state != 1 || (pid && p->p.pid != pid))
			continue;
		/* One that ended meanwhile (between the parts) is shown as ended. */
		if ((r = fetch_proc(p, !pid)) == MICA_ENOENT && !pid) {
			p->p.state = 2;
			p->nregions = p->nruns = 0;
		} else if (r < 0) {
			return r;
		}
	}
	/* A pid asked for must be running: else the pager's answer for it. */
	if (pid) {
		struct mv_proc one = {.p = {.pid = pid}};
		bool found = false;

		for (size_t i = 0; i < d->nprocs; i++)
			found |= d->procs[i].p.pid == pid && d->procs[i].p.state == 1;
		if (!found) {
			r = fetch_proc(&one, false); /* prints the pager's ENOENT */
			return r < 0 ? r : MICA_ENOENT;
		}
	}
	return 0;
}

void mv_rights(uint32_t rights, char *out)
{
	out[0] = rights & MICA_MAP_READ ? 'r' : '-';
	out[1] = rights & MICA_MAP_WRITE ? 'w' : '-';
	out[2] = rights & MICA_MAP_EXEC ? 'x' : '-';
	out[3] = 0;
}

const char *mv_kind(uint32_t kind)
{
	static const char *const names[] = {"anon", "image", "heap", "stack", "shared", "object"};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}
