/* Reading the multiboot2 boot information into the kernel's own records. */
#ifndef ARCH_MB2_H
#define ARCH_MB2_H

#include "memmap.h"
#include "types.h"

#define MB2_MAX_MODULES   32
#define MB2_MAX_INFO_SIZE (1u << 20) /* a larger boot information is refused */

struct mb2_module {
	paddr_t start, end; /* [start, end) */
	const char *cmdline;
};

/* What the kernel keeps of the boot information. Strings point into it. */
struct boot_info {
	const char *cmdline;
	const char *loader;
	struct mb2_module module[MB2_MAX_MODULES];
	size_t nmodules;
	size_t modules_dropped; /* modules past MB2_MAX_MODULES */
};

const char *mb2_parse(const void *info, struct boot_info *bi, struct memmap *map);

#endif /* ARCH_MB2_H */
