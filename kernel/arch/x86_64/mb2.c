/*
 * Multiboot2 boot information parser. The information comes from the boot
 * loader, so every size in it is checked before it is used: a tag must lie
 * inside the total size, and memory-map entries past the end of their tag
 * are ignored.
 */
#include <mica/error.h>
#include "mb2.h"
#include "multiboot2.h"

/*
 * Return a tag's string, or "" if it has no terminating NUL inside the
 * tag (a malformed tag must not make the kernel read past it).
 */
static const char *tag_string(const char *s, uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		if (s[i] == '\0')
			return s;
	return "";
}

static const char *parse_mmap(const struct mb2_tag_mmap *t, struct memmap *map)
{
	if (t->size < sizeof(*t))
		return "memory map tag is too short";
	if (t->entry_size < sizeof(struct mb2_mmap_entry) || t->entry_size % 8 != 0)
		return "memory map entry size is invalid";
	/* Whole entries inside the tag only. */
	uint32_t n = (t->size - (uint32_t)sizeof(*t)) / t->entry_size;
	const uint8_t *p = (const uint8_t *)(t + 1);
	for (uint32_t i = 0; i < n; i++, p += t->entry_size) {
		const struct mb2_mmap_entry *e = (const void *)p;

		if (memmap_add(map, e->base, e->length, e->type) != MICA_OK)
			return "memory map has too many entries";
	}
	return NULL;
}

/*
 * A module whose extent is unknown cannot be kept out of the frame
 * allocator, so a malformed module tag refuses the boot.
 */
static const char *parse_module(const struct mb2_tag_module *t, struct boot_info *bi)
{
	if (t->size < sizeof(*t) || t->mod_end < t->mod_start)
		return "boot information has a malformed module tag";
	if (bi->nmodules == MB2_MAX_MODULES) {
		bi->modules_dropped++;
		return NULL;
	}
	bi->module[bi->nmodules++] = (struct mb2_module){
	    t->mod_start, t->mod_end, tag_string(t->cmdline, t->size - (uint32_t)sizeof(*t))};
	return NULL;
}

/*
 * Read the boot information at `info` into bi and map. Returns NULL on
 * success, else a one-line reason the kernel cannot go on (no memory map,
 * a malformed tag). The memory map is recorded but not yet computed.
 */
const char *mb2_parse(const void *info, struct boot_info *bi, struct memmap *map)
{
	const struct mb2_info_header *h = info;
	bool have_mmap = false;

	*bi = (struct boot_info){.cmdline = "", .loader = ""};
	memmap_reset(map);
	/* The header: a sane total size. */
	if (h->total_size < sizeof(*h) + sizeof(struct mb2_tag) ||
	    h->total_size > MB2_MAX_INFO_SIZE)
		return "boot information has an invalid size";

	const uint8_t *base = info;
	uint32_t off = sizeof(*h);
	bool ended = false;
	while (off + sizeof(struct mb2_tag) <= h->total_size) {
		const struct mb2_tag *t = (const void *)(base + off);

		/* Each tag: at least a header, and inside the total size. */
		if (t->size < sizeof(*t) || t->size > h->total_size - off)
			return "boot information has a malformed tag";
		if (t->type == MB2_TAG_END) {
			ended = true;
			break;
		}
		const char *err = NULL;
		switch (t->type) {
		case MB2_TAG_CMDLINE:
			bi->cmdline = tag_string((const char *)(t + 1), t->size - sizeof(*t));
			break;
		case MB2_TAG_LOADER_NAME:
			bi->loader = tag_string((const char *)(t + 1), t->size - sizeof(*t));
			break;
		case MB2_TAG_MODULE:
			err = parse_module((const void *)t, bi);
			break;
		case MB2_TAG_MMAP:
			err = parse_mmap((const void *)t, map);
			have_mmap = true;
			break;
		default:
			break; /* tags the kernel does not use */
		}
		if (err)
			return err;
		off += (t->size + 7) & ~7u;
	}
	if (!ended)
		return "boot information has no end tag";
	if (!have_mmap)
		return "boot information has no memory map";
	return NULL;
}
