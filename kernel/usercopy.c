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
static void *user_byte(vaddr_t uva, unsigned need)
{
	paddr_t pa;
	unsigned flags;

	if (pt_translate(cpu_read_cr3() & ~0xFFFULL, uva, &pa, &flags) != MICA_OK)
		return NULL;
	if ((flags & need) != need)
		return NULL;
	return phys_to_virt(pa);
}

/* Check [uva, uva + n) lies in the user half without overflow. */
static bool user_range(vaddr_t uva, size_t n)
{
	return uva >= MICA_USER_BASE && uva < MICA_USER_TOP && n <= MICA_USER_TOP - uva;
}

static int copy(vaddr_t uva, void *kbuf, size_t n, bool to_user)
{
	uint8_t *k = kbuf;

	/* The whole range in the user half. */
	if (!user_range(uva, n))
		return MICA_EFAULT;
	/* Then page by page: mapped, user, writable if written. */
	while (n > 0) {
		size_t chunk = MIN(n, MICA_PAGE_SIZE - (uva & (MICA_PAGE_SIZE - 1)));
		uint8_t *u = user_byte(uva, PT_USER | (to_user ? PT_WRITE : 0));

		if (!u)
			return MICA_EFAULT;
		if (to_user)
			memcpy(u, k, chunk);
		else
			memcpy(k, u, chunk);
		uva += chunk;
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
	return copy(usrc, dst, n, false);
}

/*
 * Copy n bytes from src to user address udst in the current address space.
 * Errors: MICA_EFAULT (some byte is not mapped user-writable); a prefix may
 * have been written.
 */
int usercopy_to(vaddr_t udst, const void *src, size_t n)
{
	return copy(udst, (void *)src, n, true);
}
