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
 * Find the kernel address of user byte uva, needing `need` flags. Returns
 * NULL if it is not mapped so.
 */
static void *user_byte(paddr_t root, vaddr_t uva, unsigned need)
{
	paddr_t pa;
	unsigned flags;

	if (pt_translate(root, uva, &pa, &flags) != MICA_OK)
		return NULL;
	if ((flags & need) != need)
		return NULL;
	return phys_to_virt(pa);
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

/*
 * Copy between user range [uva, uva + n) of the address space rooted at
 * `root` and kbuf; with kbuf NULL only check that the range is accessible.
 */
static int copy(paddr_t root, vaddr_t uva, void *kbuf, size_t n, bool to_user)
{
	uint8_t *k = kbuf;

	/* The whole range in the user half. */
	if (!user_range(uva, n))
		return MICA_EFAULT;
	/* A write over a page boundary is checked whole first: all or nothing. */
	if (k && to_user && (uva & (MICA_PAGE_SIZE - 1)) + n > MICA_PAGE_SIZE &&
	    copy(root, uva, NULL, n, true) != MICA_OK)
		return MICA_EFAULT;
	/* Then page by page: mapped, user, writable if written. */
	while (n > 0) {
		size_t chunk = MIN(n, MICA_PAGE_SIZE - (uva & (MICA_PAGE_SIZE - 1)));
		uint8_t *u = user_byte(root, uva, PT_USER | (to_user ? PT_WRITE : 0));

		if (!u)
			return MICA_EFAULT;
		if (k && to_user)
			memcpy(u, k, chunk);
		else if (k)
			memcpy(k, u, chunk);
		uva += chunk;
		if (k)
			k += chunk;
		n -= chunk;
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
	return copy(current_root(), usrc, dst, n, false);
}

/*
 * Copy n bytes from src to user address udst in the current address space.
 * Errors: MICA_EFAULT (some byte is not mapped user-writable); then
 * nothing was written.
 */
int usercopy_to(vaddr_t udst, const void *src, size_t n)
{
	return copy(current_root(), udst, (void *)src, n, true);
}

/* As usercopy_from, in the address space rooted at `root` (IPC between spaces). */
int usercopy_from_root(paddr_t root, void *dst, vaddr_t usrc, size_t n)
{
	return copy(root, usrc, dst, n, false);
}

/* As usercopy_to (all or nothing), in the address space rooted at `root`. */
int usercopy_to_root(paddr_t root, vaddr_t udst, const void *src, size_t n)
{
	return copy(root, udst, (void *)src, n, true);
}

/* Check, without copying, that [uva, uva + n) is user-readable (or -writable). */
int usercopy_check(paddr_t root, vaddr_t uva, size_t n, bool write)
{
	return copy(root, uva, NULL, n, write);
}
