/*
 * kmain: the boot sequence after boot.asm has reached the higher half.
 * Order matters: the boot information is read through the boot page
 * tables' view of the low 4 GiB, the frame bitmap is placed with the boot
 * allocator, and only then are the final page tables built.
 */
#include <mica/error.h>
#include <mica/layout.h>
#include "boottask.h"
#include "bootalloc.h"
#include "cmdline.h"
#include "cpu.h"
#include "crash.h"
#include "frame.h"
#include "gdt.h"
#include "kprintf.h"
#include "lib/string.h"
#include "mb2.h"
#include "mem.h"
#include "memmap.h"
#include "multiboot2.h"
#include "panic.h"
#include "percpu.h"
#include "phys.h"
#include "pool.h"
#include "pic.h"
#include "sched.h"
#include "selftest.h"
#include "serial.h"
#include "trace.h"
#include "trap.h"
#include "vm.h"

/* boot.asm maps the low 4 GiB; early structures must lie below this. */
#define BOOT_MAP_END (4ULL << 30)

void kmain(paddr_t mbi_pa, uint64_t entry_tsc);

/* The time stamp counter: under make bench's QEMU -icount, instructions since reset. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static struct memmap map;
static struct boot_info boot;

/* Print the loader's memory map: one E820 line per entry, ends inclusive. */
static void print_memmap(void)
{
	for (size_t i = 0; i < map.nentries; i++) {
		const struct memmap_entry *e = &map.entry[i];
		uint64_t last = e->length - 1 > ~0ULL - e->base ? ~0ULL : e->base + e->length - 1;

		if (e->length == 0) {
			kprintf("memmap: empty entry at 0x%lx ignored\n", e->base);
			continue;
		}
		if (e->type > MEMMAP_BAD)
			kprintf("E820: [mem 0x%lx-0x%lx] type %u\n", e->base, last, e->type);
		else
			kprintf("E820: [mem 0x%lx-0x%lx] %s\n", e->base, last,
			        memmap_type_name(e->type));
	}
}

/*
 * The physical ranges in use before the frame bitmap exists: the low MiB,
 * the kernel image, the boot information and the modules. Returns the count.
 */
static size_t boot_ranges(paddr_t mbi_pa, struct mem_range *r)
{
	size_t n = 0;
	const struct mb2_info_header *h = phys_to_virt(mbi_pa);

	r[n++] = (struct mem_range){0, MICA_LOW_MEMORY_END};
	r[n++] = (struct mem_range){(paddr_t)__kernel_phys_start, (paddr_t)__kernel_phys_end};
	r[n++] = (struct mem_range){mbi_pa, mbi_pa + h->total_size};
	for (size_t i = 0; i < boot.nmodules; i++)
		r[n++] = (struct mem_range){boot.module[i].start, boot.module[i].end};
	return n;
}

/*
 * The kernel's reserve unless the command line says otherwise (reserve=N
 * frames): a sixteenth of usable memory, at least 4 MiB. It holds every
 * kernel object and page table; the pager can add to it (donate).
 */
static uint64_t reserve_default(const struct memmap *m)
{
	return MAX(m->usable_frames / 16, 1024);
}

/*
 * Called by boot.asm in long mode, on the boot stack, with the time stamp
 * it read at the kernel's first instruction; never returns.
 */
void kmain(paddr_t mbi_pa, uint64_t entry_tsc)
{
	struct mem_range busy[4 + MB2_MAX_MODULES]; /* boot_ranges() and the bitmap */
	struct frame_stats st;
	const char *err;

	serial_init();
	gdt_init();
	idt_init();
	kprintf("mica: booting\n");

	/* What the boot loader tells us. */
	if (mbi_pa + MB2_MAX_INFO_SIZE > BOOT_MAP_END)
		boot_fail("the boot information lies above the boot page tables' 4 GiB");
	err = mb2_parse(phys_to_virt(mbi_pa), &boot, &map);
	if (err)
		boot_fail(err);
	kprintf("mica: loader \"%s\", command line \"%s\", %zu modules\n", boot.loader,
	        boot.cmdline, boot.nmodules);
	cmdline_init(boot.cmdline); /* after the line, so its cmdline: lines follow it */
	if (boot.modules_dropped)
		kprintf("mica: %zu modules beyond the first %d ignored\n", boot.modules_dropped,
		        MB2_MAX_MODULES);
	for (size_t i = 0; i < boot.nmodules; i++)
		kprintf("module: [mem 0x%lx-0x%lx] \"%s\"\n", boot.module[i].start,
		        boot.module[i].end - 1, boot.module[i].cmdline);
	print_memmap();
	if (memmap_compute(&map) != MICA_OK)
		boot_fail("the memory map has more ranges than Mica can hold");
	err = memmap_check(&map);
	if (err)
		boot_fail(err);

	/* The frame bitmap, placed by the boot allocator clear of everything in use. */
	size_t nbusy = boot_ranges(mbi_pa, busy);
	size_t meta = frame_meta_bytes(&map);
	paddr_t arena;
	if (memmap_find_free(&map, busy, nbusy, meta, BOOT_MAP_END, &arena) != MICA_OK)
		boot_fail("no room below 4 GiB for the frame bitmap");
	bootalloc_init(arena, arena + ALIGN_UP(meta, MICA_PAGE_SIZE));
	void *bits = bootalloc(meta, sizeof(uint64_t));
	if (!bits)
		panic("bootalloc: cannot allocate the frame bitmap");
	frame_init(&map, bits, meta);
	for (size_t i = 0; i < nbusy; i++)
		frame_mark_used(busy[i].start, busy[i].end);
	bootalloc_close(&busy[nbusy].start, &busy[nbusy].end);
	frame_mark_used(busy[nbusy].start, busy[nbusy].end);
	nbusy++;
	kprintf("memory: %lu KiB usable in %zu ranges, frame bitmap %zu bytes at 0x%lx\n",
	        map.usable_frames * (MICA_PAGE_SIZE / 1024), map.nusable, meta, arena);

	/* The kernel's own address space. */
	vm_init(&map);

	/* Threads: the per-CPU area, the timer, the idle thread. */
	percpu_init();
	pic_init();
	pit_init(SCHED_HZ);
	pic_unmask(IRQ_TIMER);
	sched_init();
	trace_init();

	/* The counts with the kernel complete, before any user task. */
	frame_stats(&st);
	kprintf(FRAME_STATS_LINE, st.total, st.free, st.used);

	const char *selftest = cmdline_get("selftest");
	if (selftest && strcmp(selftest, "frames") == 0)
		selftest_frames(&map, busy, nbusy);

	const char *fault = cmdline_get("fault");
	if (fault)
		crash_run(fault);

	/* The user pool: every free frame past the kernel's reserve (pool.c). */
	pool_init(&map, cmdline_get_u64("reserve", reserve_default(&map)));
	boottask_copy_modules(&boot);
	kprintf("pool: %lu frames for user space, %lu kept by the kernel\n", pool_total(),
	        frame_free_count());
	mem_stats_print();

	if (boot.nmodules > 0)
		boottask_start(&boot);

	/* The boot's time stamps (make bench subtracts the entry: boot.kernel_ready). */
	uint64_t ready_tsc = rdtsc();
	kprintf("boot: kernel_entry %lu\nboot: kernel_ready %lu\n", entry_tsc, ready_tsc);
	kprintf("kernel: ready\n");
	const char *ready = cmdline_get("ready");
	if (ready && strcmp(ready, "exit") == 0)
		cpu_qemu_exit(QEMU_EXIT_SUCCESS);
	sched_start();
}
