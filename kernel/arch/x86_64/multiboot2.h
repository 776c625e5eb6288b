/*
 * The multiboot2 boot information, as the specification lays it out:
 * a header (total size, reserved) then 8-byte-aligned tags ending with a
 * tag of type 0.
 */
#ifndef ARCH_MULTIBOOT2_H
#define ARCH_MULTIBOOT2_H

#include "types.h"

#define MB2_BOOTLOADER_MAGIC 0x36d76289u /* in EAX at entry */

#define MB2_TAG_END         0
#define MB2_TAG_CMDLINE     1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE      3
#define MB2_TAG_MMAP        6

struct mb2_info_header {
	uint32_t total_size;
	uint32_t reserved;
};

struct mb2_tag {
	uint32_t type;
	uint32_t size;
};

struct mb2_tag_string { /* cmdline and loader name */
	uint32_t type;
	uint32_t size;
	char string[];
};

struct mb2_tag_module {
	uint32_t type;
	uint32_t size;
	uint32_t mod_start;
	uint32_t mod_end;
	char cmdline[];
};

struct mb2_tag_mmap {
	uint32_t type;
	uint32_t size;
	uint32_t entry_size;
	uint32_t entry_version;
	/* entries follow, entry_size bytes apart */
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
};

#endif /* ARCH_MULTIBOOT2_H */
