/*
 * x86_64 4-level page tables (Intel SDM vol. 3A, 4.5).
 *
 * Levels are numbered 4 (PML4) down to 1 (page table); an entry at level L
 * spans 4 KiB << 9*(L-1). Walks work on an inclusive last address so that
 * a range may end at the very top of the address space.
 *
 * Each operation is split in two, as seL4 splits decode from invoke: a
 * check pass walks the range, refuses overlaps, holes and partial large
 * pages, and counts the tables a map will need; the act pass runs only if
 * the check passed and enough frames are free, and it cannot fail.
 *
 * Kernel-half tables hang off PML4 entries 256..511 that every address
 * space shares: pt_root_create copies them. So that a copy never goes
 * stale, those entries are made once, at boot, by pt_kernel_slot_create;
 * afterwards a kernel-half map into a slot without one is refused, and the
 * level-3 tables they point at are never freed.
 *
 * Every table but a root and the shared kernel-half level-3 tables keeps a
 * count of its present entries, stored in bits 52-61 of the entry that
 * points to it, which the hardware ignores in an entry that references a
 * table (SDM vol. 3A, tables 4-15 to 4-18; protection keys use 62:59 in
 * leaves only): so "is this table
 * empty now?" costs one read, not a scan of 512 entries, and a walk over a
 * table stops at its last present entry. A root needs no count (it is
 * freed only with its address space), nor do the shared level-3 tables
 * (never freed; their entries are copied into every root, where a count
 * would go stale).
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "cpu.h"
#include "frame.h"
#include "lib/string.h"
#include "phys.h"
#include "pt.h"

/* Entry bits (SDM vol. 3A, table 4-19 and neighbours). */
#define PTE_P    (1ULL << 0)
#define PTE_RW   (1ULL << 1)
#define PTE_US   (1ULL << 2)
#define PTE_PS   (1ULL << 7)
#define PTE_G    (1ULL << 8)
#define PTE_NX   (1ULL << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

/* The child table's entry count (0..512), in a non-leaf entry's ignored bits 52-61. */
#define CNT_SHIFT 52
#define CNT_MASK  0x3FFULL

#define ENTRIES 512

static uint64_t tables;     /* page-table frames allocated here and not yet freed */
uint64_t pt_generation = 1; /* pt.h: 1 + mappings removed or reduced so far (0: never) */

/* Zero a 4 KiB table (rep stosq: 512 stores, not a byte or word loop). */
static void table_zero(void *p)
{
	uint64_t n = MICA_PAGE_SIZE / 8;

	__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ULL) : "memory");
}

/* A zeroed table frame. Errors: MICA_ENOMEM. */
static int table_new(paddr_t *t)
{
	if (frame_alloc(t) != MICA_OK)
		return MICA_ENOMEM;
	table_zero(phys_to_virt(*t));
	tables++;
	return MICA_OK;
}

static void table_free(paddr_t t)
{
	(void)frame_free(t, 1);
	tables--;
}

/* Page-table frames in use in every address space, the kernel's included. */
uint64_t pt_table_count(void)
{
	return tables;
}

static unsigned level_shift(int lvl)
{
	return MICA_PAGE_SHIFT + 9u * (unsigned)(lvl - 1);
}

static unsigned index_of(vaddr_t va, int lvl)
{
	return (va >> level_shift(lvl)) & (ENTRIES - 1);
}

/* The last address covered by the level-lvl entry that holds va. */
static vaddr_t span_last(vaddr_t va, int lvl)
{
	return va | ((1ULL << level_shift(lvl)) - 1);
}

static uint64_t *table_at(paddr_t pa)
{
	return phys_to_virt(pa);
}

/* The present entries of the table that non-leaf entry e points to. */
static unsigned cnt_get(uint64_t e)
{
	return (unsigned)((e >> CNT_SHIFT) & CNT_MASK);
}

/* Add d (+1 or -1) to the count in *pe; a NULL pe is a table without a count. */
static void cnt_add(uint64_t *pe, int d)
{
	/* The count stays in 0..512, so the sum never carries out of its bits. */
	if (pe)
		*pe += (uint64_t)(int64_t)d << CNT_SHIFT;
}

/*
 * Where the count of the table entry e (at level lvl, for va) points to is
 * kept: e itself, but none for the shared kernel-half level-3 tables.
 */
static uint64_t *cnt_of(uint64_t *e, int lvl, vaddr_t va)
{
	return lvl == 4 && va >= MICA_KERNEL_HALF ? NULL : e;
}

static bool is_canonical(vaddr_t va)
{
	return va < MICA_USER_TOP || va >= MICA_KERNEL_HALF;
}

static bool is_leaf(uint64_t e, int lvl)
{
	return lvl == 1 || (e & PTE_PS);
}

static uint64_t leaf_bits(unsigned flags, int lvl)
{
	uint64_t e = PTE_P;

	if (flags & PT_WRITE)
		e |= PTE_RW;
	if (flags & PT_USER)
		e |= PTE_US;
	if (flags & PT_GLOBAL)
		e |= PTE_G;
	if (!(flags & PT_EXEC))
		e |= PTE_NX;
	if (lvl > 1)
		e |= PTE_PS;
	return e;
}

/* leaf_bits(f, 1) for each f of PT_WRITE, PT_EXEC, PT_USER and PT_GLOBAL: one load on the fast
 * paths. */
#define LEAF1(f)                                                                                   \
	(PTE_P | (((f)&PT_WRITE) ? PTE_RW : 0) | (((f)&PT_USER) ? PTE_US : 0) |                    \
	 (((f)&PT_GLOBAL) ? PTE_G : 0) | (((f)&PT_EXEC) ? 0 : PTE_NX))
static const uint64_t leaf1_bits[16] = {
    LEAF1(0), LEAF1(1), LEAF1(2),  LEAF1(3),  LEAF1(4),  LEAF1(5),  LEAF1(6),  LEAF1(7),
    LEAF1(8), LEAF1(9), LEAF1(10), LEAF1(11), LEAF1(12), LEAF1(13), LEAF1(14), LEAF1(15),
};
_Static_assert((PT_WRITE | PT_EXEC | PT_USER | PT_GLOBAL) == 15, "leaf1_bits' index");

/* Rights live in the leaves; intermediate entries allow everything. */
static uint64_t table_bits(vaddr_t va)
{
	return PTE_P | PTE_RW | (va < MICA_USER_TOP ? PTE_US : 0);
}

/*
 * Validate a range request: flags, alignment, canonical form, overflow,
 * and that the whole range lies in one half matching PT_USER. On success
 * *last is the range's last byte.
 */
static int check_range(vaddr_t va, uint64_t npages, unsigned flags, vaddr_t *last)
{
	/* Flags known, never writable and executable together. */
	if (flags & ~PT_FLAGS_ALL)
		return MICA_EINVAL;
	if ((flags & PT_WRITE) && (flags & PT_EXEC))
		return MICA_EPERM;
	/* A non-empty, page-aligned, canonical range. */
	if (npages == 0)
		return MICA_EINVAL;
	if (!IS_ALIGNED(va, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (!is_canonical(va))
		return MICA_ERANGE;
	/* No overflow, and the last page in the same half as the first. */
	if (npages > (~0ULL >> MICA_PAGE_SHIFT))
		return MICA_ERANGE;
	uint64_t bytes = npages << MICA_PAGE_SHIFT;
	if (bytes - 1 > ~0ULL - va)
		return MICA_ERANGE;
	*last = va + bytes - 1;
	if (va < MICA_USER_TOP && *last >= MICA_USER_TOP)
		return MICA_ERANGE;
	/* Nothing below MICA_USER_BASE: null-pointer accesses must fault. */
	if (va < MICA_USER_BASE)
		return MICA_ERANGE;
	/* User mappings in the user half, kernel mappings in the kernel half. */
	if (!!(flags & PT_USER) != (va < MICA_USER_TOP))
		return MICA_ERANGE;
	if ((flags & PT_GLOBAL) && (flags & PT_USER))
		return MICA_EINVAL;
	return MICA_OK;
}

/* ---- TLB invalidation ---- */

/*
 * The pages one call changed, for precise invalidation afterwards, and the
 * tables it emptied: they are freed only after the TLB no longer holds
 * translations through them. Emptied tables are chained through their own
 * first entry (they hold nothing else any more).
 */
struct flush {
	vaddr_t va[PT_INVLPG_MAX];
	unsigned n;
	bool all;
	paddr_t freed; /* chain of emptied tables, 0-terminated */
};

/* An empty record (va[] is written before it is read: not cleared). */
static void flush_init(struct flush *f)
{
	f->n = 0;
	f->all = false;
	f->freed = 0;
}

static void flush_add(struct flush *f, vaddr_t va)
{
	if (f->n < PT_INVLPG_MAX)
		f->va[f->n++] = va;
	else
		f->all = true;
}

/*
 * Invalidate what a change to `root` left stale. Only the current address
 * space and the shared kernel half can be cached in this CPU's TLB.
 */
static void flush_run(paddr_t root, vaddr_t va, struct flush *f)
{
	bool kernel = va >= MICA_KERNEL_HALF;

	/* Whatever TLB held it (this CPU's, or a thread's in usercopy.c), it is stale now. */
	pt_generation++;
	if (!kernel && (cpu_read_cr3() & PTE_ADDR) != root)
		return;
	if (!f->all) {
		for (unsigned i = 0; i < f->n; i++)
			cpu_invlpg(f->va[i]);
	} else if (kernel) {
		/* Global entries survive a CR3 load; toggling CR4.PGE drops them. */
		uint64_t cr4 = cpu_read_cr4();
		cpu_write_cr4(cr4 & ~CR4_PGE);
		cpu_write_cr4(cr4);
	} else {
		cpu_write_cr3(cpu_read_cr3());
	}
}

/* Free the tables a call emptied, once the TLB has been flushed. */
static void flush_free_tables(struct flush *f)
{
	while (f->freed) {
		paddr_t t = f->freed;

		f->freed = table_at(t)[0];
		table_at(t)[0] = 0;
		table_free(t);
	}
}

/* ---- map ---- */

static bool use_large(int lvl, vaddr_t va, vaddr_t last, paddr_t pa, unsigned flags)
{
	return lvl == 2 && (flags & PT_LARGE) && IS_ALIGNED(va, MICA_LARGE_PAGE_SIZE) &&
	       last == span_last(va, 2) && IS_ALIGNED(pa, MICA_LARGE_PAGE_SIZE);
}

/*
 * Check pass of pt_map: refuse if anything in [va, last] is mapped, and
 * count the tables to allocate. table == 0 stands for a table that does
 * not exist yet (all of its entries empty).
 */
static int map_check(paddr_t table, int lvl, vaddr_t va, vaddr_t last, paddr_t pa, unsigned flags,
                     uint64_t *need)
{
	if (table == 0 && lvl == 1)
		return MICA_OK;
	if (lvl == 1) {
		/* Leaves only: a tight scan of [va, last], which lies in this table. */
		const uint64_t *t = table_at(table);

		for (unsigned i = index_of(va, 1), end = index_of(last, 1); i <= end; i++)
			if (t[i] & PTE_P)
				return MICA_EEXIST;
		return MICA_OK;
	}
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t e = table ? table_at(table)[index_of(va, lvl)] : 0;
		int rc = MICA_OK;

		if (e & PTE_P) {
			if (is_leaf(e, lvl))
				return MICA_EEXIST;
			rc = map_check(e & PTE_ADDR, lvl - 1, va, seg, pa, flags, need);
		} else if (lvl == 4 && va >= MICA_KERNEL_HALF) {
			/* Kernel-half slots are made at boot only (pt_kernel_slot_create). */
			return MICA_ERANGE;
		} else if (lvl > 1 && !use_large(lvl, va, seg, pa, flags)) {
			(*need)++;
			rc = map_check(0, lvl - 1, va, seg, pa, flags, need);
		}
		if (rc != MICA_OK)
			return rc;
		if (seg >= last)
			return MICA_OK;
		pa += seg - va + 1;
		va = seg + 1;
	}
}

/*
 * Act pass of pt_map; tables were counted, so allocation cannot fail. pe
 * holds this table's entry count (NULL: none kept).
 */
static void map_do(paddr_t table, uint64_t *pe, int lvl, vaddr_t va, vaddr_t last, paddr_t pa,
                   unsigned flags)
{
	if (lvl == 1) {
		/* Leaves only, [va, last] in this table: a tight loop. */
		uint64_t *t = table_at(table), bits = leaf_bits(flags, 1);
		unsigned i = index_of(va, 1), end = index_of(last, 1);

		for (unsigned k = i; k <= end; k++, pa += MICA_PAGE_SIZE)
			t[k] = pa | bits;
		if (pe)
			*pe += (uint64_t)(end - i + 1) << CNT_SHIFT;
		return;
	}
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t *e = &table_at(table)[index_of(va, lvl)];

		if ((!(*e & PTE_P) && use_large(lvl, va, seg, pa, flags))) {
			/* A large page only where no table is (as map_check decided). */
			*e = pa | leaf_bits(flags, lvl);
			cnt_add(pe, 1);
		} else {
			if (!(*e & PTE_P)) {
				paddr_t t;

				(void)table_new(&t); /* counted by map_check */
				*e = t | table_bits(va);
				cnt_add(pe, 1);
			}
			map_do(*e & PTE_ADDR, cnt_of(e, lvl, va), lvl - 1, va, seg, pa, flags);
		}
		if (seg >= last)
			return;
		pa += seg - va + 1;
		va = seg + 1;
	}
}

/*
 * pt_map of one 4 KiB page, in one walk: down to the first missing entry
 * (refusing a mapped page on the way), then the missing tables and the
 * leaf. The same checks, errors and results as map_check and map_do.
 */
static int map_one(paddr_t root, vaddr_t va, paddr_t pa, unsigned flags)
{
	uint64_t *e[5] = {NULL}; /* e[lvl]: va's entry at level lvl */
	paddr_t table = root;
	int lvl;

	for (lvl = 4;; lvl--) {
		e[lvl] = &table_at(table)[index_of(va, lvl)];
		if (!(*e[lvl] & PTE_P))
			break;
		if (is_leaf(*e[lvl], lvl))
			return MICA_EEXIST;
		table = *e[lvl] & PTE_ADDR;
	}
	if (lvl == 1) {
		/* The usual case: every table is there; the page table's count is in e[2]. */
		*e[1] = pa | leaf_bits(flags, 1);
		cnt_add(e[2], 1);
		return MICA_OK;
	}
	/* Kernel-half slots are made at boot only (pt_kernel_slot_create). */
	if (lvl == 4 && va >= MICA_KERNEL_HALF)
		return MICA_ERANGE;
	if ((uint64_t)(lvl - 1) > frame_free_count())
		return MICA_ENOMEM;

	uint64_t *pe = lvl == 4 ? NULL : cnt_of(e[lvl + 1], lvl + 1, va);
	uint64_t *p = e[lvl];

	for (; lvl > 1; lvl--) {
		paddr_t t;

		(void)table_new(&t); /* counted above */
		*p = t | table_bits(va);
		cnt_add(pe, 1);
		pe = cnt_of(p, lvl, va);
		p = &table_at(t)[index_of(va, lvl - 1)];
	}
	*p = pa | leaf_bits(flags, 1);
	cnt_add(pe, 1);
	return MICA_OK;
}

/*
 * Map one 4 KiB user page at va to the frame at pa: the map system call's
 * path for a page (mem.c), one walk when every table is there (else
 * map_one). The caller has checked what pt_map would check beyond va:
 * flags are PT_USER with at most one of PT_WRITE and PT_EXEC, and pa is
 * page-aligned and below PT_PHYS_MAX. Errors: MICA_EALIGN (va),
 * MICA_ERANGE (va outside [MICA_USER_BASE, MICA_USER_TOP)), MICA_EEXIST,
 * MICA_ENOMEM, as pt_map.
 */
int pt_map_user_page(paddr_t root, vaddr_t va, paddr_t pa, unsigned flags)
{
	/* A page-aligned address in the user half, as check_range would say. */
	if (!IS_ALIGNED(va, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (va < MICA_USER_BASE || va >= MICA_USER_TOP)
		return MICA_ERANGE;
	/* Every table there: the leaf is free, its page table counts one more. */
	uint64_t e4 = table_at(root)[index_of(va, 4)];
	if (e4 & PTE_P) {
		uint64_t e3 = table_at(e4 & PTE_ADDR)[index_of(va, 3)];

		if ((e3 & (PTE_P | PTE_PS)) == PTE_P) {
			uint64_t *pe2 = &table_at(e3 & PTE_ADDR)[index_of(va, 2)];
			uint64_t e2 = *pe2;

			if ((e2 & (PTE_P | PTE_PS)) == PTE_P) {
				uint64_t *pe1 = &table_at(e2 & PTE_ADDR)[index_of(va, 1)];

				if (*pe1 & PTE_P)
					return MICA_EEXIST;
				*pe1 = pa | leaf1_bits[flags & 15];
				*pe2 = e2 + (1ULL << CNT_SHIFT);
				return MICA_OK;
			}
		}
	}
	/* A table to make, or a 2 MiB page in the way: the general walk says which. */
	return map_one(root, va, pa, flags);
}

/*
 * Map npages pages at va to the physical pages from pa in the table rooted
 * at `root`, with `flags`. With PT_LARGE, 2 MiB pages are used wherever va
 * and pa are both 2 MiB-aligned and a whole 2 MiB fits. Nothing may be
 * mapped in the range already. Errors: MICA_EINVAL, MICA_EPERM, MICA_EALIGN,
 * MICA_ERANGE (see check_range; pa past PT_PHYS_MAX), MICA_EEXIST (a page
 * is mapped), MICA_ENOMEM (not enough frames for the tables).
 */
int pt_map(paddr_t root, vaddr_t va, paddr_t pa, uint64_t npages, unsigned flags)
{
	vaddr_t last;
	uint64_t need = 0;
	int rc = check_range(va, npages, flags, &last);

	if (rc != MICA_OK)
		return rc;
	/* The physical range: aligned and nameable by an entry. */
	if (!IS_ALIGNED(pa, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (pa >= PT_PHYS_MAX || npages > (PT_PHYS_MAX - pa) >> MICA_PAGE_SHIFT)
		return MICA_ERANGE;
	if (npages == 1)
		return map_one(root, va, pa, flags);
	/* Nothing mapped there; enough frames for the new tables. */
	rc = map_check(root, 4, va, last, pa, flags, &need);
	if (rc != MICA_OK)
		return rc;
	if (need > frame_free_count())
		return MICA_ENOMEM;
	map_do(root, NULL, 4, va, last, pa, flags);
	return MICA_OK;
}

/*
 * How many table frames mapping npages 4 KiB pages at va would allocate
 * (flags without PT_LARGE), after the checks pt_map makes on the range:
 * so a caller that maps the range page by page, to scattered frames, can
 * refuse before the first page instead of failing half-way. Errors: as
 * pt_map, except MICA_ENOMEM.
 */
int pt_map_need(paddr_t root, vaddr_t va, uint64_t npages, unsigned flags, uint64_t *need)
{
	vaddr_t last;
	int rc = check_range(va, npages, flags & ~PT_LARGE, &last);

	*need = 0;
	if (rc != MICA_OK)
		return rc;
	return map_check(root, 4, va, last, 0, flags & ~PT_LARGE, need);
}

/* ---- unmap and protect ---- */

/*
 * Check pass of pt_unmap and pt_protect: every page of [va, last] must be
 * mapped (MICA_ENOENT) and no large page may be covered only in part
 * (MICA_EBUSY: it would have to be split).
 */
static int mapped_check(paddr_t table, int lvl, vaddr_t va, vaddr_t last)
{
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t e = table_at(table)[index_of(va, lvl)];
		int rc = MICA_OK;

		if (!(e & PTE_P))
			return MICA_ENOENT;
		if (is_leaf(e, lvl)) {
			bool whole =
			    IS_ALIGNED(va, 1ULL << level_shift(lvl)) && seg == span_last(va, lvl);

			if (!whole)
				return MICA_EBUSY;
		} else {
			rc = mapped_check(e & PTE_ADDR, lvl - 1, va, seg);
		}
		if (rc != MICA_OK)
			return rc;
		if (seg >= last)
			return MICA_OK;
		va = seg + 1;
	}
}

/*
 * Past a hole at va in a level-lvl table walked up to `last` (in the same
 * table): the start of the next present entry in *va, or false if there
 * is none up to last. A tight scan, for walks over sparse tables: up from
 * the hole, eight entries a step while a whole group fits; and if the
 * table's count of present entries `cnt` is known (not 0), down from last
 * at the same time, counting what it finds: once that is all cnt of them,
 * the lowest it found is the next one. So a lone entry at the top of a
 * table (a stack's) is found in one step, not after 511.
 */
static bool skip_hole(paddr_t table, int lvl, vaddr_t *va, vaddr_t last, unsigned cnt)
{
	const uint64_t *t = table_at(table);
	unsigned i = index_of(*va, lvl), end = index_of(last, lvl);
	unsigned up = i + 1, down = end + 1; /* [up, down) not looked at yet */
	unsigned found = 0, j = 0;           /* present entries in [down, end]; the lowest */

#define GROUP_EMPTY(k)                                                                             \
	(!((t[k] | t[k + 1] | t[k + 2] | t[k + 3] | t[k + 4] | t[k + 5] | t[k + 6] | t[k + 7]) &   \
	   PTE_P))
	/* Both ways while two whole groups fit (only with a count to stop the downward scan). */
	while (cnt && up + 16 <= down) {
		if (!GROUP_EMPTY(up))
			goto up_found;
		up += 8;
		down -= 8;
		if (GROUP_EMPTY(down))
			continue;
		for (unsigned k = down + 8; k-- > down;)
			if (t[k] & PTE_P) {
				found++;
				j = k;
			}
		if (found == cnt)
			goto done; /* every present entry is in [down, end]: j is the lowest */
	}
	/* Up: eight entries a step while a whole group fits, then one by one. */
	while (up + 8 <= down && GROUP_EMPTY(up))
		up += 8;
#undef GROUP_EMPTY
up_found:
	while (up < down && !(t[up] & PTE_P))
		up++;
	if (up < down)
		j = up;
	else if (!found)
		return false;
done:
	*va = (*va & ~((1ULL << level_shift(lvl)) - 1)) + ((uint64_t)(j - i) << level_shift(lvl));
	return true;
}

/*
 * Unlink the emptied table that *e points to (the caller counts the entry
 * out of its table); it is freed after the flush.
 */
static void unlink_empty(uint64_t *e, struct flush *f)
{
	paddr_t child = *e & PTE_ADDR;

	*e = 0;
	table_at(child)[0] = f->freed;
	f->freed = child;
}

/*
 * Act pass of pt_unmap: clear leaves, report them, free emptied tables.
 * pe holds this table's entry count (NULL: none kept); once it is 0 the
 * rest of the table is holes and the walk stops.
 */
static void unmap_do(paddr_t table, uint64_t *pe, int lvl, vaddr_t va, vaddr_t last, pt_unmap_fn fn,
                     void *arg, struct flush *f)
{
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t *e = &table_at(table)[index_of(va, lvl)];

		if (pe && cnt_get(*pe) == 0)
			return;
		if (!(*e & PTE_P)) {
			/* Only pt_root_destroy walks over holes. */
			if (!skip_hole(table, lvl, &va, last, pe ? cnt_get(*pe) : 0))
				return;
			continue;
		} else if (is_leaf(*e, lvl)) {
			if (fn)
				fn(arg, va, *e & PTE_ADDR, (seg - va + 1) >> MICA_PAGE_SHIFT);
			*e = 0;
			cnt_add(pe, -1);
			flush_add(f, va);
		} else {
			/* Shared kernel-half level-3 tables (no count) stay. */
			uint64_t *ce = cnt_of(e, lvl, va);

			unmap_do(*e & PTE_ADDR, ce, lvl - 1, va, seg, fn, arg, f);
			if (ce && cnt_get(*e) == 0) {
				unlink_empty(e, f);
				cnt_add(pe, -1);
			}
		}
		if (seg >= last)
			return;
		va = seg + 1;
	}
}

/*
 * pt_unmap of one page, in one walk: down to its leaf (refusing a hole or
 * a 2 MiB page, as mapped_check does), clear it, then up while the tables
 * empty.
 */
static int unmap_one(paddr_t root, vaddr_t va, pt_unmap_fn fn, void *arg, struct flush *f)
{
	uint64_t *e[5] = {NULL}; /* e[lvl]: va's entry at level lvl */
	paddr_t table = root;
	int lvl;

	for (lvl = 4;; lvl--) {
		e[lvl] = &table_at(table)[index_of(va, lvl)];
		if (!(*e[lvl] & PTE_P))
			return MICA_ENOENT;
		if (is_leaf(*e[lvl], lvl))
			break;
		table = *e[lvl] & PTE_ADDR;
	}
	if (lvl > 1)
		return MICA_EBUSY; /* one page of a 2 MiB page */
	if (fn)
		fn(arg, va, *e[1] & PTE_ADDR, 1);
	*e[1] = 0;
	flush_add(f, va);
	/* e[lvl - 1] was cleared: count it out of its table (count in e[lvl]). */
	for (lvl = 2; lvl <= 4; lvl++) {
		uint64_t *ce = cnt_of(e[lvl], lvl, va);

		if (!ce)
			break; /* a shared kernel-half level-3 table stays */
		cnt_add(ce, -1);
		if (cnt_get(*ce) != 0)
			break;
		unlink_empty(e[lvl], f);
	}
	return MICA_OK;
}

/* pt_unmap_fn of pt_unmap_user_page's general case: the frame, for its caller. */
static void note_frame(void *arg, vaddr_t va, paddr_t pa, uint64_t npages)
{
	(void)va;
	(void)npages;
	*(paddr_t *)arg = pa;
}

/*
 * Unmap one 4 KiB user page at va and put its frame in *pa: the unmap
 * system call's path for a page (mem.c). One walk, and one invlpg if root
 * is the current address space; a page table that empties takes the
 * general path (unmap_one), which frees it after the flush. Errors:
 * MICA_EALIGN, MICA_ERANGE (va outside [MICA_USER_BASE, MICA_USER_TOP)),
 * MICA_ENOENT (not mapped), MICA_EBUSY (part of a 2 MiB page), as
 * pt_unmap.
 */
int pt_unmap_user_page(paddr_t root, vaddr_t va, paddr_t *pa)
{
	struct flush f;
	int rc;

	/* A page-aligned address in the user half, as check_range would say. */
	if (!IS_ALIGNED(va, MICA_PAGE_SIZE))
		return MICA_EALIGN;
	if (va < MICA_USER_BASE || va >= MICA_USER_TOP)
		return MICA_ERANGE;
	/* Every table there, the leaf mapped, and its page table not left empty. */
	uint64_t e4 = table_at(root)[index_of(va, 4)];
	if (e4 & PTE_P) {
		uint64_t e3 = table_at(e4 & PTE_ADDR)[index_of(va, 3)];

		if ((e3 & (PTE_P | PTE_PS)) == PTE_P) {
			uint64_t *pe2 = &table_at(e3 & PTE_ADDR)[index_of(va, 2)];
			uint64_t e2 = *pe2;

			if ((e2 & (PTE_P | PTE_PS)) == PTE_P && cnt_get(e2) > 1) {
				uint64_t *pe1 = &table_at(e2 & PTE_ADDR)[index_of(va, 1)];

				if (!(*pe1 & PTE_P))
					return MICA_ENOENT;
				*pa = *pe1 & PTE_ADDR;
				*pe1 = 0;
				*pe2 = e2 - (1ULL << CNT_SHIFT);
				/* As flush_run: usercopy.c's kept translations are stale too. */
				pt_generation++;
				if ((cpu_read_cr3() & PTE_ADDR) == root)
					cpu_invlpg(va);
				return MICA_OK;
			}
		}
	}
	/* A hole, a 2 MiB page, or a table to free: the general walk. */
	flush_init(&f);
	rc = unmap_one(root, va, note_frame, pa, &f);
	if (rc != MICA_OK)
		return rc;
	flush_run(root, va, &f);
	flush_free_tables(&f);
	return MICA_OK;
}

/*
 * Unmap npages pages at va from the table rooted at `root`, calling fn
 * (if not NULL) for each mapping removed, and free page tables that become
 * empty. fn runs before the TLB flush, so it must not reuse the frame
 * before pt_unmap returns. Every page must be mapped. Errors: as check_range for the range
 * (flags are not used), MICA_ENOENT (a page is not mapped), MICA_EBUSY (the
 * range covers part of a 2 MiB page).
 */
int pt_unmap(paddr_t root, vaddr_t va, uint64_t npages, pt_unmap_fn fn, void *arg)
{
	vaddr_t last;
	struct flush f;
	/* Unmap takes no flags: check the range as the half it lies in. */
	int rc = check_range(va, npages, va < MICA_USER_TOP ? PT_USER : 0, &last);

	if (rc != MICA_OK)
		return rc;
	flush_init(&f);
	if (npages == 1)
		rc = unmap_one(root, va, fn, arg, &f);
	else if ((rc = mapped_check(root, 4, va, last)) == MICA_OK)
		unmap_do(root, NULL, 4, va, last, fn, arg, &f);
	if (rc != MICA_OK)
		return rc;
	flush_run(root, va, &f);
	flush_free_tables(&f);
	return MICA_OK;
}

static void protect_do(paddr_t table, int lvl, vaddr_t va, vaddr_t last, unsigned flags,
                       struct flush *f)
{
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t *e = &table_at(table)[index_of(va, lvl)];

		if (is_leaf(*e, lvl)) {
			*e = (*e & PTE_ADDR) | leaf_bits(flags, lvl);
			flush_add(f, va);
		} else {
			protect_do(*e & PTE_ADDR, lvl - 1, va, seg, flags, f);
		}
		if (seg >= last)
			return;
		va = seg + 1;
	}
}

/*
 * Give every page of [va, va + npages pages) the rights in `flags`
 * (PT_WRITE, PT_EXEC, PT_USER, PT_GLOBAL; not PT_LARGE). Every page must be
 * mapped. Errors: as pt_unmap, plus MICA_EINVAL for PT_LARGE.
 */
int pt_protect(paddr_t root, vaddr_t va, uint64_t npages, unsigned flags)
{
	vaddr_t last;
	struct flush f;
	int rc;

	flush_init(&f);
	/* Flags: PT_LARGE describes a mapping's shape, not its rights. */
	if (flags & PT_LARGE)
		return MICA_EINVAL;
	rc = check_range(va, npages, flags, &last);
	if (rc != MICA_OK)
		return rc;
	rc = mapped_check(root, 4, va, last);
	if (rc != MICA_OK)
		return rc;
	protect_do(root, 4, va, last, flags, &f);
	flush_run(root, va, &f);
	return MICA_OK;
}

/* ---- translate ---- */

/*
 * Translate va in the table rooted at `root`: store the physical address
 * it maps to in *pa and its flags (PT_LARGE for a 2 MiB page) in *flags;
 * either pointer may be NULL. Errors: MICA_ERANGE (non-canonical),
 * MICA_ENOENT (not mapped).
 */
int pt_translate(paddr_t root, vaddr_t va, paddr_t *pa, unsigned *flags)
{
	paddr_t table = root;

	if (!is_canonical(va))
		return MICA_ERANGE;
	for (int lvl = 4; lvl >= 1; lvl--) {
		uint64_t e = table_at(table)[index_of(va, lvl)];

		if (!(e & PTE_P))
			return MICA_ENOENT;
		if (is_leaf(e, lvl)) {
			uint64_t mask = (1ULL << level_shift(lvl)) - 1;

			if (pa)
				*pa = (e & PTE_ADDR & ~mask) + (va & mask);
			if (flags)
				*flags = ((e & PTE_RW) ? PT_WRITE : 0) |
				         ((e & PTE_NX) ? 0 : PT_EXEC) |
				         ((e & PTE_US) ? PT_USER : 0) |
				         ((e & PTE_G) ? PT_GLOBAL : 0) | (lvl > 1 ? PT_LARGE : 0);
			return MICA_OK;
		}
		table = e & PTE_ADDR;
	}
	return MICA_ENOENT; /* not reached: level 1 entries are leaves */
}

/* ---- draining an address space ---- */

/*
 * Remove mappings from [va, last] in ascending order while *budget pages
 * remain, freeing tables that empty. Returns true if it stopped with
 * mappings left in the range.
 */
static bool drain_do(paddr_t table, uint64_t *pe, int lvl, vaddr_t va, vaddr_t last,
                     uint64_t *budget, pt_unmap_fn fn, void *arg, struct flush *f)
{
	for (;;) {
		vaddr_t seg = MIN(span_last(va, lvl), last);
		uint64_t *e = &table_at(table)[index_of(va, lvl)];

		if (pe && cnt_get(*pe) == 0)
			return false; /* the rest of this table is holes */
		if (!(*e & PTE_P)) {
			if (!skip_hole(table, lvl, &va, last, pe ? cnt_get(*pe) : 0))
				return false;
			continue;
		} else if (is_leaf(*e, lvl)) {
			uint64_t n = (seg - va + 1) >> MICA_PAGE_SHIFT;

			if (n > *budget)
				return true;
			if (fn)
				fn(arg, va, *e & PTE_ADDR, n);
			*e = 0;
			cnt_add(pe, -1);
			flush_add(f, va);
			*budget -= n;
		} else {
			/* Only user-half tables: every one has a count. */
			bool stopped =
			    drain_do(*e & PTE_ADDR, e, lvl - 1, va, seg, budget, fn, arg, f);

			if (cnt_get(*e) == 0) {
				unlink_empty(e, f);
				cnt_add(pe, -1);
			}
			if (stopped)
				return true;
		}
		if (seg >= last)
			return false;
		va = seg + 1;
	}
}

/*
 * Unmap the lowest user-half mappings of `root`, at most *budget pages,
 * calling fn for each, and free the tables that empty (not the root).
 * *budget is decreased by the pages removed. Returns true if mappings
 * remain: a caller empties an address space in bounded steps this way.
 */
bool pt_drain_user(paddr_t root, uint64_t *budget, pt_unmap_fn fn, void *arg)
{
	struct flush f;

	flush_init(&f);
	bool more = drain_do(root, NULL, 4, 0, MICA_USER_TOP - 1, budget, fn, arg, &f);

	flush_run(root, 0, &f);
	flush_free_tables(&f);
	return more;
}

/* ---- roots ---- */

/*
 * Give the kernel-half PML4 slot holding va a level-3 table, if it has
 * none, in the kernel's root. Boot code calls this for every slot the
 * kernel layout uses, before any other root exists. Errors: MICA_ERANGE
 * (va not in the kernel half), MICA_ENOMEM.
 */
int pt_kernel_slot_create(paddr_t kernel_root, vaddr_t va)
{
	uint64_t *e = &table_at(kernel_root)[index_of(va, 4)];
	paddr_t t;

	if (va < MICA_KERNEL_HALF)
		return MICA_ERANGE;
	if (*e & PTE_P)
		return MICA_OK;
	if (table_new(&t) != MICA_OK)
		return MICA_ENOMEM;
	*e = t | table_bits(va);
	return MICA_OK;
}

/*
 * Create an empty address space: a new PML4 whose kernel half is that of
 * kernel_root (shared, not copied deeper). Errors: MICA_ENOMEM.
 */
int pt_root_create(paddr_t kernel_root, paddr_t *root)
{
	paddr_t t;
	uint64_t *p, n = ENTRIES / 2;

	if (frame_alloc(&t) != MICA_OK)
		return MICA_ENOMEM;
	tables++;
	/* The user half empty (rep stosq), the kernel half copied: each entry written once. */
	p = table_at(t);
	__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ULL) : "memory");
	memcpy(&table_at(t)[ENTRIES / 2], &table_at(kernel_root)[ENTRIES / 2],
	       (ENTRIES / 2) * sizeof(uint64_t));
	*root = t;
	return MICA_OK;
}

/*
 * Free a root made by pt_root_create whose user half is empty (the last
 * pt_drain_user on it returned false, and nothing was mapped since):
 * pt_root_destroy without the walk over its 256 user entries.
 */
void pt_root_free(paddr_t root)
{
	table_free(root);
}

/*
 * Destroy an address space made by pt_root_create: unmap the whole user
 * half (calling fn for every mapping), free its tables and the root. The
 * root must not be the current one.
 */
void pt_root_destroy(paddr_t root, pt_unmap_fn fn, void *arg)
{
	struct flush f;

	flush_init(&f);
	unmap_do(root, NULL, 4, 0, MICA_USER_TOP - 1, fn, arg, &f);
	pt_generation++; /* no TLB holds it (not current), but usercopy.c's may */
	flush_free_tables(&f);
	table_free(root);
}
