/*
 * Host unit tests for kernel/arch/x86_64/pt.c: page tables in simulated
 * RAM (an aligned 64 MiB buffer standing in for physical memory), frames
 * from the real frame allocator, and a fake CPU recording TLB flushes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include <mica/layout.h>
#include "cpu.h"
#include "fakes.h"
#include "frame.h"
#include "memmap.h"
#include "phys.h"
#include "pt.h"

#define KiB      (1ULL << 10)
#define MiB      (1ULL << 20)
#define GiB      (1ULL << 30)
#define PAGE     MICA_PAGE_SIZE
#define LARGE    MICA_LARGE_PAGE_SIZE
#define RAM_SIZE (64 * MiB)
#define NFRAMES  (RAM_SIZE / PAGE)

/* Entry bits, as the hardware defines them. */
#define E_P    (1ULL << 0)
#define E_PS   (1ULL << 7)
#define E_ADDR 0x000FFFFFFFFFF000ULL

#define UVA      0x0000000040000000ULL /* a user address: 1 GiB */
#define KVA      0xFFFF900000000000ULL /* a kernel address: PML4 slot 288 */
#define TOP_PAGE 0xFFFFFFFFFFFFF000ULL
#define CR4_INIT (CR4_PGE | (1ULL << 5)) /* PGE and PAE */

static uint8_t *ram;
static struct memmap map;
static void *meta;
static paddr_t kroot; /* the kernel's root, current in the fake CR3 */

static int group_setup(void **state)
{
	(void)state;
	ram = aligned_alloc(PAGE, RAM_SIZE);
	assert_non_null(ram);
	host_phys_base = ram;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	/* Garbage everywhere: new tables must be cleared by pt.c. */
	memset(ram, 0xCC, RAM_SIZE);
	memmap_reset(&map);
	assert_int_equal(memmap_add(&map, 1 * MiB, RAM_SIZE - 1 * MiB, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_compute(&map), MICA_OK);
	size_t bytes = frame_meta_bytes(&map);
	meta = malloc(bytes);
	assert_non_null(meta);
	frame_init(&map, meta, bytes);
	assert_int_equal(frame_alloc(&kroot), MICA_OK);
	memset(phys_to_virt(kroot), 0, PAGE);
	fake_cpu_reset(kroot, CR4_INIT);
	fake_cpu_flush_hook = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_cpu_flush_hook = NULL;
	free(meta);
	meta = NULL;
	return 0;
}

static uint64_t *table(paddr_t pa)
{
	return phys_to_virt(pa);
}

static uint64_t nfree(void)
{
	return frame_free_count();
}

/*
 * Give the kernel root's PML4 slot holding va its level-3 table, as boot
 * code does for every slot the kernel uses: kernel-half maps need it.
 */
static void kslot(vaddr_t va)
{
	assert_int_equal(pt_kernel_slot_create(kroot, va), MICA_OK);
}

/* ---- walking the tables from the test's side ---- */

/* Collect every table reachable from `t` (a level-lvl table) into out. */
static size_t collect(paddr_t t, int lvl, paddr_t *out, size_t n, size_t max)
{
	assert_true(n < max);
	out[n++] = t;
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = table(t)[i];

		if (!(e & E_P) || lvl == 1 || (e & E_PS))
			continue;
		n = collect(e & E_ADDR, lvl - 1, out, n, max);
	}
	return n;
}

/* The entry count pt.c keeps for each table, in bits 52-61 of the entry pointing to it. */
static unsigned entry_count(uint64_t e)
{
	return (unsigned)((e >> 52) & 0x3FF);
}

static uint64_t with_count(uint64_t e, unsigned n)
{
	return (e & ~(0x3FFULL << 52)) | ((uint64_t)n << 52);
}

/*
 * Every table under t (a level-lvl table) holds exactly as many present
 * entries as the entry pointing to it counts; leaves carry no count bits.
 * Returns how many tables it checked.
 */
static size_t check_counts_under(paddr_t t, int lvl)
{
	size_t n = 0;

	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = table(t)[i];

		if (!(e & E_P))
			continue;
		if (lvl == 1 || (e & E_PS)) {
			assert_int_equal(entry_count(e), 0);
			continue;
		}
		unsigned present = 0;
		for (unsigned k = 0; k < 512; k++)
			present += table(e & E_ADDR)[k] & E_P;
		assert_int_equal(entry_count(e), present);
		assert_true(present > 0); /* an empty table is freed, never left linked */
		n += 1 + check_counts_under(e & E_ADDR, lvl - 1);
	}
	return n;
}

/*
 * The count invariant in every table of root: user-half tables from the
 * root's entries down; in the kernel half, below the shared level-3 tables
 * (which keep no count: they are never freed).
 */
static void check_counts(paddr_t root)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = table(root)[i];

		if (!(e & E_P))
			continue;
		if (i < 256) {
			unsigned present = 0;
			for (unsigned k = 0; k < 512; k++)
				present += table(e & E_ADDR)[k] & E_P;
			assert_int_equal(entry_count(e), present);
			assert_true(present > 0);
			check_counts_under(e & E_ADDR, 3);
		} else {
			assert_int_equal(entry_count(e), 0);
			check_counts_under(e & E_ADDR, 3);
		}
	}
}

/* Tables reachable from root: the root and everything under it. */
static size_t count_tables(paddr_t root)
{
	static paddr_t t[NFRAMES];

	return collect(root, 4, t, 0, NFRAMES);
}

/* Tables under the user half of root (the root itself not included). */
static size_t count_user_tables(paddr_t root)
{
	static paddr_t t[NFRAMES];
	size_t n = 0;

	for (unsigned i = 0; i < 256; i++)
		if (table(root)[i] & E_P)
			n = collect(table(root)[i] & E_ADDR, 3, t, n, NFRAMES);
	return n;
}

/* ---- "nothing changed" snapshots ---- */

struct snap {
	uint64_t nfree;
	bool free[NFRAMES];
	size_t ntables;
	paddr_t tables[256];
	uint8_t copies[256][PAGE];
};

static struct snap snap_before, snap_after;

/* The frames' states and the contents of every table reachable from the roots. */
static void take(struct snap *s, const paddr_t *roots, size_t nroots)
{
	s->nfree = nfree();
	for (uint64_t f = 0; f < NFRAMES; f++)
		s->free[f] = frame_is_free(f * PAGE);
	s->ntables = 0;
	for (size_t r = 0; r < nroots; r++)
		s->ntables = collect(roots[r], 4, s->tables, s->ntables, 256);
	for (size_t i = 0; i < s->ntables; i++)
		memcpy(s->copies[i], table(s->tables[i]), PAGE);
}

static void snapshot(void)
{
	take(&snap_before, &kroot, 1);
	fake_cpu_clear_log();
}

static void expect_unchanged(void)
{
	take(&snap_after, &kroot, 1);
	assert_int_equal(snap_after.nfree, snap_before.nfree);
	assert_memory_equal(snap_after.free, snap_before.free, sizeof(snap_before.free));
	assert_int_equal(snap_after.ntables, snap_before.ntables);
	assert_memory_equal(snap_after.tables, snap_before.tables,
	                    snap_before.ntables * sizeof(paddr_t));
	for (size_t i = 0; i < snap_before.ntables; i++)
		assert_memory_equal(snap_after.copies[i], snap_before.copies[i], PAGE);
	/* A refused call flushes nothing either. */
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 0);
	assert_int_equal(fake_cpu.cr4_writes, 0);
}

/* ---- the unmap callback ---- */

struct rec {
	vaddr_t va;
	paddr_t pa;
	uint64_t npages;
};

static struct rec recs[8192];
static size_t nrecs;
static uint64_t rec_pages;
static int cb_cookie;

static void record(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	assert_ptr_equal(arg, &cb_cookie);
	assert_true(nrecs < ARRAY_SIZE(recs));
	recs[nrecs++] = (struct rec){va, pa, npages};
	rec_pages += npages;
}

static void recs_clear(void)
{
	nrecs = 0;
	rec_pages = 0;
}

static int unmap(paddr_t root, vaddr_t va, uint64_t npages)
{
	return pt_unmap(root, va, npages, record, &cb_cookie);
}

/* Every page of [va, va + n pages) translates to pa + offset with `flags`. */
static void expect_mapped(paddr_t root, vaddr_t va, paddr_t pa, uint64_t n, unsigned flags)
{
	for (uint64_t i = 0; i < n; i++) {
		paddr_t got = 0;
		unsigned f = 0;

		assert_int_equal(pt_translate(root, va + i * PAGE, &got, &f), MICA_OK);
		assert_int_equal(got, pa + i * PAGE);
		assert_int_equal(f, flags);
		/* An offset inside the page is kept. */
		assert_int_equal(pt_translate(root, va + i * PAGE + 0x9a8, &got, NULL), MICA_OK);
		assert_int_equal(got, pa + i * PAGE + 0x9a8);
	}
}

static void expect_unmapped(paddr_t root, vaddr_t va, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(pt_translate(root, va + i * PAGE, NULL, NULL), MICA_ENOENT);
}

/* ---- map and translate ---- */

static void test_map_translate_4k(void **state)
{
	(void)state;
	uint64_t before = nfree();

	assert_int_equal(pt_map(kroot, UVA, 0x12345000, 3, PT_USER | PT_WRITE), MICA_OK);
	/* A PDPT, a PD and a page table. */
	assert_int_equal(before - nfree(), 3);
	assert_int_equal(count_tables(kroot), 4);
	expect_mapped(kroot, UVA, 0x12345000, 3, PT_USER | PT_WRITE);
	expect_unmapped(kroot, UVA - PAGE, 1);
	expect_unmapped(kroot, UVA + 3 * PAGE, 1);
	assert_int_equal(pt_translate(kroot, UVA + 1 * GiB, NULL, NULL), MICA_ENOENT);
	assert_int_equal(pt_translate(kroot, 0, NULL, NULL), MICA_ENOENT);

	/* Read-only and executable, next to it: the same tables. */
	assert_int_equal(pt_map(kroot, UVA + 3 * PAGE, 0x1000, 1, PT_USER | PT_EXEC), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	expect_mapped(kroot, UVA + 3 * PAGE, 0x1000, 1, PT_USER | PT_EXEC);
	/* Read-only, not executable. */
	assert_int_equal(pt_map(kroot, UVA + 4 * PAGE, 0x2000, 1, PT_USER), MICA_OK);
	expect_mapped(kroot, UVA + 4 * PAGE, 0x2000, 1, PT_USER);
	/* The leaf entries as the hardware reads them. */
	uint64_t *pml4 = table(kroot);
	uint64_t *pdpt = table(pml4[0] & E_ADDR);
	uint64_t *pd = table(pdpt[1] & E_ADDR);
	uint64_t *pt = table(pd[0] & E_ADDR);
	assert_int_equal(pt[0], 0x12345000 | 0x7 | (1ULL << 63)); /* P RW US NX */
	assert_int_equal(pt[3], 0x1000 | 0x5);                    /* P US, executable */
	assert_int_equal(pt[4], 0x2000 | 0x5 | (1ULL << 63));     /* P US NX */
	/* Intermediate entries allow everything; rights live in the leaves. */
	assert_int_equal(pml4[0] & 0x7, 0x7);
	assert_int_equal(pdpt[1] & 0x7, 0x7);
	assert_int_equal(pd[0] & 0x7, 0x7);
	assert_int_equal(pml4[0] & (1ULL << 63), 0);
}

static void test_map_kernel_half(void **state)
{
	(void)state;
	uint64_t before = nfree();
	const vaddr_t kimg = MICA_KERNEL_VBASE + MICA_KERNEL_LOAD;

	/* A level-3 table for each of the two slots, made up front. */
	kslot(kimg);
	kslot(MICA_DIRECT_MAP_BASE);
	assert_int_equal(before - nfree(), 2);
	assert_int_equal(pt_map(kroot, kimg, MICA_KERNEL_LOAD, 4, PT_GLOBAL | PT_EXEC), MICA_OK);
	assert_int_equal(
	    pt_map(kroot, kimg + 4 * PAGE, MICA_KERNEL_LOAD + 4 * PAGE, 2, PT_GLOBAL | PT_WRITE),
	    MICA_OK);
	assert_int_equal(pt_map(kroot, MICA_DIRECT_MAP_BASE, 0, 1, 0), MICA_OK);
	assert_int_equal(before - nfree(), 6);
	expect_mapped(kroot, kimg, MICA_KERNEL_LOAD, 4, PT_GLOBAL | PT_EXEC);
	expect_mapped(kroot, kimg + 4 * PAGE, MICA_KERNEL_LOAD + 4 * PAGE, 2, PT_GLOBAL | PT_WRITE);
	expect_mapped(kroot, MICA_DIRECT_MAP_BASE, 0, 1, 0);
	/* No user bit anywhere on the way to a kernel page. */
	uint64_t *pml4 = table(kroot);
	assert_int_equal(pml4[511] & 0x4, 0);
	assert_int_equal(pml4[256] & 0x4, 0);
	/* Global set in the leaf. */
	uint64_t *pdpt = table(pml4[511] & E_ADDR);
	uint64_t *pd = table(pdpt[510] & E_ADDR);
	uint64_t *pt = table(pd[0] & E_ADDR);
	assert_int_equal(pt[256], MICA_KERNEL_LOAD | 0x1 | 0x100);
}

static void test_large_pages_where_aligned(void **state)
{
	(void)state;
	uint64_t before = nfree();
	paddr_t pa;
	unsigned f;

	/* Both aligned, 4 MiB: two 2 MiB pages, no page table. */
	assert_int_equal(pt_map(kroot, UVA, 5 * LARGE, 1024, PT_USER | PT_WRITE | PT_LARGE),
	                 MICA_OK);
	assert_int_equal(before - nfree(), 2);
	assert_int_equal(pt_translate(kroot, UVA + 0x1234, &pa, &f), MICA_OK);
	assert_int_equal(pa, 5 * LARGE + 0x1234);
	assert_int_equal(f, PT_USER | PT_WRITE | PT_LARGE);
	assert_int_equal(pt_translate(kroot, UVA + 4 * MiB - 1, &pa, &f), MICA_OK);
	assert_int_equal(pa, 7 * LARGE - 1);
	assert_int_equal(f, PT_USER | PT_WRITE | PT_LARGE);
	expect_unmapped(kroot, UVA + 4 * MiB, 1);

	/* va aligned, pa not: 4 KiB pages, two page tables. */
	before = nfree();
	assert_int_equal(pt_map(kroot, UVA + 1 * GiB, 5 * LARGE + PAGE, 1024, PT_USER | PT_LARGE),
	                 MICA_OK);
	assert_int_equal(before - nfree(), 1 + 2); /* a PD, two page tables */
	expect_mapped(kroot, UVA + 1 * GiB, 5 * LARGE + PAGE, 1024, PT_USER);

	/* pa aligned, va not. */
	before = nfree();
	const vaddr_t va2 = UVA + 2 * GiB + PAGE;
	assert_int_equal(pt_map(kroot, va2, 8 * LARGE, 512, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 1 + 2);
	expect_mapped(kroot, va2, 8 * LARGE, 512, PT_USER);

	/* Both a page short of 2 MiB alignment: 4K, one 2M, 4K. */
	before = nfree();
	const vaddr_t va3 = UVA + 3 * GiB - PAGE;
	assert_int_equal(pt_map(kroot, va3, 16 * LARGE - PAGE, 1 + 512 + 1, PT_USER | PT_LARGE),
	                 MICA_OK);
	/* va3's page table under va2's PD; a new PD and one page table for the rest. */
	assert_int_equal(before - nfree(), 1 + 1 + 1);
	expect_mapped(kroot, va3, 16 * LARGE - PAGE, 1, PT_USER);
	expect_mapped(kroot, va3 + PAGE + LARGE, 17 * LARGE, 1, PT_USER);
	assert_int_equal(pt_translate(kroot, va3 + PAGE, &pa, &f), MICA_OK);
	assert_int_equal(pa, 16 * LARGE);
	assert_int_equal(f, PT_USER | PT_LARGE);
	assert_int_equal(pt_translate(kroot, va3 + LARGE, &pa, &f), MICA_OK);
	assert_int_equal(pa, 17 * LARGE - PAGE);
	assert_int_equal(f, PT_USER | PT_LARGE);

	/* Aligned but a page short of 2 MiB: 4K pages only. */
	before = nfree();
	const vaddr_t va4 = UVA + 4 * GiB;
	assert_int_equal(pt_map(kroot, va4, 20 * LARGE, 511, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 1 + 1);
	expect_mapped(kroot, va4, 20 * LARGE, 511, PT_USER);

	/* Aligned, but without PT_LARGE: 4K pages. */
	before = nfree();
	assert_int_equal(pt_map(kroot, va4 + LARGE, 21 * LARGE, 512, PT_USER), MICA_OK);
	assert_int_equal(before - nfree(), 1);
	expect_mapped(kroot, va4 + LARGE, 21 * LARGE, 512, PT_USER);

	/* Kernel half, global and large: a level-3 table for the slot, then a PD. */
	before = nfree();
	kslot(KVA);
	assert_int_equal(before - nfree(), 1);
	assert_int_equal(pt_map(kroot, KVA, 0, 512, PT_GLOBAL | PT_WRITE | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 2);
	assert_int_equal(pt_translate(kroot, KVA + 0x1fffff, &pa, &f), MICA_OK);
	assert_int_equal(pa, 0x1fffff);
	assert_int_equal(f, PT_GLOBAL | PT_WRITE | PT_LARGE);
	/* The PD entry is a leaf with PS and G. */
	uint64_t *pdpt = table(table(kroot)[288] & E_ADDR);
	uint64_t *pd = table(pdpt[0] & E_ADDR);
	assert_int_equal(pd[0], 0 | 0x1 | 0x2 | 0x80 | 0x100 | (1ULL << 63));
}

/* The PD entry for va in root: walked from the test's side. */
static uint64_t *pd_entry(paddr_t root, vaddr_t va)
{
	uint64_t e = table(root)[(va >> 39) & 511];

	assert_true(e & E_P);
	e = table(e & E_ADDR)[(va >> 30) & 511];
	assert_true(e & E_P);
	return &table(e & E_ADDR)[(va >> 21) & 511];
}

static void test_large_never_over_a_table(void **state)
{
	(void)state;
	const uint64_t before = nfree();
	const vaddr_t w = UVA + 4 * LARGE; /* a 2 MiB window */
	uint64_t *pde;

	/* One 4 KiB page at the top of the window: a page table under its PD entry. */
	assert_int_equal(pt_map(kroot, w + LARGE - PAGE, 0x5000, 1, PT_USER), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	pde = pd_entry(kroot, w);
	const uint64_t pt_entry = *pde;
	assert_false(pt_entry & E_PS);
	/* The other 511 pages, va and pa 2 MiB-aligned: 4 KiB pages, in the same table. */
	assert_int_equal(pt_map(kroot, w, 10 * LARGE, 511, PT_USER | PT_WRITE | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	/* The same table (its entry but for the count pt.c keeps in it, now of 512 entries). */
	assert_int_equal(with_count(*pde, 0), with_count(pt_entry, 0));
	assert_int_equal(entry_count(*pde), 512);
	check_counts(kroot);
	expect_mapped(kroot, w, 10 * LARGE, 511, PT_USER | PT_WRITE);
	expect_mapped(kroot, w + LARGE - PAGE, 0x5000, 1, PT_USER);

	/* The next window: one page at the bottom, then the other 511 and a whole window. */
	assert_int_equal(pt_map(kroot, w + LARGE, 0x6000, 1, PT_USER), MICA_OK);
	assert_int_equal(before - nfree(), 4);
	assert_int_equal(
	    pt_map(kroot, w + LARGE + PAGE, 12 * LARGE + PAGE, 511 + 512, PT_USER | PT_LARGE),
	    MICA_OK);
	/* The window without a table still gets its 2 MiB page. */
	assert_int_equal(before - nfree(), 4);
	expect_mapped(kroot, w + LARGE + PAGE, 12 * LARGE + PAGE, 511, PT_USER);
	expect_mapped(kroot, w + 2 * LARGE, 13 * LARGE, 1, PT_USER | PT_LARGE);
	assert_true(*pd_entry(kroot, w + 2 * LARGE) & E_PS);

	/* No table leaked: unmapping everything gives every frame back. */
	assert_int_equal(unmap(kroot, w, 3 * 512), MICA_OK);
	assert_int_equal(nfree(), before);
	assert_int_equal(count_tables(kroot), 1);
}

/*
 * The same guard where a whole aligned 2 MiB fits: a page table that holds
 * no mapping but is still linked (made here by clearing its only entry by
 * hand; pt.c itself frees emptied tables) must be filled with 4 KiB pages,
 * not replaced by a 2 MiB page, which would leak it.
 */
static void test_large_never_over_an_empty_table(void **state)
{
	(void)state;
	const uint64_t before = nfree();
	const vaddr_t w = UVA + 6 * LARGE;

	assert_int_equal(pt_map(kroot, w + 7 * PAGE, 0x5000, 1, PT_USER), MICA_OK);
	uint64_t *pde = pd_entry(kroot, w);
	/* Empty it consistently: the entry and the count pt.c keeps for the table. */
	table(*pde & E_ADDR)[7] = 0;
	assert_int_equal(entry_count(*pde), 1);
	*pde = with_count(*pde, 0);
	const uint64_t pt_entry = *pde;
	assert_int_equal(before - nfree(), 3);

	assert_int_equal(pt_map(kroot, w, 10 * LARGE, 512, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	assert_int_equal(with_count(*pde, 0), with_count(pt_entry, 0));
	assert_int_equal(entry_count(*pde), 512);
	check_counts(kroot);
	expect_mapped(kroot, w, 10 * LARGE, 512, PT_USER);
	assert_int_equal(unmap(kroot, w, 512), MICA_OK);
	assert_int_equal(nfree(), before);
	assert_true(frame_is_free(pt_entry & E_ADDR));
}

/* ---- unmap ---- */

static void test_unmap_reports_and_frees(void **state)
{
	(void)state;
	uint64_t before = nfree();

	/* 4K, 2M, 2M, 4K pages in one range. */
	const vaddr_t va = UVA + LARGE - 2 * PAGE;
	const paddr_t pa = 40 * LARGE - 2 * PAGE;
	const uint64_t n = 2 + 1024 + 3;
	assert_int_equal(pt_map(kroot, va, pa, n, PT_USER | PT_WRITE | PT_LARGE), MICA_OK);
	assert_int_equal(before - nfree(), 2 + 2);
	uint64_t *pd = table(table(table(kroot)[0] & E_ADDR)[1] & E_ADDR);
	assert_true(pd[1] & E_PS);
	assert_true(pd[2] & E_PS);

	recs_clear();
	assert_int_equal(unmap(kroot, va, n), MICA_OK);
	assert_int_equal(nfree(), before);
	assert_int_equal(count_tables(kroot), 1);
	expect_unmapped(kroot, va, n);
	/* Every mapping once, in order, with its physical address. */
	assert_int_equal(rec_pages, n);
	assert_int_equal(nrecs, 2 + 2 + 3);
	vaddr_t next = va;
	for (size_t i = 0; i < nrecs; i++) {
		assert_int_equal(recs[i].va, next);
		assert_int_equal(recs[i].pa, pa + (recs[i].va - va));
		bool large = i == 2 || i == 3;
		assert_int_equal(recs[i].npages, large ? 512 : 1);
		next += recs[i].npages * PAGE;
	}
	/* The root's entries are all empty again. */
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(table(kroot)[i], 0);

	/* A NULL callback is allowed. */
	assert_int_equal(pt_map(kroot, va, pa, 4, PT_USER), MICA_OK);
	assert_int_equal(pt_unmap(kroot, va, 4, NULL, NULL), MICA_OK);
	assert_int_equal(nfree(), before);
}

static void test_unmap_frees_only_empty_tables(void **state)
{
	(void)state;
	uint64_t before = nfree();

	/* Two pages in two page tables under one PD, one page in another PD. */
	assert_int_equal(pt_map(kroot, UVA, 0x100000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA + LARGE, 0x200000, 2, PT_USER), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA + 1 * GiB, 0x300000, 1, PT_USER), MICA_OK);
	assert_int_equal(before - nfree(), 1 + 2 + 2 + 1);

	/* Half of a page table: nothing freed. */
	assert_int_equal(unmap(kroot, UVA + LARGE + PAGE, 1), MICA_OK);
	assert_int_equal(before - nfree(), 6);
	expect_mapped(kroot, UVA + LARGE, 0x200000, 1, PT_USER);
	/* The first page table empties. */
	assert_int_equal(unmap(kroot, UVA, 1), MICA_OK);
	assert_int_equal(before - nfree(), 5);
	/* The second one and its PD. */
	assert_int_equal(unmap(kroot, UVA + LARGE, 1), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	expect_mapped(kroot, UVA + 1 * GiB, 0x300000, 1, PT_USER);
	/* The last page: its page table, PD and the PDPT. */
	assert_int_equal(unmap(kroot, UVA + 1 * GiB, 1), MICA_OK);
	assert_int_equal(nfree(), before);
	assert_int_equal(table(kroot)[0], 0);
}

static void test_kernel_l3_tables_kept(void **state)
{
	(void)state;
	uint64_t before = nfree();

	kslot(KVA);
	assert_int_equal(before - nfree(), 1);
	const uint64_t slot = table(kroot)[288];
	assert_true(slot & E_P);
	assert_int_equal(pt_map(kroot, KVA, 0x5000, 3, PT_WRITE), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	assert_int_equal(table(kroot)[288], slot);
	recs_clear();
	assert_int_equal(unmap(kroot, KVA, 3), MICA_OK);
	assert_int_equal(rec_pages, 3);
	/* The PD and page table go, the level-3 table stays, still linked. */
	assert_int_equal(before - nfree(), 1);
	assert_int_equal(table(kroot)[288], slot);
	assert_false(frame_is_free(slot & E_ADDR));
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(table(slot & E_ADDR)[i], 0);
	/* Mapping there again needs only the two lower tables. */
	assert_int_equal(pt_map(kroot, KVA + 7 * GiB, 0x5000, 1, 0), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	assert_int_equal(unmap(kroot, KVA + 7 * GiB, 1), MICA_OK);
	assert_int_equal(before - nfree(), 1);
	/* Asking for the slot again changes nothing. */
	kslot(KVA + 100 * GiB);
	assert_int_equal(before - nfree(), 1);
	assert_int_equal(table(kroot)[288], slot);

	/* The user half has no such exception. */
	assert_int_equal(pt_map(kroot, UVA, 0x5000, 1, PT_USER), MICA_OK);
	assert_int_equal(unmap(kroot, UVA, 1), MICA_OK);
	assert_int_equal(before - nfree(), 1);
	assert_int_equal(table(kroot)[0], 0);
}

/* ---- protect ---- */

static void test_protect(void **state)
{
	(void)state;
	paddr_t pa;
	unsigned f;

	assert_int_equal(pt_map(kroot, UVA, 0x800000, 4, PT_USER | PT_WRITE), MICA_OK);
	uint64_t before = nfree();

	assert_int_equal(pt_protect(kroot, UVA + PAGE, 2, PT_USER), MICA_OK);
	expect_mapped(kroot, UVA, 0x800000, 1, PT_USER | PT_WRITE);
	expect_mapped(kroot, UVA + PAGE, 0x801000, 2, PT_USER);
	expect_mapped(kroot, UVA + 3 * PAGE, 0x803000, 1, PT_USER | PT_WRITE);
	assert_int_equal(pt_protect(kroot, UVA, 4, PT_USER | PT_EXEC), MICA_OK);
	expect_mapped(kroot, UVA, 0x800000, 4, PT_USER | PT_EXEC);
	assert_int_equal(nfree(), before);

	/* Refused: W|X, PT_LARGE, PT_USER missing in the user half. */
	snapshot();
	assert_int_equal(pt_protect(kroot, UVA, 4, PT_USER | PT_WRITE | PT_EXEC), MICA_EPERM);
	assert_int_equal(pt_protect(kroot, UVA, 4, PT_USER | PT_LARGE), MICA_EINVAL);
	assert_int_equal(pt_protect(kroot, UVA, 4, PT_WRITE), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, UVA, 4, 1u << 7), MICA_EINVAL);
	assert_int_equal(pt_protect(kroot, UVA, 0, PT_USER), MICA_EINVAL);
	expect_unchanged();

	/* A whole 2 MiB page keeps its size. */
	assert_int_equal(pt_map(kroot, UVA + LARGE, 0x400000, 512, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(pt_protect(kroot, UVA + LARGE, 512, PT_USER | PT_WRITE), MICA_OK);
	assert_int_equal(pt_translate(kroot, UVA + LARGE + 0x10000, &pa, &f), MICA_OK);
	assert_int_equal(pa, 0x410000);
	assert_int_equal(f, PT_USER | PT_WRITE | PT_LARGE);

	/* Kernel half: global on and off. */
	kslot(KVA);
	assert_int_equal(pt_map(kroot, KVA, 0x9000, 1, PT_WRITE), MICA_OK);
	assert_int_equal(pt_protect(kroot, KVA, 1, PT_GLOBAL | PT_EXEC), MICA_OK);
	expect_mapped(kroot, KVA, 0x9000, 1, PT_GLOBAL | PT_EXEC);
	assert_int_equal(pt_protect(kroot, KVA, 1, 0), MICA_OK);
	expect_mapped(kroot, KVA, 0x9000, 1, 0);
}

/* ---- refusals ---- */

static void test_refused_maps_change_nothing(void **state)
{
	(void)state;
	const unsigned U = PT_USER;

	/* Something to collide with, and a kernel mapping. */
	kslot(KVA);
	assert_int_equal(pt_map(kroot, UVA, 0x100000, 8, U | PT_WRITE), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA + 2 * LARGE, 4 * LARGE, 512, U | PT_LARGE), MICA_OK);
	assert_int_equal(pt_map(kroot, KVA, 0x100000, 1, 0), MICA_OK);
	snapshot();

	/* Arguments. */
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 0, U), MICA_EINVAL);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, U | (1u << 5)), MICA_EINVAL);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, U | 0x80000000u), MICA_EINVAL);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, U | PT_WRITE | PT_EXEC), MICA_EPERM);
	assert_int_equal(pt_map(kroot, KVA + GiB, 0, 1, PT_WRITE | PT_EXEC), MICA_EPERM);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, U | PT_GLOBAL), MICA_EINVAL);
	/* Alignment. */
	assert_int_equal(pt_map(kroot, UVA + GiB + 1, 0, 1, U), MICA_EALIGN);
	assert_int_equal(pt_map(kroot, UVA + GiB + 0x800, 0, 1, U), MICA_EALIGN);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0x1001, 1, U), MICA_EALIGN);
	assert_int_equal(pt_map(kroot, KVA + GiB, 0x800, 1, 0), MICA_EALIGN);
	/* Non-canonical. */
	assert_int_equal(pt_map(kroot, MICA_USER_TOP, 0, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_USER_TOP, 0, 1, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 0x1234000000000000ULL, 0, 1, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_KERNEL_HALF - PAGE, 0, 1, 0), MICA_ERANGE);
	/* Out of the user half at the top. */
	assert_int_equal(pt_map(kroot, MICA_USER_TOP - PAGE, 0, 2, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_USER_TOP - 2 * MiB, 0, 1024, U | PT_LARGE),
	                 MICA_ERANGE);
	/* The wrong half for the flags. */
	assert_int_equal(pt_map(kroot, KVA + GiB, 0, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + GiB, 0, 1, U | PT_WRITE), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1, PT_GLOBAL), MICA_ERANGE);
	/* Overflow of the virtual range. */
	assert_int_equal(pt_map(kroot, TOP_PAGE, 0, 2, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + GiB, 0, UINT64_MAX, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + GiB, 0, 1ULL << 52, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, 1ULL << 52, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_USER_BASE, 0, (1ULL << 35), U), MICA_ERANGE);
	/* Physical addresses beyond 52 bits. */
	assert_int_equal(pt_map(kroot, UVA + GiB, PT_PHYS_MAX, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, PT_PHYS_MAX - PAGE, 2, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0xFFFFFFFFFFFFF000ULL, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, UVA + GiB, 0, (PT_PHYS_MAX >> 12) + 1, U), MICA_ERANGE);
	/* Over existing mappings. */
	assert_int_equal(pt_map(kroot, UVA, 0, 1, U), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, UVA + 7 * PAGE, 0, 10, U), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, UVA + 2 * LARGE + 5 * PAGE, 0, 1, U), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, UVA + LARGE, 0, 1024, U | PT_LARGE), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, UVA + 2 * LARGE, 4 * LARGE, 512, U | PT_LARGE), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, KVA, 0, 1, PT_GLOBAL), MICA_EEXIST);
	/* Below MICA_USER_BASE, and kernel-half slots without a level-3 table. */
	assert_int_equal(pt_map(kroot, MICA_USER_BASE - PAGE, 0, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB, 0, 1, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB - PAGE, 0, 2, 0), MICA_ERANGE);
	expect_unchanged();
	expect_unmapped(kroot, UVA + GiB, 1);
	expect_unmapped(kroot, UVA + 8 * PAGE, 1);

	/* The last nameable physical page is accepted. */
	assert_int_equal(pt_map(kroot, UVA + GiB, PT_PHYS_MAX - PAGE, 1, U), MICA_OK);
	expect_mapped(kroot, UVA + GiB, PT_PHYS_MAX - PAGE, 1, U);
}

static void test_user_null_guard(void **state)
{
	(void)state;
	const unsigned U = PT_USER;

	/* Nothing below MICA_USER_BASE (4 MiB), so null-pointer accesses fault. */
	assert_int_equal(MICA_USER_BASE, 0x400000);
	snapshot();
	assert_int_equal(pt_map(kroot, 0, 0x5000, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 0x1000, 0x5000, 1, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 0x1000, 0x5000, 1, U | PT_WRITE), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_USER_BASE - PAGE, 0x5000, 1, U), MICA_ERANGE);
	/* Starting below and ending above it. */
	assert_int_equal(pt_map(kroot, MICA_USER_BASE - PAGE, 0x5000, 2, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 0, 0x5000, 2048, U), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 0, 0, 1024, U | PT_LARGE), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, 2 * MiB, 2 * MiB, 1024, U | PT_LARGE), MICA_ERANGE);
	/* Unmap and protect refuse the range the same way (not "nothing mapped"). */
	assert_int_equal(unmap(kroot, 0, 1), MICA_ERANGE);
	assert_int_equal(unmap(kroot, 0x1000, 1), MICA_ERANGE);
	assert_int_equal(unmap(kroot, MICA_USER_BASE - PAGE, 2), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, 0, 1, U), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, MICA_USER_BASE - PAGE, 2, U), MICA_ERANGE);
	expect_unchanged();
	assert_int_equal(table(kroot)[0], 0);
	assert_int_equal(pt_translate(kroot, 0, NULL, NULL), MICA_ENOENT);

	/* From MICA_USER_BASE up it works. */
	assert_int_equal(pt_map(kroot, MICA_USER_BASE, 0x5000, 2, U), MICA_OK);
	expect_mapped(kroot, MICA_USER_BASE, 0x5000, 2, U);
	expect_unmapped(kroot, MICA_USER_BASE - PAGE, 1);
	assert_int_equal(pt_protect(kroot, MICA_USER_BASE, 2, U | PT_WRITE), MICA_OK);
	assert_int_equal(unmap(kroot, MICA_USER_BASE, 2), MICA_OK);
	expect_unmapped(kroot, MICA_USER_BASE, 2);
}

static void test_eexist_only_last_page(void **state)
{
	(void)state;
	/* An existing page at the start of a page table of its own. */
	assert_int_equal(pt_map(kroot, UVA + 2 * GiB, 0x100000, 1, PT_USER), MICA_OK);
	snapshot();
	/* A range from another GiB (new PD and page tables needed) ending on it. */
	const uint64_t n = (1 * GiB + 2 * LARGE) / PAGE + 1;
	assert_int_equal(pt_map(kroot, UVA + 1 * GiB - 2 * LARGE, 0, n, PT_USER), MICA_EEXIST);
	assert_int_equal(pt_map(kroot, UVA + 1 * GiB - 2 * LARGE, 0, n, PT_USER | PT_LARGE),
	                 MICA_EEXIST);
	/* Just below: one page table short of it. */
	assert_int_equal(pt_map(kroot, UVA + 2 * GiB - 16 * PAGE, 0, 17, PT_USER), MICA_EEXIST);
	expect_unchanged();
	expect_unmapped(kroot, UVA + 1 * GiB - 2 * LARGE, 1);
	expect_unmapped(kroot, UVA + 2 * GiB - 16 * PAGE, 16);
	/* Without the last page it works. */
	assert_int_equal(pt_map(kroot, UVA + 2 * GiB - 16 * PAGE, 0, 16, PT_USER), MICA_OK);
}

static void test_refused_unmap_and_protect_change_nothing(void **state)
{
	(void)state;
	const vaddr_t big = UVA + 4 * LARGE;

	assert_int_equal(pt_map(kroot, UVA, 0x100000, 8, PT_USER | PT_WRITE), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA + 9 * PAGE, 0x200000, 4, PT_USER), MICA_OK);
	assert_int_equal(
	    pt_map(kroot, big - 4 * PAGE, 8 * LARGE - 4 * PAGE, 4 + 512, PT_USER | PT_LARGE),
	    MICA_OK);
	kslot(KVA);
	assert_int_equal(pt_map(kroot, KVA, 0, 512, PT_LARGE), MICA_OK);
	snapshot();
	recs_clear();

	/* Holes. */
	assert_int_equal(unmap(kroot, UVA, 13), MICA_ENOENT); /* page 8 is a hole */
	assert_int_equal(unmap(kroot, UVA + 8 * PAGE, 1), MICA_ENOENT);
	assert_int_equal(unmap(kroot, UVA - PAGE, 2), MICA_ENOENT);
	assert_int_equal(unmap(kroot, UVA + 12 * PAGE, 2), MICA_ENOENT);
	assert_int_equal(unmap(kroot, UVA + 5 * GiB, 1), MICA_ENOENT);
	assert_int_equal(unmap(kroot, 0x00007F0000000000ULL, 1), MICA_ENOENT);
	assert_int_equal(unmap(kroot, KVA + 512 * GiB, 1), MICA_ENOENT);
	assert_int_equal(unmap(kroot, KVA + LARGE, 1), MICA_ENOENT);
	assert_int_equal(pt_protect(kroot, UVA, 13, PT_USER), MICA_ENOENT);
	assert_int_equal(pt_protect(kroot, UVA + 20 * GiB, 1, PT_USER), MICA_ENOENT);
	/* Part of a 2 MiB page. */
	assert_int_equal(unmap(kroot, big + PAGE, 1), MICA_EBUSY);
	assert_int_equal(unmap(kroot, big, 511), MICA_EBUSY);
	assert_int_equal(unmap(kroot, big + PAGE, 511), MICA_EBUSY);
	assert_int_equal(unmap(kroot, big - 4 * PAGE, 4 + 1), MICA_EBUSY); /* 4K pages first */
	assert_int_equal(unmap(kroot, KVA + LARGE - PAGE, 1), MICA_EBUSY);
	assert_int_equal(pt_protect(kroot, big + 100 * PAGE, 1, PT_USER), MICA_EBUSY);
	assert_int_equal(pt_protect(kroot, big - PAGE, 2, PT_USER), MICA_EBUSY);
	assert_int_equal(pt_protect(kroot, KVA, 256, 0), MICA_EBUSY);
	/* Bad ranges. */
	assert_int_equal(unmap(kroot, UVA, 0), MICA_EINVAL);
	assert_int_equal(unmap(kroot, UVA + 1, 1), MICA_EALIGN);
	assert_int_equal(unmap(kroot, MICA_USER_TOP, 1), MICA_ERANGE);
	assert_int_equal(unmap(kroot, MICA_USER_TOP - PAGE, 2), MICA_ERANGE);
	assert_int_equal(unmap(kroot, TOP_PAGE, 2), MICA_ERANGE);
	assert_int_equal(unmap(kroot, UVA, UINT64_MAX), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, UVA + 1, 1, PT_USER), MICA_EALIGN);
	assert_int_equal(pt_protect(kroot, MICA_USER_TOP, 1, PT_USER), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, KVA, 512, PT_USER), MICA_ERANGE);
	/* Below MICA_USER_BASE: refused as a range, not looked up. */
	assert_int_equal(unmap(kroot, 0, 1), MICA_ERANGE);
	assert_int_equal(unmap(kroot, MICA_USER_BASE - PAGE, 2), MICA_ERANGE);
	assert_int_equal(pt_protect(kroot, PAGE, 1, PT_USER), MICA_ERANGE);
	expect_unchanged();
	assert_int_equal(nrecs, 0);
	expect_mapped(kroot, UVA, 0x100000, 8, PT_USER | PT_WRITE);
	expect_mapped(kroot, big - 4 * PAGE, 8 * LARGE - 4 * PAGE, 4, PT_USER);

	/* Translate refuses non-canonical addresses. */
	assert_int_equal(pt_translate(kroot, MICA_USER_TOP, NULL, NULL), MICA_ERANGE);
	assert_int_equal(pt_translate(kroot, MICA_KERNEL_HALF - 1, NULL, NULL), MICA_ERANGE);

	/* The exact large page, and the range around it, work. */
	assert_int_equal(unmap(kroot, big - 4 * PAGE, 4 + 512), MICA_OK);
	assert_int_equal(rec_pages, 4 + 512);
}

static void test_enomem_does_not_half_map(void **state)
{
	(void)state;
	static paddr_t spare[NFRAMES];
	size_t nspare = 0;

	/* A mapping that stays, using one PDPT, PD and page table. */
	assert_int_equal(pt_map(kroot, UVA, 0x100000, 1, PT_USER), MICA_OK);
	/* Exhaust the allocator, remembering which frames were free. */
	for (uint64_t f = 0; f < NFRAMES; f++)
		if (frame_is_free(f * PAGE))
			spare[nspare++] = f * PAGE;
	assert_int_equal(frame_mark_used(0, RAM_SIZE), nspare);
	assert_int_equal(nfree(), 0);

	/* Needs a PD and two page tables (in the next GiB, across a PD entry). */
	const vaddr_t va = UVA + 1 * GiB + LARGE - PAGE;
	paddr_t r;
	snapshot();
	assert_int_equal(pt_map(kroot, va, 0, 2, PT_USER), MICA_ENOMEM);
	assert_int_equal(pt_root_create(kroot, &r), MICA_ENOMEM);
	assert_int_equal(pt_kernel_slot_create(kroot, KVA), MICA_ENOMEM);
	expect_unchanged();
	assert_int_equal(table(kroot)[288], 0);
	/* Within existing tables, no frame is needed. */
	assert_int_equal(pt_map(kroot, UVA + PAGE, 0x101000, 1, PT_USER), MICA_OK);

	assert_int_equal(frame_free(spare[0], 1), MICA_OK);
	assert_int_equal(frame_free(spare[1], 1), MICA_OK);
	snapshot();
	assert_int_equal(pt_map(kroot, va, 0, 2, PT_USER), MICA_ENOMEM);
	/* New PDPT + PD + page table in another 512 GiB slot. */
	assert_int_equal(pt_map(kroot, 0x0000010000000000ULL, 0, 1, PT_USER), MICA_ENOMEM);
	expect_unchanged();
	expect_unmapped(kroot, va, 2);

	/* Exactly enough. */
	assert_int_equal(frame_free(spare[2], 1), MICA_OK);
	assert_int_equal(pt_map(kroot, va, 0x300000, 2, PT_USER), MICA_OK);
	assert_int_equal(nfree(), 0);
	expect_mapped(kroot, va, 0x300000, 2, PT_USER);

	/* A large page needs no page table: a PD in a new GiB is enough. */
	assert_int_equal(frame_free(spare[3], 1), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA + 2 * GiB, 0, 1024, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(nfree(), 0);

	/* Unmapping gives the tables back. */
	assert_int_equal(unmap(kroot, va, 2), MICA_OK);
	assert_int_equal(nfree(), 3);
}

static void test_top_of_address_space(void **state)
{
	(void)state;
	paddr_t pa;
	unsigned f;
	uint64_t before = nfree();

	kslot(TOP_PAGE);
	assert_int_equal(pt_map(kroot, TOP_PAGE, 0x7000, 1, PT_WRITE), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	assert_int_equal(pt_translate(kroot, 0xFFFFFFFFFFFFFFFFULL, &pa, &f), MICA_OK);
	assert_int_equal(pa, 0x7fff);
	assert_int_equal(f, PT_WRITE);
	/* The last entry of the last table at every level. */
	const uint64_t *t = table(kroot);
	for (int lvl = 4; lvl > 1; lvl--)
		t = table(t[511] & E_ADDR);
	assert_int_equal(t[511] & E_ADDR, 0x7000);
	recs_clear();
	assert_int_equal(unmap(kroot, TOP_PAGE, 1), MICA_OK);
	assert_int_equal(nrecs, 1);
	assert_int_equal(recs[0].va, TOP_PAGE);
	assert_int_equal(recs[0].pa, 0x7000);
	assert_int_equal(recs[0].npages, 1);
	assert_int_equal(before - nfree(), 1); /* the kernel-half level-3 table */

	/* The last 4 MiB plus a page, ending at the top, with large pages. */
	const vaddr_t va = 0xFFFFFFFFFFC00000ULL - PAGE;
	assert_int_equal(pt_map(kroot, va, 2 * LARGE - PAGE, 1 + 1024, PT_LARGE), MICA_OK);
	assert_int_equal(pt_translate(kroot, 0xFFFFFFFFFFFFFFFFULL, &pa, &f), MICA_OK);
	assert_int_equal(pa, 4 * LARGE - 1);
	assert_int_equal(f, PT_LARGE);
	expect_mapped(kroot, va, 2 * LARGE - PAGE, 1, 0);
	assert_int_equal(pt_protect(kroot, va, 1 + 1024, PT_GLOBAL), MICA_OK);
	assert_int_equal(pt_translate(kroot, 0xFFFFFFFFFFFFF123ULL, &pa, &f), MICA_OK);
	assert_int_equal(f, PT_GLOBAL | PT_LARGE);
	recs_clear();
	assert_int_equal(unmap(kroot, va, 1 + 1024), MICA_OK);
	assert_int_equal(rec_pages, 1 + 1024);
	assert_int_equal(nrecs, 3);
	assert_int_equal(recs[2].va, 0xFFFFFFFFFFE00000ULL);
	assert_int_equal(before - nfree(), 1);
}

/* ---- TLB ---- */

static void test_tlb_invlpg_up_to_32(void **state)
{
	(void)state;
	/* CR3 may carry PWT/PCD bits: the root is still the current one. */
	fake_cpu_reset(kroot | 0x18, CR4_INIT);
	assert_int_equal(pt_map(kroot, UVA + LARGE - 16 * PAGE, 0, 32, PT_USER), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, UVA + LARGE - 16 * PAGE, 32), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(fake_cpu.invlpg_va[i], UVA + LARGE - 16 * PAGE + i * PAGE);
	assert_int_equal(fake_cpu.cr3_writes, 0);
	assert_int_equal(fake_cpu.cr4_writes, 0);

	/* Protect flushes each page too. */
	assert_int_equal(pt_map(kroot, UVA, 0, 3, PT_USER | PT_WRITE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(pt_protect(kroot, UVA, 3, PT_USER), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 3);
	assert_int_equal(fake_cpu.invlpg_va[2], UVA + 2 * PAGE);
	assert_int_equal(fake_cpu.cr3_writes, 0);

	/* One 2 MiB page: one invlpg. */
	assert_int_equal(pt_map(kroot, UVA + 4 * LARGE, 0, 512, PT_USER | PT_LARGE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, UVA + 4 * LARGE, 512), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 1);
	assert_int_equal(fake_cpu.invlpg_va[0], UVA + 4 * LARGE);
	assert_int_equal(fake_cpu.cr3_writes, 0);
}

static void test_tlb_reload_over_32(void **state)
{
	(void)state;
	fake_cpu_reset(kroot | 0x8, CR4_INIT);
	assert_int_equal(pt_map(kroot, UVA, 0, 33, PT_USER), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, UVA, 33), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 1);
	assert_int_equal(fake_cpu.cr3, kroot | 0x8); /* reloaded with the same value */
	assert_int_equal(fake_cpu.cr4_writes, 0);

	assert_int_equal(pt_map(kroot, UVA, 0, 1000, PT_USER | PT_WRITE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(pt_protect(kroot, UVA, 1000, PT_USER), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 1);
	assert_int_equal(fake_cpu.cr4_writes, 0);
}

static void test_tlb_other_root_not_flushed(void **state)
{
	(void)state;
	paddr_t other;

	assert_int_equal(pt_root_create(kroot, &other), MICA_OK);
	assert_int_equal(pt_map(other, UVA, 0, 40, PT_USER | PT_WRITE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(other, UVA, 5), MICA_OK);
	assert_int_equal(pt_protect(other, UVA + 5 * PAGE, 2, PT_USER), MICA_OK);
	assert_int_equal(unmap(other, UVA + 5 * PAGE, 35), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 0);
	assert_int_equal(fake_cpu.cr4_writes, 0);
	assert_int_equal(fake_cpu.cr3, kroot);

	/* The same the other way round: other is current, kroot's user half is not. */
	fake_cpu_reset(other, CR4_INIT);
	assert_int_equal(pt_map(kroot, UVA, 0, 2, PT_USER), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, UVA, 2), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 0);
}

static void test_tlb_kernel_half(void **state)
{
	(void)state;
	paddr_t other;

	/* The kernel half is shared: flushed whichever root is current. */
	kslot(KVA);
	assert_int_equal(pt_root_create(kroot, &other), MICA_OK);
	fake_cpu_reset(other, CR4_INIT);
	assert_int_equal(pt_map(kroot, KVA, 0, 3, PT_GLOBAL | PT_WRITE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, KVA, 3), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 3);
	assert_int_equal(fake_cpu.invlpg_va[0], KVA);
	assert_int_equal(fake_cpu.invlpg_va[2], KVA + 2 * PAGE);
	assert_int_equal(fake_cpu.cr4_writes, 0);
	assert_int_equal(fake_cpu.cr3_writes, 0);

	/* Over 32 pages: CR4.PGE off then on again, which drops global entries too. */
	assert_int_equal(pt_map(kroot, KVA, 0, 64, PT_GLOBAL | PT_WRITE), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(unmap(kroot, KVA, 64), MICA_OK);
	assert_int_equal(fake_cpu.invlpgs, 0);
	assert_int_equal(fake_cpu.cr3_writes, 0);
	assert_int_equal(fake_cpu.cr4_writes, 2);
	assert_int_equal(fake_cpu.cr4_written[0], CR4_INIT & ~CR4_PGE);
	assert_int_equal(fake_cpu.cr4_written[1], CR4_INIT);
	assert_int_equal(fake_cpu.cr4, CR4_INIT);

	/* And with the kernel root current. */
	fake_cpu_reset(kroot, CR4_INIT);
	assert_int_equal(pt_map(kroot, KVA, 0, 33, 0), MICA_OK);
	fake_cpu_clear_log();
	assert_int_equal(pt_protect(kroot, KVA, 33, PT_GLOBAL), MICA_OK);
	assert_int_equal(fake_cpu.cr4_writes, 2);
	assert_int_equal(fake_cpu.cr3_writes, 0);
	assert_int_equal(fake_cpu.invlpgs, 0);
}

/*
 * Emptied tables are freed only after the TLB flush: at every flush, the
 * tables the call emptied are unlinked but still allocated, and hold no
 * present entry (the hardware may still walk them).
 */
static paddr_t watched[4];
static size_t nwatched;
static unsigned hook_calls;
static uint64_t hook_nfree;
static bool hook_saw_free_table, hook_saw_present_entry;

static void flush_hook(void)
{
	if (hook_calls++ == 0)
		hook_nfree = nfree();
	for (size_t i = 0; i < nwatched; i++) {
		if (frame_is_free(watched[i]))
			hook_saw_free_table = true;
		for (unsigned k = 0; k < 512; k++)
			if (table(watched[i])[k] & E_P)
				hook_saw_present_entry = true;
	}
}

static unsigned cb_flushes; /* flushes seen by the unmap callback */

static void record_flushes(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	record(arg, va, pa, npages);
	cb_flushes += hook_calls;
}

/* Map npages at va, watch its three user tables, unmap with the hook on. */
static void unmap_watched(vaddr_t va, uint64_t npages, unsigned flags)
{
	const uint64_t before = nfree();

	assert_int_equal(pt_map(kroot, va, 0x5000, npages, flags), MICA_OK);
	const uint64_t e4 = table(kroot)[(va >> 39) & 511];
	const uint64_t e3 = table(e4 & E_ADDR)[(va >> 30) & 511];
	const uint64_t e2 = table(e3 & E_ADDR)[(va >> 21) & 511];
	nwatched = 0;
	if (va < MICA_USER_TOP)
		watched[nwatched++] = e4 & E_ADDR;
	watched[nwatched++] = e3 & E_ADDR;
	watched[nwatched++] = e2 & E_ADDR;
	const uint64_t ntables = before - nfree();
	assert_int_equal(ntables, nwatched);

	hook_calls = cb_flushes = 0;
	hook_saw_free_table = hook_saw_present_entry = false;
	fake_cpu_clear_log();
	fake_cpu_flush_hook = flush_hook;
	recs_clear();
	assert_int_equal(pt_unmap(kroot, va, npages, record_flushes, &cb_cookie), MICA_OK);
	fake_cpu_flush_hook = NULL;

	assert_true(hook_calls > 0);
	assert_int_equal(cb_flushes, 0);                /* fn runs before the flush */
	assert_int_equal(hook_nfree, before - ntables); /* tables still allocated then */
	assert_false(hook_saw_free_table);
	assert_false(hook_saw_present_entry);
	/* Then every one is freed, and goes back clean (the chain link cleared). */
	assert_int_equal(nfree(), before);
	for (size_t i = 0; i < nwatched; i++) {
		static const uint8_t zero[PAGE];

		assert_true(frame_is_free(watched[i]));
		assert_memory_equal(table(watched[i]), zero, PAGE);
	}
}

static void test_tables_freed_after_flush(void **state)
{
	(void)state;
	/* A few invlpgs. */
	unmap_watched(UVA, 3, PT_USER);
	assert_int_equal(fake_cpu.invlpgs, 3);
	/* A CR3 reload. */
	unmap_watched(UVA + 5 * GiB, 40, PT_USER | PT_WRITE);
	assert_int_equal(fake_cpu.cr3_writes, 1);
	assert_int_equal(fake_cpu.invlpgs, 0);
	/* Kernel half, CR4.PGE toggled: the PD and page table; the level-3 table stays. */
	kslot(KVA);
	const uint64_t slot = table(kroot)[288];
	unmap_watched(KVA, 33, PT_GLOBAL);
	assert_int_equal(fake_cpu.cr4_writes, 2);
	assert_int_equal(table(kroot)[288], slot);
	assert_false(frame_is_free(slot & E_ADDR));
	/* Kernel half, invlpg, with another root current. */
	paddr_t other;
	assert_int_equal(pt_root_create(kroot, &other), MICA_OK);
	fake_cpu_reset(other, CR4_INIT);
	unmap_watched(KVA + 3 * GiB, 1, 0);
	assert_int_equal(fake_cpu.invlpgs, 1);
}

static void test_root_destroy_frees_clean_tables(void **state)
{
	(void)state;
	paddr_t r;
	static const uint8_t zero[PAGE];
	static paddr_t t[64];
	const uint64_t before = nfree();

	/* Tables several deep, so that the freed ones chain through each other. */
	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	assert_int_equal(pt_map(r, UVA, 0x5000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_map(r, UVA + 3 * GiB, 0x5000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_map(r, 0x0000010000000000ULL, 0x5000, 1, PT_USER), MICA_OK);
	size_t n = 0;
	for (unsigned i = 0; i < 256; i++)
		if (table(r)[i] & E_P)
			n = collect(table(r)[i] & E_ADDR, 3, t, n, ARRAY_SIZE(t));
	assert_int_equal(n, 1 + 2 * 2 + 3); /* PDPT, 2 PDs, 2 PTs; PDPT, PD, PT */
	fake_cpu_clear_log();
	pt_root_destroy(r, NULL, NULL);
	assert_int_equal(nfree(), before);
	for (size_t i = 0; i < n; i++) {
		assert_true(frame_is_free(t[i]));
		assert_memory_equal(table(t[i]), zero, PAGE);
	}
	assert_int_equal(fake_cpu.invlpgs + fake_cpu.cr3_writes + fake_cpu.cr4_writes, 0);
}

/* ---- roots ---- */

static void test_root_create_shares_kernel_half(void **state)
{
	(void)state;
	paddr_t r, pa;
	unsigned f;

	kslot(KVA);
	kslot(MICA_KERNEL_VBASE);
	assert_int_equal(pt_map(kroot, KVA, 0x123000, 1, PT_GLOBAL), MICA_OK);
	assert_int_equal(pt_map(kroot, MICA_KERNEL_VBASE, 0x200000, 512, PT_LARGE | PT_EXEC),
	                 MICA_OK);
	assert_int_equal(pt_map(kroot, UVA, 0x5000, 1, PT_USER), MICA_OK);
	uint64_t before = nfree();

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	assert_int_equal(before - nfree(), 1);
	assert_int_not_equal(r, kroot);
	assert_int_equal(r % PAGE, 0);
	/* User half empty (the garbage in the frame is gone), kernel half the same entries. */
	for (unsigned i = 0; i < 256; i++)
		assert_int_equal(table(r)[i], 0);
	assert_memory_equal(&table(r)[256], &table(kroot)[256], 256 * sizeof(uint64_t));
	expect_unmapped(r, UVA, 1);
	expect_mapped(r, KVA, 0x123000, 1, PT_GLOBAL);
	assert_int_equal(pt_translate(r, MICA_KERNEL_VBASE + 0x1000, &pa, &f), MICA_OK);
	assert_int_equal(pa, 0x201000);
	assert_int_equal(f, PT_EXEC | PT_LARGE);

	/* A later kernel mapping under an existing level-3 table shows in both. */
	assert_int_equal(pt_map(kroot, KVA + 5 * GiB, 0x777000, 1, 0), MICA_OK);
	expect_mapped(r, KVA + 5 * GiB, 0x777000, 1, 0);
	assert_int_equal(unmap(kroot, KVA + 5 * GiB, 1), MICA_OK);
	expect_unmapped(r, KVA + 5 * GiB, 1);

	/* User mappings stay private. */
	assert_int_equal(pt_map(r, UVA, 0x9000, 1, PT_USER), MICA_OK);
	expect_mapped(r, UVA, 0x9000, 1, PT_USER);
	expect_mapped(kroot, UVA, 0x5000, 1, PT_USER);
}

static void test_root_destroy_returns_everything(void **state)
{
	(void)state;
	paddr_t r;
	static bool seen[8];

	kslot(KVA);
	assert_int_equal(pt_map(kroot, KVA, 0x123000, 1, PT_GLOBAL), MICA_OK);
	assert_int_equal(pt_map(kroot, UVA, 0x5000, 1, PT_USER), MICA_OK);
	const uint64_t before = nfree();
	const size_t ktables = count_tables(kroot);

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	/* Mappings all over the user half: 4K, 2M, low, high. */
	const struct rec maps[] = {
	    {0x400000, 0x100000, 1},
	    {0x401000, 0x200000, 3},
	    {UVA + LARGE, 6 * LARGE, 512},
	    {UVA + 2 * LARGE, 7 * LARGE, 512},
	    {MICA_USER_TOP - PAGE, 0x3000, 1},         /* the highest user page */
	    {0x0000008000000000ULL - PAGE, 0x4000, 2}, /* across a PML4 boundary */
	};
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
		assert_int_equal(pt_map(r, maps[i].va, maps[i].pa, maps[i].npages,
		                        PT_USER | PT_WRITE | PT_LARGE),
		                 MICA_OK);
	/* The last page below 2^47 is not user half (a syscall there returns non-canonical). */
	assert_int_equal(pt_map(r, 0x00007FFFFFFFF000ULL, 0x5000, 1, PT_USER | PT_WRITE),
	                 MICA_ERANGE);
	assert_true(before - nfree() > 1 + 6);
	assert_int_equal(before - nfree(), 1 + count_user_tables(r));

	recs_clear();
	fake_cpu_clear_log();
	pt_root_destroy(r, record, &cb_cookie);
	assert_int_equal(nfree(), before);
	assert_true(frame_is_free(r));
	/* Every user mapping reported, nothing else. */
	assert_int_equal(rec_pages, 1 + 3 + 512 + 512 + 1 + 2);
	memset(seen, 0, sizeof(seen));
	for (size_t k = 0; k < nrecs; k++) {
		bool found = false;

		assert_true(recs[k].va < MICA_USER_TOP);
		for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
			if (recs[k].va >= maps[i].va && recs[k].va + recs[k].npages * PAGE <=
			                                    maps[i].va + maps[i].npages * PAGE) {
				assert_int_equal(recs[k].pa,
				                 maps[i].pa + (recs[k].va - maps[i].va));
				seen[i] = found = true;
			}
		}
		assert_true(found);
	}
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++)
		assert_true(seen[i]);
	/* The kernel's tables and mappings are untouched; r was not current. */
	assert_int_equal(count_tables(kroot), ktables);
	expect_mapped(kroot, KVA, 0x123000, 1, PT_GLOBAL);
	expect_mapped(kroot, UVA, 0x5000, 1, PT_USER);
	assert_int_equal(fake_cpu.cr3_writes, 0);

	/* An empty root: only the root frame comes back. */
	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	recs_clear();
	pt_root_destroy(r, NULL, NULL);
	assert_int_equal(nfree(), before);
}

static void test_kernel_slot_create(void **state)
{
	(void)state;
	const uint64_t before = nfree();

	/* Only kernel-half addresses have kernel slots. */
	snapshot();
	assert_int_equal(pt_kernel_slot_create(kroot, 0), MICA_ERANGE);
	assert_int_equal(pt_kernel_slot_create(kroot, UVA), MICA_ERANGE);
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_USER_TOP - PAGE), MICA_ERANGE);
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_USER_TOP), MICA_ERANGE);
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_KERNEL_HALF - 1), MICA_ERANGE);
	expect_unchanged();

	/* One level-3 table, cleared (the frame held garbage), linked without the user bit. */
	assert_int_equal(pt_kernel_slot_create(kroot, KVA + 0x1234), MICA_OK);
	assert_int_equal(before - nfree(), 1);
	const uint64_t e = table(kroot)[288];
	const paddr_t l3 = e & E_ADDR;
	assert_int_equal(e & ~E_ADDR, 0x3); /* P RW: not US, not PS, not NX */
	assert_false(frame_is_free(l3));
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(table(l3)[i], 0);
	/* Only that slot; the user half untouched. */
	for (unsigned i = 0; i < 512; i++)
		if (i != 288)
			assert_int_equal(table(kroot)[i], 0);

	/* Again, anywhere in the slot: nothing changes. */
	snapshot();
	assert_int_equal(pt_kernel_slot_create(kroot, KVA), MICA_OK);
	assert_int_equal(pt_kernel_slot_create(kroot, KVA + 512 * GiB - 1), MICA_OK);
	expect_unchanged();

	/* The first and last kernel slots. */
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_KERNEL_HALF), MICA_OK);
	assert_int_equal(pt_kernel_slot_create(kroot, UINT64_MAX), MICA_OK);
	assert_int_equal(before - nfree(), 3);
	assert_true(table(kroot)[256] & E_P);
	assert_true(table(kroot)[511] & E_P);
	assert_int_equal(count_tables(kroot), 4);
}

static void test_kernel_map_needs_slot(void **state)
{
	(void)state;
	const uint64_t before = nfree();
	paddr_t other;

	/* Slot 288 exists; 256, 289 and 511 do not. */
	kslot(KVA);
	assert_int_equal(pt_root_create(kroot, &other), MICA_OK);
	snapshot();
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB, 0x5000, 1, 0), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_DIRECT_MAP_BASE, 0, 1, PT_WRITE), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, MICA_KERNEL_VBASE, 0, 512, PT_LARGE | PT_EXEC), MICA_ERANGE);
	assert_int_equal(pt_map(kroot, TOP_PAGE, 0x7000, 1, PT_GLOBAL), MICA_ERANGE);
	/* A range that starts in a slot that has one and runs into one that has not. */
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB - 4 * PAGE, 0x5000, 5, PT_WRITE),
	                 MICA_ERANGE);
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB - LARGE, 0, 1024, PT_LARGE | PT_GLOBAL),
	                 MICA_ERANGE);
	/* Through another root's copy of the kernel half, the same. */
	assert_int_equal(pt_map(other, KVA + 512 * GiB, 0x5000, 1, 0), MICA_ERANGE);
	expect_unchanged();
	expect_unmapped(kroot, KVA + 512 * GiB - 4 * PAGE, 4);
	assert_int_equal(table(kroot)[289], 0);
	assert_int_equal(table(other)[289], 0);

	/* The slot that exists takes mappings. */
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB - 4 * PAGE, 0x5000, 4, PT_WRITE), MICA_OK);
	expect_mapped(kroot, KVA + 512 * GiB - 4 * PAGE, 0x5000, 4, PT_WRITE);
	/* Once the next slot is made, the range across both works too. */
	kslot(KVA + 512 * GiB);
	assert_int_equal(pt_map(kroot, KVA + 512 * GiB, 0x9000, 1, PT_WRITE), MICA_OK);
	expect_mapped(kroot, KVA + 512 * GiB - 4 * PAGE, 0x5000, 4, PT_WRITE);
	expect_mapped(kroot, KVA + 512 * GiB, 0x9000, 1, PT_WRITE);
	assert_int_equal(unmap(kroot, KVA + 512 * GiB - 4 * PAGE, 5), MICA_OK);
	/* Left: the two level-3 tables and the other root. */
	assert_int_equal(before - nfree(), 3);
}

static void test_root_sees_later_kernel_mappings(void **state)
{
	(void)state;
	paddr_t r, pa;
	unsigned f;

	/* The slot exists, but nothing is mapped in it yet when the root is made. */
	kslot(KVA);
	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	assert_int_equal(table(r)[288], table(kroot)[288]);
	expect_unmapped(r, KVA, 1);

	/* Mappings added afterwards through the kernel root: the same level-3 table. */
	assert_int_equal(pt_map(kroot, KVA, 0x123000, 2, PT_GLOBAL | PT_WRITE), MICA_OK);
	assert_int_equal(pt_map(kroot, KVA + 3 * GiB, 4 * LARGE, 512, PT_LARGE | PT_EXEC), MICA_OK);
	expect_mapped(r, KVA, 0x123000, 2, PT_GLOBAL | PT_WRITE);
	assert_int_equal(pt_translate(r, KVA + 3 * GiB + 0x4321, &pa, &f), MICA_OK);
	assert_int_equal(pa, 4 * LARGE + 0x4321);
	assert_int_equal(f, PT_EXEC | PT_LARGE);
	/* Changed and removed: also seen. */
	assert_int_equal(pt_protect(kroot, KVA, 2, 0), MICA_OK);
	expect_mapped(r, KVA, 0x123000, 2, 0);
	assert_int_equal(unmap(kroot, KVA + 3 * GiB, 512), MICA_OK);
	expect_unmapped(r, KVA + 3 * GiB, 1);
	assert_int_equal(table(r)[288], table(kroot)[288]);

	/* Destroying the root leaves the shared table and the kernel's mappings alone. */
	const uint64_t before = nfree();
	pt_root_destroy(r, NULL, NULL);
	assert_int_equal(nfree(), before + 1);
	assert_false(frame_is_free(table(kroot)[288] & E_ADDR));
	expect_mapped(kroot, KVA, 0x123000, 2, 0);
}

/* ---- random operations against a reference model ---- */

#define WIN_PAGES 4096
#define WIN_BASE  (0x0000008000000000ULL - WIN_PAGES / 2 * PAGE) /* across a PML4 boundary */

struct ref_page {
	bool mapped;
	paddr_t pa;
	unsigned flags; /* rights, plus PT_LARGE if part of a 2 MiB page */
	uint64_t big;   /* index of the 2 MiB page's first page, if large */
};

static uint64_t rng_state = 0x853C49E6748FEA9BULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* The error pt_unmap / pt_protect must give for pages [s, s + n) of the window. */
static int ref_mapped_check(const struct ref_page *ref, uint64_t s, uint64_t n)
{
	for (uint64_t i = s; i < s + n; i++) {
		if (!ref[i].mapped)
			return MICA_ENOENT;
		if ((ref[i].flags & PT_LARGE) && (ref[i].big < s || ref[i].big + 512 > s + n))
			return MICA_EBUSY;
	}
	return MICA_OK;
}

static void test_random_against_reference(void **state)
{
	(void)state;
	static struct ref_page ref[WIN_PAGES];
	const uint64_t base_free = nfree();
	const unsigned rights[] = {0, PT_WRITE, PT_EXEC};

	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 1500; step++) {
		unsigned op = rng() % 3;
		uint64_t s = rng() % WIN_PAGES;
		uint64_t n = 1 + (rng() % 4 == 0 ? rng() % 1200 : rng() % 40);
		if (rng() % 4 == 0)
			s &= ~511ULL; /* 2 MiB-aligned starts are common */
		if (s + n > WIN_PAGES)
			n = WIN_PAGES - s;
		const vaddr_t va = WIN_BASE + s * PAGE;
		unsigned flags = PT_USER | rights[rng() % 3];

		if (op == 0) {
			/* Map, with pa congruent to va modulo 2 MiB most of the time. */
			paddr_t pa =
			    (rng() % 1024) * LARGE + (rng() % 4 ? s % 512 : rng() % 512) * PAGE;
			if (rng() % 2)
				flags |= PT_LARGE;
			int want = MICA_OK;
			for (uint64_t i = s; i < s + n; i++)
				if (ref[i].mapped)
					want = MICA_EEXIST;
			fake_cpu_clear_log();
			assert_int_equal(pt_map(kroot, va, pa, n, flags), want);
			assert_int_equal(fake_cpu.invlpgs + fake_cpu.cr3_writes, 0);
			if (want != MICA_OK)
				continue;
			for (uint64_t i = s; i < s + n; i++) {
				const uint64_t b = i & ~511ULL;
				/* The 2 MiB page holding page i, if one may be used. */
				const bool large = (flags & PT_LARGE) && b >= s &&
				                   b + 512 <= s + n &&
				                   ((pa + (b - s) * PAGE) % LARGE) == 0 &&
				                   ((WIN_BASE + b * PAGE) % LARGE) == 0;
				ref[i] = (struct ref_page){
				    true, pa + (i - s) * PAGE,
				    (flags & ~PT_LARGE) | (large ? PT_LARGE : 0), b};
			}
		} else if (op == 1) {
			int want = ref_mapped_check(ref, s, n);
			recs_clear();
			assert_int_equal(unmap(kroot, va, n), want);
			if (want != MICA_OK) {
				assert_int_equal(nrecs, 0);
				continue;
			}
			assert_int_equal(rec_pages, n);
			for (size_t k = 0; k < nrecs; k++) {
				uint64_t i = (recs[k].va - WIN_BASE) / PAGE;

				assert_true(i >= s && i + recs[k].npages <= s + n);
				assert_int_equal(recs[k].pa, ref[i].pa);
				assert_int_equal(recs[k].npages, ref[i].flags & PT_LARGE ? 512 : 1);
			}
			for (uint64_t i = s; i < s + n; i++)
				ref[i].mapped = false;
		} else {
			int want = ref_mapped_check(ref, s, n);
			assert_int_equal(pt_protect(kroot, va, n, flags), want);
			if (want != MICA_OK)
				continue;
			for (uint64_t i = s; i < s + n; i++)
				ref[i].flags = flags | (ref[i].flags & PT_LARGE);
		}

		/* Every page as the model says; tables: exactly what is reachable. */
		for (uint64_t i = 0; i < WIN_PAGES; i++) {
			paddr_t pa;
			unsigned f;
			int rc = pt_translate(kroot, WIN_BASE + i * PAGE, &pa, &f);

			if (!ref[i].mapped) {
				assert_int_equal(rc, MICA_ENOENT);
				continue;
			}
			assert_int_equal(rc, MICA_OK);
			assert_int_equal(pa, ref[i].pa);
			assert_int_equal(f, ref[i].flags);
		}
		assert_int_equal(base_free - nfree(), count_user_tables(kroot));
		check_counts(kroot);
	}
	/* Unmap what is left, run by run: every table comes back. */
	for (uint64_t i = 0; i < WIN_PAGES;) {
		uint64_t j = i;

		while (j < WIN_PAGES && ref[j].mapped)
			j++;
		if (j > i)
			assert_int_equal(pt_unmap(kroot, WIN_BASE + i * PAGE, j - i, NULL, NULL),
			                 MICA_OK);
		i = j + 1;
	}
	assert_int_equal(nfree(), base_free);
	assert_int_equal(count_tables(kroot), 1);
}

/*
 * Single pages (pt_map and pt_unmap take a one-walk path for them) at
 * random in a window across table boundaries at every level, against a
 * reference: every page translates as the model says, the entry counts
 * match the tables after every step, and each table is freed exactly when
 * its last page goes (the tables in use are those reachable).
 */
static void test_random_single_pages(void **state)
{
	(void)state;
	enum { N = 3 * 512 };
	/* Straddles a PML4 boundary (512 GiB) and so every lower boundary too. */
	const vaddr_t base = 0x0000008000000000ULL - N / 2 * PAGE;
	static paddr_t ref[N];
	const uint64_t base_free = nfree();

	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 6000; step++) {
		uint64_t i = rng() % N;
		/* Spread pages far apart now and then: tables of their own. */
		if (rng() % 8 == 0)
			i = (rng() % 3) * 512 + (rng() % 2 ? 0 : 511);
		const vaddr_t va = base + i * PAGE;

		if (rng() % 2) {
			paddr_t pa = (1 + rng() % 4000) * PAGE;
			int want = ref[i] ? MICA_EEXIST : MICA_OK;

			assert_int_equal(pt_map(kroot, va, pa, 1, PT_USER | PT_WRITE), want);
			if (want == MICA_OK)
				ref[i] = pa;
		} else {
			int want = ref[i] ? MICA_OK : MICA_ENOENT;

			recs_clear();
			assert_int_equal(unmap(kroot, va, 1), want);
			if (want == MICA_OK) {
				assert_int_equal(nrecs, 1);
				assert_int_equal(recs[0].va, va);
				assert_int_equal(recs[0].pa, ref[i]);
				ref[i] = 0;
			}
		}
		if (step % 16 == 0 || step > 5900) {
			for (uint64_t k = 0; k < N; k++) {
				paddr_t pa;

				if (!ref[k]) {
					expect_unmapped(kroot, base + k * PAGE, 1);
					continue;
				}
				assert_int_equal(pt_translate(kroot, base + k * PAGE, &pa, NULL),
				                 MICA_OK);
				assert_int_equal(pa, ref[k]);
			}
		}
		check_counts(kroot);
		assert_int_equal(base_free - nfree(), count_user_tables(kroot));
	}
	for (uint64_t k = 0; k < N; k++)
		if (ref[k])
			assert_int_equal(pt_unmap(kroot, base + k * PAGE, 1, NULL, NULL), MICA_OK);
	assert_int_equal(nfree(), base_free);
	assert_int_equal(count_tables(kroot), 1);
}

/*
 * The map and unmap system calls' one-page paths (pt_map_user_page,
 * pt_unmap_user_page): at random over table boundaries of every level,
 * against a reference, in a root that is current half the time: every
 * page translates as the model says, counts match, tables are made and
 * freed exactly as pt_map and pt_unmap do, each unmap of the current root
 * invalidates its page (and nothing for another root), and the errors are
 * pt_map's and pt_unmap's.
 */
static void test_user_page_paths(void **state)
{
	(void)state;
	enum { N = 3 * 512 };
	const vaddr_t base = 0x0000008000000000ULL - N / 2 * PAGE;
	static paddr_t ref[N];
	paddr_t r, got;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	const uint64_t base_free = nfree();
	memset(ref, 0, sizeof(ref));
	for (int step = 0; step < 6000; step++) {
		uint64_t i = rng() % N;
		if (rng() % 8 == 0)
			i = (rng() % 3) * 512 + (rng() % 2 ? 0 : 511);
		const vaddr_t va = base + i * PAGE;
		const bool current = rng() % 2;

		fake_cpu_reset(current ? r : kroot, CR4_INIT);
		if (rng() % 2) {
			paddr_t pa = (1 + rng() % 4000) * PAGE;
			unsigned flags = PT_USER | (rng() % 2 ? PT_WRITE : PT_EXEC);
			int want = ref[i] ? MICA_EEXIST : MICA_OK;

			assert_int_equal(pt_map_user_page(r, va, pa, flags), want);
			if (want == MICA_OK) {
				expect_mapped(r, va, pa, 1, flags);
				ref[i] = pa;
			}
			assert_int_equal(fake_cpu.invlpgs + fake_cpu.cr3_writes, 0);
		} else {
			int want = ref[i] ? MICA_OK : MICA_ENOENT;

			got = 0;
			assert_int_equal(pt_unmap_user_page(r, va, &got), want);
			if (want == MICA_OK) {
				assert_int_equal(got, ref[i]);
				ref[i] = 0;
				expect_unmapped(r, va, 1);
				assert_int_equal(fake_cpu.invlpgs, current ? 1 : 0);
				if (current)
					assert_int_equal(fake_cpu.invlpg_va[0], va);
			}
			assert_int_equal(fake_cpu.cr3_writes, 0);
		}
		check_counts(r);
		assert_int_equal(base_free - nfree(), count_user_tables(r));
	}
	fake_cpu_reset(kroot, CR4_INIT);
	for (uint64_t k = 0; k < N; k++)
		if (ref[k])
			assert_int_equal(pt_unmap_user_page(r, base + k * PAGE, &got), MICA_OK);
	assert_int_equal(nfree(), base_free);
	assert_int_equal(count_user_tables(r), 0);

	/* Refusals change nothing: alignment, the user half's ends, a 2 MiB page. */
	assert_int_equal(pt_map(r, UVA, 0, 512, PT_USER | PT_LARGE), MICA_OK);
	take(&snap_before, &r, 1);
	fake_cpu_clear_log();
	assert_int_equal(pt_map_user_page(r, UVA + PAGE + 8, PAGE, PT_USER), MICA_EALIGN);
	assert_int_equal(pt_map_user_page(r, MICA_USER_BASE - PAGE, PAGE, PT_USER), MICA_ERANGE);
	assert_int_equal(pt_map_user_page(r, MICA_USER_TOP, PAGE, PT_USER), MICA_ERANGE);
	assert_int_equal(pt_map_user_page(r, KVA, PAGE, PT_USER), MICA_ERANGE);
	assert_int_equal(pt_map_user_page(r, UVA + PAGE, PAGE, PT_USER), MICA_EEXIST);
	assert_int_equal(pt_unmap_user_page(r, UVA + PAGE + 8, &got), MICA_EALIGN);
	assert_int_equal(pt_unmap_user_page(r, MICA_USER_BASE - PAGE, &got), MICA_ERANGE);
	assert_int_equal(pt_unmap_user_page(r, MICA_USER_TOP, &got), MICA_ERANGE);
	assert_int_equal(pt_unmap_user_page(r, KVA, &got), MICA_ERANGE);
	assert_int_equal(pt_unmap_user_page(r, UVA + PAGE, &got), MICA_EBUSY);
	assert_int_equal(pt_unmap_user_page(r, UVA + LARGE, &got), MICA_ENOENT);
	take(&snap_after, &r, 1);
	assert_int_equal(snap_after.nfree, snap_before.nfree);
	assert_int_equal(snap_after.ntables, snap_before.ntables);
	for (size_t k = 0; k < snap_before.ntables; k++)
		assert_memory_equal(snap_after.copies[k], snap_before.copies[k], PAGE);
	assert_int_equal(fake_cpu.invlpgs + fake_cpu.cr3_writes, 0);
	/* The highest user page works as any. */
	assert_int_equal(pt_map_user_page(r, MICA_USER_TOP - PAGE, PAGE, PT_USER), MICA_OK);
	assert_int_equal(pt_unmap_user_page(r, MICA_USER_TOP - PAGE, &got), MICA_OK);
	assert_int_equal(got, PAGE);
	pt_root_destroy(r, NULL, NULL);
}

/*
 * A root that pt_drain_user emptied goes with pt_root_free (no walk): every
 * table frame is back. Draining a stack-like layout (a lone entry at the
 * top of each table) and a low one reports both, lowest first.
 */
static void test_root_free_after_drain(void **state)
{
	(void)state;
	const uint64_t before = nfree(), tables = pt_table_count();
	paddr_t r;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	assert_int_equal(pt_map(r, MICA_USER_TOP - PAGE, 0x9000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_map(r, MICA_USER_TOP - 2 * LARGE, 0xa000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_map(r, 0x400000, 0x5000, 1, PT_USER), MICA_OK);
	uint64_t budget = 512;
	recs_clear();
	assert_false(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(nrecs, 3);
	assert_int_equal(recs[0].va, 0x400000);
	assert_int_equal(recs[1].va, MICA_USER_TOP - 2 * LARGE);
	assert_int_equal(recs[2].va, MICA_USER_TOP - PAGE);
	pt_root_free(r);
	assert_int_equal(nfree(), before);
	assert_int_equal(pt_table_count(), tables);
}

/* pt_drain_user empties a root in bounded, ascending steps, freeing tables as they empty. */
static void test_drain_in_steps(void **state)
{
	(void)state;
	paddr_t r;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	const uint64_t before = nfree(), tables = pt_table_count();
	/* Five pages in three places, far apart. */
	assert_int_equal(pt_map(r, 0x7f0000000000ULL, 0x9000, 2, PT_USER), MICA_OK);
	assert_int_equal(pt_map(r, 0x400000, 0x5000, 2, PT_USER | PT_WRITE), MICA_OK);
	assert_int_equal(pt_map(r, UVA, 0x7000, 1, PT_USER), MICA_OK);
	assert_int_equal(pt_table_count() - tables, before - nfree());

	uint64_t budget = 2;
	recs_clear();
	assert_true(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(budget, 0);
	assert_int_equal(rec_pages, 2);
	assert_int_equal(recs[0].va, 0x400000); /* lowest first */
	budget = 2;
	assert_true(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(rec_pages, 4);
	/* The last page: the budget is not used up, so nothing is left. */
	budget = 2;
	assert_false(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(budget, 1);
	assert_int_equal(rec_pages, 5);
	/* Every table but the root is free again; draining an empty root is a no-op. */
	assert_int_equal(nfree(), before);
	assert_int_equal(pt_table_count(), tables);
	budget = 0;
	assert_false(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(count_user_tables(r), 0);
	pt_root_destroy(r, NULL, NULL);
}

/*
 * Draining a sparse address space (pages scattered over every level, holes
 * of every length between them, so the hole scan runs in groups and one by
 * one) in steps of random size reports every page once, in ascending
 * order, and frees every table.
 */
static void test_drain_sparse(void **state)
{
	(void)state;
	enum { N = 300 };
	static vaddr_t va[N];
	paddr_t r;
	size_t n = 0;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	const uint64_t before = nfree();
	while (n < N) {
		/* Random PML4, PDPT, PD and PT indexes; some clustered at table edges. */
		uint64_t i4 = rng() % 4 ? rng() % 4 : 255, i3 = rng() % 512, i2 = rng() % 512;
		uint64_t i1 = rng() % 3 ? rng() % 512 : (rng() % 2 ? 511 : 0);
		vaddr_t v = (i4 << 39) | (i3 << 30) | (i2 << 21) | (i1 << 12);

		if (v < MICA_USER_BASE)
			continue;
		if (pt_map(r, v, (1 + n) * PAGE, 1, PT_USER) != MICA_OK)
			continue; /* already mapped */
		va[n++] = v;
		check_counts(r);
	}
	/* The expected order: ascending. */
	for (size_t i = 1; i < N; i++)
		for (size_t k = i; k > 0 && va[k - 1] > va[k]; k--) {
			vaddr_t t = va[k];
			va[k] = va[k - 1];
			va[k - 1] = t;
		}
	recs_clear();
	bool more = true;
	while (more) {
		const uint64_t want = 1 + rng() % 40, was = rec_pages;
		uint64_t budget = want;

		more = pt_drain_user(r, &budget, record, &cb_cookie);
		assert_int_equal(rec_pages - was, want - budget);
		if (more)
			assert_int_equal(budget,
			                 0); /* 4 KiB pages only: a step stops when used up */
		check_counts(r);
	}
	assert_int_equal(nrecs, N);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(recs[i].va, va[i]);
	assert_int_equal(nfree(), before);
	assert_int_equal(count_user_tables(r), 0);
	pt_root_destroy(r, NULL, NULL);
}

/* A budget smaller than a large page stops before it rather than splitting it. */
static void test_drain_never_splits(void **state)
{
	(void)state;
	paddr_t r;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	assert_int_equal(pt_map(r, UVA, 0, 512, PT_USER | PT_LARGE), MICA_OK);
	uint64_t budget = 511;
	recs_clear();
	assert_true(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(budget, 511);
	assert_int_equal(rec_pages, 0);
	budget = 512;
	assert_false(pt_drain_user(r, &budget, record, &cb_cookie));
	assert_int_equal(rec_pages, 512);
	pt_root_destroy(r, NULL, NULL);
}

/* pt_map_need counts exactly the tables a page-by-page map allocates, and refuses as pt_map. */
static void test_map_need(void **state)
{
	(void)state;
	paddr_t r;
	uint64_t need;

	assert_int_equal(pt_root_create(kroot, &r), MICA_OK);
	/* Across a 1 GiB boundary: a PDPT, two PDs, two PTs. */
	const vaddr_t va = 0x40000000ULL - 2 * PAGE;
	assert_int_equal(pt_map_need(r, va, 4, PT_USER, &need), MICA_OK);
	assert_int_equal(need, 5);
	const uint64_t before = nfree();
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    pt_map(r, va + (vaddr_t)i * PAGE, 0x1000 * (vaddr_t)(i + 1), 1, PT_USER),
		    MICA_OK);
	assert_int_equal(before - nfree(), need);
	assert_int_equal(pt_map_need(r, va + 4 * PAGE, 1, PT_USER, &need), MICA_OK);
	assert_int_equal(need, 0);
	assert_int_equal(pt_map_need(r, va, 1, PT_USER, &need), MICA_EEXIST);
	assert_int_equal(pt_map_need(r, va + 1, 1, PT_USER, &need), MICA_EALIGN);
	assert_int_equal(pt_map_need(r, MICA_KERNEL_VBASE, 1, PT_USER, &need), MICA_ERANGE);
	assert_int_equal(pt_map_need(r, va, 1, PT_USER | PT_WRITE | PT_EXEC, &need), MICA_EPERM);
	pt_root_destroy(r, NULL, NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_map_translate_4k),
	    T(test_map_kernel_half),
	    T(test_large_pages_where_aligned),
	    T(test_large_never_over_a_table),
	    T(test_large_never_over_an_empty_table),
	    T(test_unmap_reports_and_frees),
	    T(test_unmap_frees_only_empty_tables),
	    T(test_kernel_l3_tables_kept),
	    T(test_protect),
	    T(test_refused_maps_change_nothing),
	    T(test_user_null_guard),
	    T(test_eexist_only_last_page),
	    T(test_refused_unmap_and_protect_change_nothing),
	    T(test_enomem_does_not_half_map),
	    T(test_top_of_address_space),
	    T(test_drain_in_steps),
	    T(test_drain_sparse),
	    T(test_drain_never_splits),
	    T(test_map_need),
	    T(test_tlb_invlpg_up_to_32),
	    T(test_tlb_reload_over_32),
	    T(test_tlb_other_root_not_flushed),
	    T(test_tlb_kernel_half),
	    T(test_tables_freed_after_flush),
	    T(test_root_destroy_frees_clean_tables),
	    T(test_root_create_shares_kernel_half),
	    T(test_root_destroy_returns_everything),
	    T(test_kernel_slot_create),
	    T(test_kernel_map_needs_slot),
	    T(test_root_sees_later_kernel_mappings),
	    T(test_random_against_reference),
	    T(test_random_single_pages),
	    T(test_user_page_paths),
	    T(test_root_free_after_drain),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
