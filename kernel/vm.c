/*
 * The kernel address space, built once at boot with the page-table module
 * and then shared by every address space (the kernel half of each PML4):
 *  - the direct map: every usable frame at MICA_DIRECT_MAP_BASE + its
 *    physical address, writable, never executable, in 2 MiB pages where
 *    alignment allows; the kernel image's own frames read-only there, so
 *    the alias cannot be used to change kernel code or constants;
 *  - the kernel image at MICA_KERNEL_VBASE + physical, W^X: text read and
 *    execute, read-only data read only, data and bss read and write, with
 *    the page below the boot stack left unmapped as a guard.
 * All of it is global, so CR3 loads keep it in the TLB.
 */
#include <mica/errname.h>
#include <mica/error.h>
#include <mica/layout.h>
#include "cpu.h"
#include "frame.h"
#include "kprintf.h"
#include "lib/string.h"
#include "panic.h"
#include "phys.h"
#include "pt.h"
#include "vm.h"

static paddr_t kernel_root;

/* The kernel's PML4 (the template for every address space's kernel half). */
paddr_t vm_kernel_root(void)
{
	return kernel_root;
}

/* Map [start, end) of physical memory into the direct map (if non-empty), or panic. */
static void map_direct(paddr_t start, paddr_t end, unsigned flags)
{
	if (start >= end)
		return;
	int rc = pt_map(kernel_root, MICA_DIRECT_MAP_BASE + start, start,
	                (end - start) >> MICA_PAGE_SHIFT, flags | PT_GLOBAL | PT_LARGE);
	if (rc != MICA_OK)
		panic("vm: cannot map RAM 0x%lx-0x%lx (error %s)", start, end - 1,
		      mica_error_name(rc));
}

/* Map a part of the kernel image at its link address, or panic. */
static void map_image(const char *what, const void *start, const void *end, unsigned flags)
{
	uint64_t n = ((uint64_t)end - (uint64_t)start) >> MICA_PAGE_SHIFT;

	if (n == 0)
		return;
	int rc = pt_map(kernel_root, (vaddr_t)start, kimage_to_phys(start), n, flags | PT_GLOBAL);
	if (rc != MICA_OK)
		panic("vm: cannot map kernel %s (error %s)", what, mica_error_name(rc));
}

/* The rights of a mapped kernel address as "rwx" letters in s, for the log. */
static const char *rights(vaddr_t va, char s[4])
{
	unsigned f;

	if (pt_translate(kernel_root, va, NULL, &f) != MICA_OK)
		return "---";
	s[0] = 'r';
	s[1] = (f & PT_WRITE) ? 'w' : '-';
	s[2] = (f & PT_EXEC) ? 'x' : '-';
	s[3] = '\0';
	return s;
}

/*
 * Build the kernel address space and switch to it. Runs on the boot page
 * tables; page-table frames come from the frame bitmap, which hands out
 * low frames first, so they are reachable through the boot map's view of
 * the low 4 GiB until the switch.
 */
void vm_init(const struct memmap *m)
{
	uint64_t large = 0, small = 0;

	if (frame_alloc(&kernel_root) != MICA_OK)
		panic("vm: no frame for the kernel PML4");
	memset(phys_to_virt(kernel_root), 0, MICA_PAGE_SIZE);

	/* The kernel-half PML4 slots, made once: every address space shares them. */
	for (paddr_t pa = 0; pa < memmap_end(m); pa += 1UL << 39)
		if (pt_kernel_slot_create(kernel_root, MICA_DIRECT_MAP_BASE + pa) != MICA_OK)
			panic("vm: no frame for a direct-map table");
	if (pt_kernel_slot_create(kernel_root, MICA_KERNEL_VBASE) != MICA_OK)
		panic("vm: no frame for the kernel image's table");

	/* The direct map, range by range, the kernel image's frames read-only. */
	paddr_t img_start = (paddr_t)__kernel_phys_start;
	paddr_t img_end = ALIGN_UP((paddr_t)__kernel_phys_end, MICA_PAGE_SIZE);
	for (size_t i = 0; i < m->nusable; i++) {
		const struct mem_range *r = &m->usable[i];

		map_direct(r->start, MIN(r->end, img_start), PT_WRITE);
		map_direct(MAX(r->start, img_start), MIN(r->end, img_end), 0);
		map_direct(MAX(r->start, img_end), r->end, PT_WRITE);
		for (paddr_t pa = r->start; pa < r->end;) {
			unsigned f = 0;

			(void)pt_translate(kernel_root, MICA_DIRECT_MAP_BASE + pa, NULL, &f);
			if (f & PT_LARGE) {
				large++;
				pa += MICA_LARGE_PAGE_SIZE;
			} else {
				small++;
				pa += MICA_PAGE_SIZE;
			}
		}
	}

	/* The kernel image, W^X; the boot stack's guard page stays unmapped. */
	map_image("text", __text_start, __text_end, PT_EXEC);
	map_image("rodata", __rodata_start, __rodata_end, 0);
	map_image("data", __data_start, boot_stack_guard, PT_WRITE);
	map_image("bss", boot_stack_guard + MICA_PAGE_SIZE, __data_end, PT_WRITE);

	cpu_write_cr3(kernel_root);
	cpu_write_cr4(cpu_read_cr4() | CR4_PGE);

	kprintf("vm: direct map at 0x%lx: %lu x 2 MiB + %lu x 4 KiB pages\n",
	        (uint64_t)MICA_DIRECT_MAP_BASE, large, small);
	char r[4][4];
	kprintf("vm: kernel image at 0x%lx: text %s, rodata %s, data %s, stack guard %s\n",
	        (uint64_t)__text_start, rights((vaddr_t)__text_start, r[0]),
	        rights((vaddr_t)__rodata_start, r[1]), rights((vaddr_t)boot_stack, r[2]),
	        rights((vaddr_t)boot_stack_guard, r[3]));
}
