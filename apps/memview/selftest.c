/*
 * memview.elf selftest: the pager's dump call itself (servers/pager/dump.c),
 * from a process: its errors, the replies in pieces with their cursors,
 * and that reading which frames back a region keeps the region's contents
 * (the pager takes each run out and puts it back). One line per check:
 * TEST memview.<id> PASS, or FAIL with a detail (tests/system/test_memview.py).
 */
#include <idl/pager_client.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <string.h>

#include "memview.h"

#define PAGE   4096
#define DENSE  3000 /* pages of the region backed at once: three PAGES budgets */
#define SPARSE 600  /* pages of the region backed every other page: 300 runs */

static int failures;
static uint8_t chunk[PAGER_DUMP_CHUNK_MAX]; /* static: the reply lands in mapped pages */

static void result(const char *id, bool ok, long detail)
{
	if (ok) {
		printf("TEST memview.%s PASS\n", id);
	} else {
		printf("TEST memview.%s FAIL %ld\n", id, detail);
		failures++;
	}
}

static int call(uint32_t part, uint64_t pid, uint64_t cursor, uint64_t *next, uint32_t *len)
{
	return pager_dump(rt_startup_info()->pager, part, pid, cursor, next, chunk, len);
}

/* Every bad argument gets its error, and nothing else. */
static void test_errors(uint64_t me)
{
	static const struct {
		const char *id;
		uint32_t part;
		bool mine; /* pid: this process (else pid_other) */
		uint64_t pid_other, cursor;
		int want;
	} cases[] = {
	    {"bad_part", MICA_PAGER_DUMP_PARTS, false, 0, 0, MICA_EINVAL},
	    {"bad_part_high", 0xffffffffu, false, 0, 0, MICA_EINVAL},
	    {"unknown_pid", MICA_PAGER_DUMP_REGIONS, false, 999, 0, MICA_ENOENT},
	    {"pid_zero", MICA_PAGER_DUMP_PAGES, false, 0, 0, MICA_ENOENT},
	    {"pool_cursor", MICA_PAGER_DUMP_POOL, false, 0, 1, MICA_ERANGE},
	    {"blocks_cursor", MICA_PAGER_DUMP_BLOCKS, false, 0, 1ULL << 40, MICA_ERANGE},
	    {"procs_cursor", MICA_PAGER_DUMP_PROCS, false, 0, 1ULL << 40, MICA_ERANGE},
	    {"regions_cursor", MICA_PAGER_DUMP_REGIONS, true, 0, 1000, MICA_ERANGE},
	    {"pages_unaligned", MICA_PAGER_DUMP_PAGES, true, 0, 0x400001, MICA_ERANGE},
	    {"pages_kernel_half", MICA_PAGER_DUMP_PAGES, true, 0, 0xffff800000000000ULL,
	     MICA_ERANGE},
	};

	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t next = 1;
		uint32_t len = 1;
		int r = call(cases[i].part, cases[i].mine ? me : cases[i].pid_other,
		             cases[i].cursor, &next, &len);

		result(cases[i].id, r == cases[i].want, r);
	}
}

/*
 * The runs of [at, at + pages) in this process, read in pieces from the
 * region's start: backed pages counted into *backed, pieces into *calls.
 * False if a piece was malformed (too long, a cursor going back).
 */
static bool read_runs(uint64_t me, uint64_t at, uint64_t pages, uint64_t *backed, unsigned *calls)
{
	uint64_t cursor = at, next;
	uint32_t len;

	*backed = *calls = 0;
	do {
		if (call(MICA_PAGER_DUMP_PAGES, me, cursor, &next, &len) < 0 ||
		    len % sizeof(struct mica_pager_dump_run) || (next && next <= cursor))
			return false;
		(*calls)++;
		for (uint32_t i = 0; i < len; i += sizeof(struct mica_pager_dump_run)) {
			struct mica_pager_dump_run run;

			memcpy(&run, chunk + i, sizeof(run));
			if (run.va >= at && run.va < at + pages * PAGE)
				*backed += run.count;
		}
		cursor = next;
	} while (next && next < at + pages * PAGE);
	return true;
}

/* A region all backed: its pages in pieces (the page budget), its contents kept. */
static void test_dense(uint64_t me)
{
	mica_handle_t pg = rt_startup_info()->pager;
	uint64_t at, backed;
	unsigned calls;
	int r;

	if ((r = pager_map(pg, 0, DENSE, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL,
	                   &at)) < 0) {
		result("dense_pieces", false, r);
		return;
	}
	uint64_t *w = (uint64_t *)at;

	for (uint64_t i = 0; i < DENSE * PAGE / 8; i += 64)
		w[i] = i * 0x9e3779b97f4a7c15ULL;
	bool ok = read_runs(me, at, DENSE, &backed, &calls);

	result("dense_pieces", ok && backed == DENSE && calls >= 3, (long)calls);
	uint64_t bad = 0;

	for (uint64_t i = 0; i < DENSE * PAGE / 8; i += 64)
		bad += w[i] != i * 0x9e3779b97f4a7c15ULL;
	result("contents_kept", bad == 0, (long)bad);
	(void)pager_unmap(pg, at);
}

/* Every other page backed: one run each, more than a reply holds. */
static void test_sparse(uint64_t me)
{
	mica_handle_t pg = rt_startup_info()->pager;
	uint64_t at, backed;
	unsigned calls;
	int r;

	if ((r = pager_map(pg, 0, SPARSE, MICA_MAP_READ | MICA_MAP_WRITE, 0, &at)) < 0) {
		result("sparse_pieces", false, r);
		return;
	}
	for (uint64_t p = 0; p < SPARSE; p += 2)
		*(volatile uint64_t *)(at + p * PAGE) = p + 1;
	bool ok = read_runs(me, at, SPARSE, &backed, &calls);

	result("sparse_pieces", ok && backed == SPARSE / 2 && calls >= 2, (long)backed);
	uint64_t bad = 0;

	for (uint64_t p = 0; p < SPARSE; p += 2)
		bad += *(volatile uint64_t *)(at + p * PAGE) != p + 1;
	result("sparse_contents_kept", bad == 0, (long)bad);
	(void)pager_unmap(pg, at);
}

int mv_selftest(void)
{
	uint64_t me = rt_startup_info()->pid;

	test_errors(me);
	test_dense(me);
	test_sparse(me);
	return failures ? 1 : 0;
}
