/*
 * The first user task. GRUB loads it as the first module (the pager, once
 * it exists; a test task until then). The kernel checks the ELF image,
 * builds its address space eagerly from pool frames, every segment with
 * its own rights, adds a zeroed stack and the read-only boot-info page,
 * gives it handles to its own address space (with the memory right: the
 * only such handle the kernel ever makes) and thread, and starts it.
 * Everything after that is user space's business.
 */
#include <mica/bootinfo.h>
#include <mica/error.h>
#include <mica/layout.h>
#include <mica/thread.h>
#include "aspace.h"
#include "boottask.h"
#include "cmdline.h"
#include "elf.h"
#include "irq.h"
#include "kprintf.h"
#include "lib/string.h"
#include "panic.h"
#include "phys.h"
#include "pool.h"
#include "pt.h"
#include "thread.h"

#define BOOTTASK_PRIO 16 /* mid-range: room above for servers, below for clients */

/* Map one zeroed pool frame at va, copying [src, src + n) to offset off; returns it. */
static void *map_page(struct aspace *as, vaddr_t va, unsigned flags, const uint8_t *src, size_t off,
                      size_t n)
{
	paddr_t pa;

	if (pool_take(1, &pa) != MICA_OK)
		boot_fail("no memory for the first task");
	memset(phys_to_virt(pa), 0, MICA_PAGE_SIZE);
	memcpy((uint8_t *)phys_to_virt(pa) + off, src, n);
	if (pt_map(as->root, va, pa, 1, flags | PT_USER) != MICA_OK)
		panic("boottask: cannot map 0x%lx", va);
	pool_ref(pa, 1);
	return phys_to_virt(pa);
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

		(void)map_page(as, va, flags, file + s->offset + (lo - s->vaddr), lo - va, n);
	}
}

/* Copy at most cap - 1 bytes of s and a NUL. */
static void copy_name(char *dst, const char *s, size_t cap)
{
	size_t n = MIN(strlen(s), cap - 1);

	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* Where each module's copy lies in the pool. */
static paddr_t module_copy[MICA_BOOTINFO_MODULES];

/*
 * Copy the modules into pool frames, unmapped and not free: the pager is
 * told where they are, maps them to read them, and frees them when done.
 * (The loader's copies may share their last frame with the boot
 * information, so they cannot be handed over themselves; they stay with
 * the kernel.) A module the pool has no room for is listed without the
 * MICA_MODULE_IN_POOL flag.
 */
void boottask_copy_modules(const struct boot_info *boot)
{
	for (size_t i = 0; i < MIN(boot->nmodules, MICA_BOOTINFO_MODULES); i++) {
		const struct mb2_module *m = &boot->module[i];
		uint64_t pages = ALIGN_UP(m->end - m->start, MICA_PAGE_SIZE) >> MICA_PAGE_SHIFT;
		paddr_t pa;

		if (pages == 0 || pool_take(pages, &pa) != MICA_OK)
			continue;
		memset(phys_to_virt(pa), 0, pages * MICA_PAGE_SIZE);
		memcpy(phys_to_virt(pa), phys_to_virt(m->start), m->end - m->start);
		module_copy[i] = pa;
	}
}

/* List the modules in the boot info. */
static void list_modules(struct mica_bootinfo *bi, const struct boot_info *boot)
{
	bi->nmodules = (uint32_t)MIN(boot->nmodules, MICA_BOOTINFO_MODULES);
	for (uint32_t i = 0; i < bi->nmodules; i++) {
		const struct mb2_module *m = &boot->module[i];
		struct mica_bootinfo_module *out = &bi->module[i];

		out->start = module_copy[i] ? module_copy[i] : m->start;
		out->size = (uint32_t)(m->end - m->start);
		copy_name(out->name, m->cmdline, sizeof(out->name));
		if (module_copy[i])
			out->flags = MICA_MODULE_IN_POOL;
	}
}

/*
 * Start boot->module[0] as the first user task, or stop the boot saying
 * why not (after boottask_copy_modules).
 */
void boottask_start(const struct boot_info *boot)
{
	const struct mb2_module *m = &boot->module[0];
	struct elf_image img;
	struct aspace *as;
	struct thread *t;
	const char *why = NULL;
	const uint8_t *file = phys_to_virt(m->start);
	mica_handle_t has, hth, hdev;

	if (elf_parse(file, m->end - m->start, &img, &why) != MICA_OK) {
		kprintf("mica: boot: module \"%s\": %s\n", m->cmdline, why ? why : "invalid");
		boot_fail("the first module is not a Mica executable");
	}
	/* The kernel puts the stack and boot info around MICA_BOOT_STACK_TOP: no segment may be
	 * there. */
	for (unsigned i = 0; i < img.nseg; i++)
		if (img.seg[i].vaddr < MICA_BOOTINFO_ADDR + MICA_PAGE_SIZE &&
		    img.seg[i].vaddr + img.seg[i].memsz >
		        MICA_BOOT_STACK_TOP - MICA_BOOT_STACK_SIZE)
			boot_fail("the first module's segments overlap the boot stack");
	if (aspace_create(&as) != MICA_OK)
		boot_fail("no memory for the first task");
	for (unsigned i = 0; i < img.nseg; i++)
		map_segment(as, file, &img.seg[i]);
	for (vaddr_t va = MICA_BOOT_STACK_TOP - MICA_BOOT_STACK_SIZE; va < MICA_BOOT_STACK_TOP;
	     va += MICA_PAGE_SIZE)
		(void)map_page(as, va, PT_WRITE, NULL, 0, 0);
	struct mica_bootinfo *bi = map_page(as, MICA_BOOTINFO_ADDR, 0, NULL, 0, 0);

	/* Its handles: the address space, the thread, and the device authority. */
	struct thread_links none = {NULL, NULL, 0, 0};
	if (thread_create_user(as, img.entry, MICA_BOOT_STACK_TOP, MICA_BOOTINFO_ADDR,
	                       BOOTTASK_PRIO, &none, &t) != MICA_OK)
		boot_fail("no memory for the first thread");
	t->max_prio = MICA_PRIO_MAX; /* it may place servers above itself */
	thread_set_first(t);
	if (handle_alloc(&as->handles, &as->obj,
	                 MICA_RIGHT_MEMORY | MICA_RIGHT_MANAGE | MICA_RIGHT_COPY, 0,
	                 &has) != MICA_OK ||
	    handle_alloc(&as->handles, &t->obj, MICA_RIGHT_MANAGE | MICA_RIGHT_COPY, 0, &hth) !=
	        MICA_OK ||
	    handle_alloc(&as->handles, &devices_authority, MICA_RIGHT_MANAGE | MICA_RIGHT_COPY, 0,
	                 &hdev) != MICA_OK)
		panic("boottask: no room for the first handles");
	kobj_unref(&as->obj); /* its handle and its thread hold it now */

	/* The boot-info page, last: the pool ranges are final now. */
	bi->magic = MICA_BOOTINFO_MAGIC;
	bi->version = MICA_BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->aspace = has;
	bi->thread = hth;
	bi->devices = hdev;
	cmdline_copy(bi->cmdline, sizeof(bi->cmdline)); /* whole words, the cut logged */
	list_modules(bi, boot);
	bi->pool_total = pool_total();
	bi->nranges = pool_ranges(bi->range, MICA_BOOTINFO_RANGES, &bi->pool_free);
	kprintf("boottask: \"%s\" started: %u segments, entry 0x%lx, thread %u\n", m->cmdline,
	        img.nseg, img.entry, t->id);
}
