/*
 * The boot-info page: what the kernel tells the first task (the pager).
 * The kernel maps it read-only at MICA_BOOTINFO_ADDR in the first task and
 * passes that address in RDI to its first thread.
 */
#ifndef MICA_BOOTINFO_H
#define MICA_BOOTINFO_H

#include <mica/handle.h>
#include <mica/layout.h>
#include <stdint.h>

#define MICA_BOOTINFO_MAGIC   0x544f4f4241434d49ULL /* "IMCABOOT" */
#define MICA_BOOTINFO_VERSION 2                     /* 2: the device authority */
#define MICA_BOOTINFO_ADDR    MICA_BOOT_STACK_TOP   /* one page, just above the boot stack */

#define MICA_BOOTINFO_MODULES  16
#define MICA_BOOTINFO_NAME_MAX 48
#define MICA_BOOTINFO_CMDLINE  128
#define MICA_BOOTINFO_RANGES   180 /* what fills the page */

/* A run of free frames of the user pool: [start, start + npages * 4 KiB). */
struct mica_bootinfo_range {
	uint64_t start;
	uint64_t npages;
};

/* Module flag: the kernel copied it into pool frames the pager may map (and later free). */
#define MICA_MODULE_IN_POOL (1u << 0)

/* A GRUB module: where it lies, how long it is, its command line. */
struct mica_bootinfo_module {
	uint64_t start; /* physical; page-aligned pool frames when MICA_MODULE_IN_POOL */
	uint32_t size;  /* bytes */
	uint32_t flags;
	char name[MICA_BOOTINFO_NAME_MAX]; /* NUL-terminated, cut if longer */
};

struct mica_bootinfo {
	uint64_t magic;   /* MICA_BOOTINFO_MAGIC */
	uint32_t version; /* MICA_BOOTINFO_VERSION */
	uint32_t size;    /* sizeof(struct mica_bootinfo) */
	/* The task's own handles. */
	mica_handle_t aspace; /* its address space: MEMORY, MANAGE, COPY */
	mica_handle_t thread; /* its first thread: MANAGE, COPY */
	uint32_t nmodules;
	uint32_t nranges;
	mica_handle_t devices; /* the device authority (include/mica/device.h): MANAGE, COPY */
	uint32_t reserved;
	/*
	 * The user pool: pool_total frames in all. pool_free of them are free,
	 * listed in range[]; the rest hold the modules' copies and the pages
	 * the kernel mapped for this task (its image, stack and this page).
	 */
	uint64_t pool_total;
	uint64_t pool_free;
	char cmdline[MICA_BOOTINFO_CMDLINE]; /* the kernel command line, cut if longer */
	struct mica_bootinfo_module module[MICA_BOOTINFO_MODULES];
	struct mica_bootinfo_range range[MICA_BOOTINFO_RANGES];
};

_Static_assert(sizeof(struct mica_bootinfo) <= MICA_PAGE_SIZE, "boot info fits one page");

#endif /* MICA_BOOTINFO_H */
