/*
 * memview: memory as the pager sees it (docs/MEMDUMP.md), for the shell's
 * vm and pmap commands and for make memmap.
 *
 *   memview.elf dump [sleep=MS]  the dump as text lines (memdump ...), after
 *                                sleeping MS milliseconds (a workload first)
 *   memview.elf vm PID           a picture of process PID's address space
 *   memview.elf pmap             a picture of the physical pool by owner
 *   memview.elf check            the dump against pager.stats,
 *                                pager.free_blocks and pager.regions
 *   memview.elf selftest         the dump call's errors and pieces (selftest.c)
 *
 * Exit status: 0; 1 the pager refused (its error is printed, e.g. ENOENT
 * for a pid that is not running) or check found a difference; 2 bad
 * arguments (the usage is printed).
 */
#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <mica/errname.h>
#include <startup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memview.h"

#define WIDTH    64 /* characters in a picture's row */
#define MAX_ROWS 16 /* rows of the pool picture, all ranges together */
#define PAGE     4096

static struct mv_dump dump;

/* A decimal number (or hex after 0x) that is the whole of s: true, else false. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16, s += 2;
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return false;
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

static int usage(void)
{
	printf("usage: memview.elf dump [sleep=MS] | vm PID | pmap | check | selftest\n");
	return 2;
}

/* ---- dump: the text format of docs/MEMDUMP.md ---- */

static void print_dump(void)
{
	const struct mica_pager_dump_pool *p = &dump.pool;
	char rights[4];

	printf("memdump begin %u\n", p->version);
	printf("memdump pool total=%llu free=%llu donated=%llu largest=%d span=0x%llx+%llu\n",
	       (unsigned long long)p->total, (unsigned long long)p->free,
	       (unsigned long long)p->donated, p->largest_order, (unsigned long long)p->span_base,
	       (unsigned long long)p->span_frames);
	for (uint32_t i = 0; i < p->nranges; i++)
		printf("memdump range 0x%llx %llu\n", (unsigned long long)dump.ranges[i].first,
		       (unsigned long long)dump.ranges[i].count);
	for (uint32_t k = 0; k <= p->max_order && k < 19; k++)
		printf("memdump order %u %llu\n", k, (unsigned long long)p->free_blocks[k]);
	for (size_t i = 0; i < dump.nblocks; i++)
		printf("memdump block 0x%llx %u %s\n", (unsigned long long)dump.blocks[i].frame,
		       dump.blocks[i].order, dump.blocks[i].free ? "free" : "donated");
	for (size_t i = 0; i < dump.nprocs; i++) {
		const struct mv_proc *m = &dump.procs[i];

		printf("memdump proc %llu %llu %s %llu %u %s\n", (unsigned long long)m->p.pid,
		       (unsigned long long)m->p.parent, m->p.state == 1 ? "running" : "ended",
		       (unsigned long long)m->p.resident, m->p.regions, m->p.name);
	}
	for (size_t i = 0; i < dump.nprocs; i++) {
		const struct mv_proc *m = &dump.procs[i];

		for (size_t j = 0; j < m->nregions; j++) {
			const struct mica_pager_region *r = &m->regions[j];

			mv_rights(r->rights, rights);
			printf("memdump region %llu 0x%llx 0x%llx %s %s %llu\n",
			       (unsigned long long)m->p.pid, (unsigned long long)r->start,
			       (unsigned long long)r->end, rights, mv_kind(r->kind),
			       (unsigned long long)r->backed);
		}
		for (size_t j = 0; j < m->nruns; j++)
			printf("memdump run %llu 0x%llx 0x%llx %llu\n",
			       (unsigned long long)m->p.pid, (unsigned long long)m->runs[j].va,
			       (unsigned long long)m->runs[j].frame,
			       (unsigned long long)m->runs[j].count);
	}
	printf("memdump end\n");
}

/* ---- vm: one address space ---- */

/* Pages of [lo, hi) that runs back. */
static uint64_t backed_in(const struct mv_proc *m, uint64_t lo, uint64_t hi)
{
	uint64_t n = 0;

	for (size_t i = 0; i < m->nruns; i++) {
		uint64_t a = m->runs[i].va, b = a + m->runs[i].count * PAGE;

		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (a < b)
			n += (b - a) / PAGE;
	}
	return n;
}

static void draw_vm(const struct mv_proc *m)
{
	uint64_t pages = 0, backed = 0;
	char rights[4], row[WIDTH + 1];

	for (size_t j = 0; j < m->nregions; j++) {
		pages += (m->regions[j].end - m->regions[j].start) / PAGE;
		backed += m->regions[j].backed;
	}
	printf("vm %llu %s: %zu regions, %llu of %llu pages backed\n", (unsigned long long)m->p.pid,
	       m->p.name, m->nregions, (unsigned long long)backed, (unsigned long long)pages);
	for (size_t j = 0; j < m->nregions; j++) {
		const struct mica_pager_region *r = &m->regions[j];
		uint64_t n = (r->end - r->start) / PAGE;
		uint64_t per = (n + WIDTH - 1) / WIDTH, cells = (n + per - 1) / per;

		for (uint64_t c = 0; c < cells; c++) {
			uint64_t lo = r->start + c * per * PAGE, hi = lo + per * PAGE;

			if (hi > r->end)
				hi = r->end;
			uint64_t b = backed_in(m, lo, hi);

			row[c] = b == 0 ? '.' : b == (hi - lo) / PAGE ? '#' : '+';
		}
		row[cells] = 0;
		mv_rights(r->rights, rights);
		printf("  %016llx-%016llx %s %-6s %6llu/%-6llu |%s|", (unsigned long long)r->start,
		       (unsigned long long)r->end, rights, mv_kind(r->kind),
		       (unsigned long long)r->backed, (unsigned long long)n, row);
		if (per > 1)
			printf(" %llu pages/char", (unsigned long long)per);
		printf("\n");
	}
	printf("  legend: # backed, + partly backed, . not backed\n");
}

/* ---- pmap: the pool by owner ---- */

/* The character for process index i: a-z, then A-Z (K is the kernel's). */
static char owner_char(size_t i)
{
	static const char chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJLMNOPQRSTUVWXYZ";

	return i < sizeof(chars) - 1 ? chars[i] : '?';
}

/* Counts per cell of the picture: free, donated, and each process's frames. */
struct cell {
	uint32_t free, donated;
	uint32_t proc[64];
};

/* The cell frame f falls in (cell_of's ranges laid end to end), or -1 outside them. */
static long cell_of(uint64_t f, uint64_t per)
{
	uint64_t off = 0;

	for (uint32_t i = 0; i < dump.pool.nranges; i++) {
		const struct mica_pager_dump_range *g = &dump.ranges[i];
		uint64_t cells = (g->count + per - 1) / per;

		if (f >= g->first && f < g->first + g->count)
			return (long)(off + (f - g->first) / per);
		off += cells;
	}
	return -1;
}

/* Add n frames from f to a count of each cell they meet. */
static void count_frames(struct cell *cells, uint64_t per, uint64_t f, uint64_t n, int what)
{
	for (uint64_t k = 0; k < n; k++) {
		long c = cell_of(f + k, per);

		if (c < 0)
			continue;
		if (what == -1)
			cells[c].free++;
		else if (what == -2)
			cells[c].donated++;
		else
			cells[c].proc[what]++;
	}
}

static void draw_pmap(void)
{
	const struct mica_pager_dump_pool *p = &dump.pool;
	uint64_t frames = 0, per, ncells = 0, owned[64] = {0};

	for (uint32_t i = 0; i < p->nranges; i++)
		frames += dump.ranges[i].count;
	per = (frames + WIDTH * MAX_ROWS - 1) / (WIDTH * MAX_ROWS);
	if (!per)
		per = 1;
	for (uint32_t i = 0; i < p->nranges; i++)
		ncells += (dump.ranges[i].count + per - 1) / per;
	struct cell *cells = calloc(ncells + 1, sizeof(*cells));

	if (!cells) {
		printf("memview: out of memory\n");
		return;
	}
	for (size_t i = 0; i < dump.nblocks; i++)
		count_frames(cells, per, dump.blocks[i].frame, 1ULL << dump.blocks[i].order,
		             dump.blocks[i].free ? -1 : -2);
	for (size_t i = 0; i < dump.nprocs; i++)
		for (size_t j = 0; j < dump.procs[i].nruns; j++) {
			count_frames(cells, per, dump.procs[i].runs[j].frame,
			             dump.procs[i].runs[j].count, (int)i);
			owned[i] += dump.procs[i].runs[j].count;
		}
	printf("pmap: %llu frames in %u ranges, %llu free, %llu donated, 1 char = %llu frames\n",
	       (unsigned long long)frames, p->nranges, (unsigned long long)p->free,
	       (unsigned long long)p->donated, (unsigned long long)per);
	uint64_t c0 = 0;
	char row[WIDTH + 1];

	for (uint32_t i = 0; i < p->nranges; i++) {
		const struct mica_pager_dump_range *g = &dump.ranges[i];
		uint64_t n = (g->count + per - 1) / per;

		printf("range 0x%llx-0x%llx (%llu frames)\n", (unsigned long long)g->first,
		       (unsigned long long)(g->first + g->count), (unsigned long long)g->count);
		for (uint64_t c = 0; c < n; c += WIDTH) {
			uint64_t k;

			for (k = 0; k < WIDTH && c + k < n; k++) {
				const struct cell *e = &cells[c0 + c + k];
				uint32_t best = e->free, taken = e->free + e->donated;
				char ch = '.';

				if (e->donated > best)
					best = e->donated, ch = 'K';
				for (size_t o = 0; o < dump.nprocs; o++) {
					taken += e->proc[o];
					if (e->proc[o] > best)
						best = e->proc[o], ch = owner_char(o);
				}
				/* Frames no one here accounts for: the pager's own (its metadata).
				 */
				uint64_t size = per;

				if (c + k == n - 1 && g->count % per)
					size = g->count % per;
				if (size > taken && size - taken > best)
					ch = '#';
				row[k] = ch;
			}
			row[k] = 0;
			printf("  %08llx |%s|\n", (unsigned long long)(g->first + c * per), row);
		}
		c0 += n;
	}
	printf("legend: . free  K kernel reserve (donated)  # the pager's\n");
	for (size_t i = 0; i < dump.nprocs; i++)
		printf("  %c pid %llu %s: %llu frames\n", owner_char(i),
		       (unsigned long long)dump.procs[i].p.pid, dump.procs[i].p.name,
		       (unsigned long long)owned[i]);
	printf("free blocks by order:");
	for (uint32_t k = 0; k <= p->max_order && k < 19; k++)
		if (p->free_blocks[k])
			printf(" %u:%llu", k, (unsigned long long)p->free_blocks[k]);
	printf(" (largest %d)\n", p->largest_order);
	free(cells);
}

/* ---- check: the dump against the pager's other calls ---- */

static int check_failures;
static bool check_quiet; /* the first round: count, print nothing */

static void expect(const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	check_failures++;
	if (check_quiet)
		return;
	printf("memview: check %s: dump %llu, pager %llu\n", what, (unsigned long long)got,
	       (unsigned long long)want);
}

static uint8_t list[PAGER_REGIONS_LIST_MAX]; /* static: replies land in mapped pages */

/* One round of check: the dump read before, and the pager asked now. */
static int check_round(void)
{
	mica_handle_t pg = rt_startup_info()->pager;
	uint64_t pool_free, pool_total, donated, free_frames = 0, pid = rt_startup_info()->pid;
	struct pager_usage mine;
	int32_t largest;
	uint32_t total, len;
	const struct mv_proc *me = 0;
	int r;

	if ((r = pager_stats(pg, &pool_free, &pool_total, &largest, &donated, &mine)) < 0 ||
	    (r = pager_free_blocks(pg, list, &len)) < 0) {
		printf("memview: pager: %s\n", mica_error_name(r));
		return 1;
	}
	expect("total", dump.pool.total, pool_total);
	expect("free", dump.pool.free, pool_free);
	expect("donated", dump.pool.donated, donated);
	expect("largest", (uint64_t)(int64_t)dump.pool.largest_order, (uint64_t)(int64_t)largest);
	for (uint32_t k = 0; k <= 18; k++) {
		uint64_t n, listed = 0;

		memcpy(&n, list + 8 * k, 8);
		expect("order", dump.pool.free_blocks[k], n);
		for (size_t i = 0; i < dump.nblocks; i++)
			listed += dump.blocks[i].free && dump.blocks[i].order == k;
		expect("blocks listed", listed, n);
	}
	for (size_t i = 0; i < dump.nblocks; i++)
		free_frames += dump.blocks[i].free ? 1ULL << dump.blocks[i].order : 0;
	expect("free frames in blocks", free_frames, pool_free);
	/* Every running process: its regions' backed counts are its pages in runs. */
	for (size_t i = 0; i < dump.nprocs; i++) {
		const struct mv_proc *m = &dump.procs[i];
		uint64_t sum = 0;

		if (m->p.pid == pid)
			me = m;
		if (m->p.state != 1)
			continue;
		expect("regions", m->nregions, m->p.regions);
		for (size_t j = 0; j < m->nregions; j++) {
			const struct mica_pager_region *g = &m->regions[j];

			expect("backed", backed_in(m, g->start, g->end), g->backed);
			sum += g->backed;
		}
		expect("resident", sum, m->p.resident);
	}
	if (!me) {
		if (check_quiet)
			return 1;
		printf("memview: check: this process (pid %llu) is not in the dump\n",
		       (unsigned long long)pid);
		return 1;
	}
	/* This process, as pager.regions and pager.stats tell it. */
	if ((r = pager_regions(pg, 0, 0, &total, list, &len)) < 0) {
		printf("memview: pager.regions: %s\n", mica_error_name(r));
		return 1;
	}
	expect("own regions", me->nregions, total);
	for (uint32_t j = 0; j < total && j < me->nregions && (j + 1) * 32 <= len; j++) {
		struct mica_pager_region g;

		memcpy(&g, list + j * sizeof(g), sizeof(g));
		expect("own region start", me->regions[j].start, g.start);
		expect("own region backed", me->regions[j].backed, g.backed);
	}
	expect("own resident", me->p.resident, mine.resident_pages);
	if (check_failures || check_quiet)
		return check_failures ? 1 : 0;
	printf("memview: check ok: %zu processes, %zu blocks, %llu of %llu frames free\n",
	       dump.nprocs, dump.nblocks, (unsigned long long)pool_free,
	       (unsigned long long)pool_total);
	return 0;
}

/*
 * check: twice, the first round quiet. The first backs every page the
 * round touches in this process (code, buffers, stack); so in the second
 * the dump of this process and what the pager says after it agree.
 */
static int check(void)
{
	int r;

	check_quiet = true;
	(void)check_round();
	check_quiet = false;
	check_failures = 0;
	if ((r = mv_fetch(&dump, 0)) < 0)
		return 1;
	return check_round();
}

int main(int argc, char **argv)
{
	uint64_t pid = 0, ms = 0;

	if (argc < 2)
		return usage();
	if (!strcmp(argv[1], "dump")) {
		if (argc > 3 || (argc == 3 && (strncmp(argv[2], "sleep=", 6) ||
		                               !parse_u64(argv[2] + 6, &ms) || ms > 600000)))
			return usage();
		if (ms)
			(void)mica_sleep(ms * 1000000);
		if (mv_fetch(&dump, 0) < 0)
			return 1;
		print_dump();
		return 0;
	}
	if (!strcmp(argv[1], "vm")) {
		if (argc != 3 || !parse_u64(argv[2], &pid) || !pid)
			return usage();
		if (mv_fetch(&dump, pid) < 0)
			return 1;
		for (size_t i = 0; i < dump.nprocs; i++)
			if (dump.procs[i].p.pid == pid)
				draw_vm(&dump.procs[i]);
		return 0;
	}
	if (!strcmp(argv[1], "pmap") && argc == 2) {
		if (mv_fetch(&dump, 0) < 0)
			return 1;
		draw_pmap();
		return 0;
	}
	if (!strcmp(argv[1], "selftest") && argc == 2)
		return mv_selftest();
	if (!strcmp(argv[1], "check") && argc == 2) {
		if (mv_fetch(&dump, 0) < 0)
			return 1;
		return check();
	}
	return usage();
}
