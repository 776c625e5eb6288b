/*
 * Copying between the kernel and user memory. Every user pointer the
 * kernel touches goes through here. Each page of the user range is looked
 * up in the current address space's page tables first: it must lie in the
 * user half, be mapped user-accessible, and (for writes) writable. The
 * bytes are then copied through the direct map, so a bad pointer gives an
 * error and can never fault the kernel. The kernel is not preemptible, so
 * nothing can unmap the page between the check and the copy.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "cpu.h"
#include "lib/string.h"
#include "phys.h"
#include "pt.h"
#include "usercopy.h"

/*
 * The page-table walk of the copy routine: pt_translate (pt.c) for a user
 * address, unrolled. Every user access of the kernel walks, so it is kept
 * short: about 30 instructions against pt_translate's 105. It reads the
 * x86-64 entries as pt.c writes them (present, writable, user, a 2 MiB or
 * 1 GiB leaf); the flags are the leaf's, as pt_translate gives them. False
 * if the page is not mapped.
 */
#define UC_PTE_P    (1ULL << 0)
#define UC_PTE_RW   (1ULL << 1)
#define UC_PTE_US   (1ULL << 2)
#define UC_PTE_PS   (1ULL << 7)
#define UC_PTE_ADDR 0x000FFFFFFFFFF000ULL

static inline const uint64_t *uc_table(uint64_t e)
{
	return phys_to_virt(e & UC_PTE_ADDR);
}

static bool walk(paddr_t root, vaddr_t va, paddr_t *pa, unsigned *flags)
{
	uint64_t e = uc_table(root)[(va >> 39) & 511];
	uint64_t span;

	if (!(e & UC_PTE_P))
		return false;
	e = uc_table(e)[(va >> 30) & 511];
	span = 1ULL << 30;
	if (!(e & UC_PTE_P))
		return false;
	if (!(e & UC_PTE_PS)) {
		e = uc_table(e)[(va >> 21) & 511];
		span = 1ULL << 21;
		if (!(e & UC_PTE_P))
			return false;
		if (!(e & UC_PTE_PS)) {
			e = uc_table(e)[(va >> 12) & 511];
			span = MICA_PAGE_SIZE;
			if (!(e & UC_PTE_P))
				return false;
		}
	}
	*pa = (e & UC_PTE_ADDR & ~(span - 1)) + (va & (span - 1));
	*flags = ((e & UC_PTE_RW) ? PT_WRITE : 0) | ((e & UC_PTE_US) ? PT_USER : 0);
	return true;
}

/* A page's slot: by page and address space, so two spaces' same address rarely collide. */
static inline unsigned slot_of(paddr_t root, vaddr_t page)
{
	return ((page ^ root) >> MICA_PAGE_SHIFT) % USERCOPY_CACHE_SLOTS;
}

/*
 * The kernel address of user page `page`, needing `need` flags; NULL if it
 * is not mapped so. With a cache c, a page it has seen in this address
 * space is not walked again (a software walk costs about 100
 * instructions). The cache is direct-mapped: a page has one slot, chosen
 * by its address, and a new translation replaces the one there. Only
 * successful translations are kept, with the rights found.
 */
static __attribute__((noinline)) uint8_t *user_page_walk(struct usercopy_cache *c, paddr_t root,
                                                         vaddr_t page, unsigned need)
{
	paddr_t pa;
	unsigned flags;

	if (!walk(root, page, &pa, &flags) || (flags & need) != need)
		return NULL;
	uint8_t *k = phys_to_virt(pa);
	if (c) {
		unsigned i = slot_of(root, page);

		c->valid |= 1u << i;
		c->slot[i].root = root;
		c->slot[i].page = page;
		c->slot[i].kva = k;
		c->slot[i].need = flags & (PT_USER | PT_WRITE);
	}
	return k;
}

static inline uint8_t *user_page_cached(struct usercopy_cache *c, paddr_t root, vaddr_t page,
                                        unsigned need)
{
	if (c) {
		unsigned i = slot_of(root, page);

		if ((c->valid & (1u << i)) && c->slot[i].page == page && c->slot[i].root == root &&
		    (c->slot[i].need & need) == need)
			return c->slot[i].kva;
	}
	return user_page_walk(c, root, page, need);
}

/* An empty cache. */
void usercopy_cache_init(struct usercopy_cache *c)
{
	c->valid = 0;
	c->gen = pt_generation;
}

static paddr_t current_root(void)
{
	return cpu_read_cr3() & ~0xFFFULL;
}

/* Check [uva, uva + n) lies in the user half without overflow. */
static bool user_range(vaddr_t uva, size_t n)
{
	return uva >= MICA_USER_BASE && uva < MICA_USER_TOP && n <= MICA_USER_TOP - uva;
}

static int copy_pages(struct usercopy_cache *c, paddr_t root, vaddr_t uva, void *kbuf, size_t n,
                      bool to_user);

/*
 * Copy between user range [uva, uva + n) of the address space rooted at
 * `root` and kbuf; with kbuf NULL only check that the range is accessible.
 * Inline for the usual case, a range within one page: one translation.
 */
static inline int copy(struct usercopy_cache *c, paddr_t root, vaddr_t uva, void *kbuf, size_t n,
                       bool to_user)
{
	vaddr_t off = uva & (MICA_PAGE_SIZE - 1);

	/* The whole range in the user half. */
	if (!user_range(uva, n))
		return MICA_EFAULT;
	if (off + n > MICA_PAGE_SIZE)
		return copy_pages(c, root, uva, kbuf, n, to_user);
	if (n == 0)
		return MICA_OK;
	uint8_t *u = user_page_cached(c, root, uva - off, to_user ? PT_USER | PT_WRITE : PT_USER);
	if (!u)
		return MICA_EFAULT;
	if (kbuf && to_user)
		memcpy(u + off, kbuf, n);
	else if (kbuf)
		memcpy(kbuf, u + off, n);
	return MICA_OK;
}

/* copy() over more than one page, its range checked. */
static __attribute__((noinline)) int copy_pages(struct usercopy_cache *c, paddr_t root, vaddr_t uva,
                                                void *kbuf, size_t n, bool to_user)
{
	uint8_t *k = kbuf;
	unsigned need = to_user ? PT_USER | PT_WRITE : PT_USER;
	vaddr_t off = uva & (MICA_PAGE_SIZE - 1);

	/* A write over a page boundary is checked whole first: all or nothing. */
	if (k && to_user && copy_pages(c, root, uva, NULL, n, true) != MICA_OK)
		return MICA_EFAULT;
	/* Then page by page: mapped, user, writable if written. */
	while (n > 0) {
		size_t chunk = MIN(n, MICA_PAGE_SIZE - off);
		uint8_t *u = user_page_cached(c, root, uva - off, need);

		if (!u)
			return MICA_EFAULT;
		if (k && to_user)
			memcpy(u + off, k, chunk);
		else if (k)
			memcpy(k, u + off, chunk);
		uva += chunk;
		if (k)
			k += chunk;
		n -= chunk;
		off = 0;
	}
	return MICA_OK;
}

/*
 * Copy n bytes from user address usrc in the current address space to dst.
 * Errors: MICA_EFAULT (some byte is not mapped user-readable); dst may then
 * hold a prefix of the data.
 */
int usercopy_from(void *dst, vaddr_t usrc, size_t n)
{
	return copy(NULL, current_root(), usrc, dst, n, false);
}

/*
 * Copy n bytes from src to user address udst in the current address space.
 * Errors: MICA_EFAULT (some byte is not mapped user-writable); then
 * nothing was written.
 */
int usercopy_to(vaddr_t udst, const void *src, size_t n)
{
	return copy(NULL, current_root(), udst, (void *)src, n, true);
}

/* As usercopy_from, in the address space rooted at `root` (IPC between spaces). */
int usercopy_from_root(paddr_t root, void *dst, vaddr_t usrc, size_t n)
{
	return copy(NULL, root, usrc, dst, n, false);
}

/* As usercopy_to (all or nothing), in the address space rooted at `root`. */
int usercopy_to_root(paddr_t root, vaddr_t udst, const void *src, size_t n)
{
	return copy(NULL, root, udst, (void *)src, n, true);
}

/* Check, without copying, that [uva, uva + n) is user-readable (or -writable). */
int usercopy_check(paddr_t root, vaddr_t uva, size_t n, bool write)
{
	return copy(NULL, root, uva, NULL, n, write);
}

/* As usercopy_from_root, through the operation's translation cache c. */
int usercopy_from_cached(struct usercopy_cache *c, paddr_t root, void *dst, vaddr_t usrc, size_t n)
{
	return copy(c, root, usrc, dst, n, false);
}

/* As usercopy_to_root (all or nothing), through the operation's translation cache c. */
int usercopy_to_cached(struct usercopy_cache *c, paddr_t root, vaddr_t udst, const void *src,
                       size_t n)
{
	return copy(c, root, udst, (void *)src, n, true);
}

/* As usercopy_check, through the operation's translation cache c. */
int usercopy_check_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n, bool write)
{
	return copy(c, root, uva, NULL, n, write);
}

/*
 * The kernel address (through the direct map) of user range [uva, uva + n)
 * of the address space rooted at `root`, if it lies in the user half
 * within one page, mapped user-readable (and writable if `write`); NULL if
 * not so (a range over a page boundary too: the caller then copies through
 * the routines above). Valid for the current operation only, like c.
 */
void *usercopy_ptr_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n, bool write)
{
	vaddr_t off = uva & (MICA_PAGE_SIZE - 1);

	if (!user_range(uva, n) || n == 0 || off + n > MICA_PAGE_SIZE)
		return NULL;
	uint8_t *u = user_page_cached(c, root, uva - off, write ? PT_USER | PT_WRITE : PT_USER);
	return u ? u + off : NULL;
}

/*
 * usercopy_view_ptr's miss: translate through c (a walk if c misses too)
 * and keep the page in v. NULL, with v left empty, if the range is not in
 * one page mapped so.
 */
void *usercopy_view_fill(struct usercopy_view *v, struct usercopy_cache *c, paddr_t root,
                         vaddr_t uva, size_t n, bool write)
{
	uint8_t *k = usercopy_ptr_cached(c, root, uva, n, write);
	vaddr_t off = uva & (MICA_PAGE_SIZE - 1);

	v->gen = 0;
	if (!k)
		return NULL;
	v->page = uva - off;
	v->kva = k - off;
	v->writable = write;
	v->gen = pt_generation;
	return k;
}

/* Copy n bytes; bytes of overlapping ranges (one address space) as memmove would. */
static void move(uint8_t *to, const uint8_t *from, size_t n)
{
	if (from < to + n && to < from + n)
		memmove(to, from, n);
	else
		memcpy(to, from, n);
}

/*
 * Copy n bytes from user address src of the address space rooted at sroot
 * to user address dst of the one rooted at droot, through the direct map,
 * without a bounce buffer: IPC's message buffer. Both ranges are checked
 * whole first (readable, and writable), so nothing is written unless all
 * of it can be. The same space may be on both sides; overlapping bytes are
 * moved as memmove would. Errors: MICA_EFAULT.
 */
int usercopy_between(struct usercopy_cache *c, paddr_t droot, vaddr_t dst, paddr_t sroot,
                     vaddr_t src, size_t n)
{
	vaddr_t soff = src & (MICA_PAGE_SIZE - 1), doff = dst & (MICA_PAGE_SIZE - 1);

	if (!user_range(src, n) || !user_range(dst, n))
		return MICA_EFAULT;
	if (n == 0)
		return MICA_OK;
	/* Each side within one page (the usual case): one translation each. */
	if (soff + n <= MICA_PAGE_SIZE && doff + n <= MICA_PAGE_SIZE) {
		uint8_t *from = user_page_cached(c, sroot, src - soff, PT_USER);
		uint8_t *to = user_page_cached(c, droot, dst - doff, PT_USER | PT_WRITE);

		if (!from || !to)
			return MICA_EFAULT;
		move(to + doff, from + soff, n);
		return MICA_OK;
	}
	if (copy(c, sroot, src, NULL, n, false) != MICA_OK ||
	    copy(c, droot, dst, NULL, n, true) != MICA_OK)
		return MICA_EFAULT;
	while (n > 0) {
		soff = src & (MICA_PAGE_SIZE - 1);
		doff = dst & (MICA_PAGE_SIZE - 1);
		size_t chunk = MIN(n, MICA_PAGE_SIZE - MAX(soff, doff));
		uint8_t *from = user_page_cached(c, sroot, src - soff, PT_USER);
		uint8_t *to = user_page_cached(c, droot, dst - doff, PT_USER | PT_WRITE);

		if (!from || !to)
			return MICA_EFAULT; /* not reached: both were just checked */
		move(to + doff, from + soff, chunk);
		src += chunk;
		dst += chunk;
		n -= chunk;
	}
	return MICA_OK;
}
