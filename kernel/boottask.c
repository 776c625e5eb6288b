/*
 * The first user task. GRUB loads it as the first module (the pager, once
 * it exists; a test task until then). The kernel checks the ELF image,
 * builds its address space eagerly, every segment with its own rights,
 * adds a zeroed stack, and starts one thread at the entry point. Everything
 * after that is user space's business.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "aspace.h"
#include "boottask.h"
#include "elf.h"
#include "frame.h"
#include "kprintf.h"
#include "lib/string.h"
#include "panic.h"
#include "phys.h"
#include "pt.h"
#include "thread.h"

#define BOOTTASK_PRIO 16

/* Map one zeroed user page at va, copying [src, src + n) to offset off. */
static void map_page(struct aspace *as, vaddr_t va, unsigned flags, const uint8_t *src, size_t off,
                     size_t n)
{
	paddr_t pa;

	if (frame_alloc(&pa) != MICA_OK)
		boot_fail("no memory for the first task");
	memset(phys_to_virt(pa), 0, MICA_PAGE_SIZE);
	memcpy((uint8_t *)phys_to_virt(pa) + off, src, n);
	if (pt_map(as->root, va, pa, 1, flags | PT_USER) != MICA_OK)
		panic("boottask: cannot map 0x%lx", va);
}

/* Map segment s of the image at `file`, page by page. */
static void map_segment(struct aspace *as, const uint8_t *file, const struct elf_segment *s)
{
	unsigned flags =
	    ((s->flags & ELF_SEG_W) ? PT_WRITE : 0) | ((s->flags & ELF_SEG_X) ? PT_EXEC : 0);
	vaddr_t file_end = s->vaddr + s->filesz;

	for (vaddr_t va = ALIGN_DOWN(s->vaddr, MICA_PAGE_SIZE); va < s->vaddr + s->memsz;
	     va += MICA_PAGE_SIZE) {
		/* The part of this page that comes from the file. */
		vaddr_t lo = MAX(va, s->vaddr), hi = MIN(va + MICA_PAGE_SIZE, file_end);
		size_t n = hi > lo ? hi - lo : 0;

		map_page(as, va, flags, file + s->offset + (lo - s->vaddr), lo - va, n);
	}
}

/* Start module m as the first user task, or stop the boot saying why not. */
void boottask_start(const struct mb2_module *m)
{
	struct elf_image img;
	struct aspace *as;
	struct thread *t;
	const char *why = NULL;
	const uint8_t *file = phys_to_virt(m->start);

	if (elf_parse(file, m->end - m->start, &img, &why) != MICA_OK) {
		kprintf("mica: boot: module \"%s\": %s\n", m->cmdline, why ? why : "invalid");
		boot_fail("the first module is not a Mica executable");
	}
	/* The kernel puts the stack below MICA_BOOT_STACK_TOP: no segment may be there. */
	for (unsigned i = 0; i < img.nseg; i++)
		if (img.seg[i].vaddr < MICA_BOOT_STACK_TOP &&
		    img.seg[i].vaddr + img.seg[i].memsz >
		        MICA_BOOT_STACK_TOP - MICA_BOOT_STACK_SIZE)
			boot_fail("the first module's segments overlap the boot stack");
	if (aspace_create(&as) != MICA_OK)
		boot_fail("no memory for the first task");
	for (unsigned i = 0; i < img.nseg; i++)
		map_segment(as, file, &img.seg[i]);
	for (vaddr_t va = MICA_BOOT_STACK_TOP - MICA_BOOT_STACK_SIZE; va < MICA_BOOT_STACK_TOP;
	     va += MICA_PAGE_SIZE)
		map_page(as, va, PT_WRITE, NULL, 0, 0);
	if (thread_create_user(as, img.entry, MICA_BOOT_STACK_TOP, 0, BOOTTASK_PRIO, &t) != MICA_OK)
		boot_fail("no memory for the first thread");
	kprintf("boottask: \"%s\" started: %u segments, entry 0x%lx, thread %u\n", m->cmdline,
	        img.nseg, img.entry, t->id);
}
