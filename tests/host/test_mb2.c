/*
 * Host unit tests for kernel/arch/x86_64/mb2.c: multiboot2 boot information
 * built in memory, then parsed from a heap copy of exactly total_size bytes
 * so that AddressSanitizer catches any read past the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include "mb2.h"
#include "memmap.h"
#include "multiboot2.h"

/* ---- building boot information ---- */

#define BLOB_MAX (64 * 1024)

static _Alignas(8) uint8_t blob[BLOB_MAX];
static uint32_t blob_len;
static void *copy; /* the exact-size heap copy handed to mb2_parse */
static struct boot_info bi;
static struct memmap map;

/* Start a new, empty boot information. */
static void reset_blob(void)
{
	/* Non-zero filler: a string must not find a NUL in padding or beyond. */
	memset(blob, 'Z', sizeof(blob));
	blob_len = sizeof(struct mb2_info_header);
}

static int setup(void **state)
{
	(void)state;
	reset_blob();
	copy = NULL;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

/* Append a tag of `size` bytes (header included) and return it. */
static void *tag_begin(uint32_t type, uint32_t size)
{
	struct mb2_tag *t = (struct mb2_tag *)(blob + blob_len);

	assert_true(blob_len + size + 8 <= BLOB_MAX);
	t->type = type;
	t->size = size;
	blob_len += (size + 7) & ~7u;
	return t;
}

/* A string tag; `len` bytes of s are copied (include the NUL or not). */
static void tag_string(uint32_t type, const char *s, uint32_t len)
{
	struct mb2_tag_string *t = tag_begin(type, sizeof(struct mb2_tag) + len);

	memcpy(t->string, s, len);
}

static void tag_module(uint32_t start, uint32_t end, const char *cmdline, uint32_t len)
{
	struct mb2_tag_module *t = tag_begin(MB2_TAG_MODULE, sizeof(*t) + len);

	t->mod_start = start;
	t->mod_end = end;
	memcpy(t->cmdline, cmdline, len);
}

/*
 * A memory-map tag: n entries entry_size bytes apart, then `extra` bytes
 * of a partial entry (whose fields are set to look valid).
 */
static struct mb2_tag_mmap *tag_mmap(uint32_t entry_size, const struct mb2_mmap_entry *e, size_t n,
                                     uint32_t extra)
{
	uint32_t size = (uint32_t)(sizeof(struct mb2_tag_mmap) + n * entry_size + extra);
	struct mb2_tag_mmap *t = tag_begin(MB2_TAG_MMAP, size);
	uint8_t *p = (uint8_t *)(t + 1);

	t->entry_size = entry_size;
	t->entry_version = 0;
	for (size_t i = 0; i < n; i++, p += entry_size) {
		memset(p, 0xEE, entry_size);
		memcpy(p, &e[i], sizeof(e[i]));
	}
	/* A partial entry that would be read if the bound were wrong. */
	struct mb2_mmap_entry bogus = {0x7000000, 0x1000000, MEMMAP_AVAILABLE, 0};
	memcpy(p, &bogus, extra < sizeof(bogus) ? extra : sizeof(bogus));
	return t;
}

static void tag_end(void)
{
	tag_begin(MB2_TAG_END, 8);
}

/* Set total_size and parse an exact-size copy. */
static const char *parse_as(uint32_t total_size)
{
	struct mb2_info_header *h = (struct mb2_info_header *)blob;

	h->total_size = total_size;
	h->reserved = 0;
	free(copy);
	copy = malloc(total_size);
	assert_non_null(copy);
	memcpy(copy, blob, total_size);
	memset(&bi, 0xA5, sizeof(bi));
	return mb2_parse(copy, &bi, &map);
}

static const char *parse(void)
{
	return parse_as(blob_len);
}

static const struct mb2_mmap_entry qemu_map[] = {
    {0, 0x9fc00, MEMMAP_AVAILABLE, 0},
    {0x9fc00, 0x400, MEMMAP_RESERVED, 0},
    {0x100000, 0x7ee0000, MEMMAP_AVAILABLE, 0},
    {0xfffc0000, 0x40000, MEMMAP_RESERVED, 0},
};

static void expect_map(const struct mb2_mmap_entry *e, size_t n)
{
	assert_int_equal(map.nentries, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(map.entry[i].base, e[i].base);
		assert_int_equal(map.entry[i].length, e[i].length);
		assert_int_equal(map.entry[i].type, e[i].type);
	}
}

/* ---- tests ---- */

static void test_full_information(void **state)
{
	(void)state;
	static const char cmd[] = "console=serial test=boot";
	static const char loader[] = "GRUB 2.06";

	tag_string(MB2_TAG_CMDLINE, cmd, sizeof(cmd));
	tag_begin(21, 12); /* load base address: not used, skipped */
	tag_string(MB2_TAG_LOADER_NAME, loader, sizeof(loader));
	tag_module(0x200000, 0x280000, "init arg", 9);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 4, 0);
	tag_module(0x300000, 0x301000, "", 1);
	tag_end();
	assert_null(parse());

	assert_string_equal(bi.cmdline, cmd);
	assert_string_equal(bi.loader, loader);
	/* Strings point into the boot information itself. */
	assert_true((const uint8_t *)bi.cmdline > (const uint8_t *)copy &&
	            (const uint8_t *)bi.cmdline < (const uint8_t *)copy + blob_len);
	assert_int_equal(bi.nmodules, 2);
	assert_int_equal(bi.modules_dropped, 0);
	assert_int_equal(bi.module[0].start, 0x200000);
	assert_int_equal(bi.module[0].end, 0x280000);
	assert_string_equal(bi.module[0].cmdline, "init arg");
	assert_int_equal(bi.module[1].start, 0x300000);
	assert_int_equal(bi.module[1].end, 0x301000);
	assert_string_equal(bi.module[1].cmdline, "");
	expect_map(qemu_map, 4);
	/* Recorded, not computed. */
	assert_int_equal(map.nusable, 0);
}

static void test_minimal_information(void **state)
{
	(void)state;
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader, "");
	assert_int_equal(bi.nmodules, 0);
	assert_int_equal(bi.modules_dropped, 0);
	expect_map(qemu_map, 1);
}

static void test_mmap_entries_past_tag_end_ignored(void **state)
{
	(void)state;
	/* Two whole entries and 16 bytes of a third. */
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 16);
	tag_end();
	assert_null(parse());
	expect_map(qemu_map, 2);

	/* The same with 8 bytes (less than an entry's base and length). */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 3, 8);
	tag_end();
	assert_null(parse());
	expect_map(qemu_map, 3);

	/* An empty map tag: no entries at all. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 0, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(map.nentries, 0);
}

static void test_mmap_larger_entry_size(void **state)
{
	(void)state;
	/* A newer loader's 32-byte entries: the stride is entry_size. */
	tag_mmap(32, qemu_map, 4, 24);
	tag_end();
	assert_null(parse());
	expect_map(qemu_map, 4);
}

static void test_mmap_bad_entry_size_refused(void **state)
{
	(void)state;
	const uint32_t bad[] = {0, 8, 16, 20, 28, 33};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		reset_blob();
		struct mb2_tag_mmap *t = tag_mmap(24, qemu_map, 2, 0);
		t->entry_size = bad[i];
		tag_end();
		const char *why = parse();
		assert_non_null(why);
		assert_non_null(strstr(why, "entry size"));
	}
}

static void test_mmap_tag_too_short_refused(void **state)
{
	(void)state;
	const char *why;

	/*
	 * A map tag of 12 bytes: its padding holds what would be a valid
	 * entry_size, so a parser that did not check the tag's size would
	 * compute a huge entry count and read far past the end.
	 */
	struct mb2_tag_mmap *t = tag_begin(MB2_TAG_MMAP, 12);
	t->entry_size = 24;
	t->entry_version = 0;
	tag_end();
	why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "too short"));
	assert_int_equal(map.nentries, 0);

	/* Only a tag header, as the last bytes of the information. */
	reset_blob();
	tag_begin(MB2_TAG_MMAP, 8);
	why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "too short"));
}

static void test_mmap_too_many_entries_refused(void **state)
{
	(void)state;
	static struct mb2_mmap_entry many[MEMMAP_MAX_ENTRIES + 1];

	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = (struct mb2_mmap_entry){i * 0x2000, 0x1000, MEMMAP_AVAILABLE, 0};
	tag_mmap(sizeof(struct mb2_mmap_entry), many, MEMMAP_MAX_ENTRIES, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(map.nentries, MEMMAP_MAX_ENTRIES);

	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), many, MEMMAP_MAX_ENTRIES + 1, 0);
	tag_end();
	const char *why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "too many"));
}

static void test_missing_mmap_refused(void **state)
{
	(void)state;
	tag_string(MB2_TAG_CMDLINE, "x", 2);
	tag_module(0x200000, 0x201000, "m", 2);
	tag_end();
	const char *why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "no memory map"));
}

static void test_tags_after_end_ignored(void **state)
{
	(void)state;
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	tag_string(MB2_TAG_CMDLINE, "late", 5);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map + 1, 1, 0);
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");
	expect_map(qemu_map, 1);

	/* A map only after the end tag does not count. */
	reset_blob();
	tag_end();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	const char *why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "no memory map"));
}

static void test_tag_larger_than_total_refused(void **state)
{
	(void)state;
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	struct mb2_tag *t = tag_begin(MB2_TAG_CMDLINE, 16);
	memcpy(t + 1, "abcdefg", 8);
	tag_end();
	t->size = 1024; /* runs far past total_size */
	const char *why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "malformed"));

	/* One byte too large. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	t = tag_begin(MB2_TAG_CMDLINE, 16);
	memcpy(t + 1, "abcdefg", 8);
	uint32_t total = blob_len;
	t->size = 17;
	why = parse_as(total);
	assert_non_null(why);
	assert_non_null(strstr(why, "malformed"));

	/* The map tag itself larger than total_size: refused before its entries are read. */
	reset_blob();
	struct mb2_tag_mmap *m = tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	m->size += 24;
	why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "malformed"));
}

static void test_tag_smaller_than_header_refused(void **state)
{
	(void)state;
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	struct mb2_tag *t = tag_begin(MB2_TAG_CMDLINE, 8);
	t->size = 4; /* would never advance, or advance into itself */
	tag_end();
	const char *why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "malformed"));

	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	t = tag_begin(77, 8);
	t->size = 0;
	tag_end();
	why = parse();
	assert_non_null(why);
	assert_non_null(strstr(why, "malformed"));
}

static void test_bad_total_size_refused(void **state)
{
	(void)state;
	tag_end();
	const uint32_t bad[] = {0, 8, 15};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct mb2_info_header *h = (struct mb2_info_header *)blob;

		h->total_size = bad[i];
		memset(&bi, 0xA5, sizeof(bi));
		const char *why = mb2_parse(blob, &bi, &map);
		assert_non_null(why);
		assert_non_null(strstr(why, "size"));
	}
	/* Too large: refused from the header alone (the buffer is not that big). */
	struct mb2_info_header *h = (struct mb2_info_header *)blob;
	h->total_size = MB2_MAX_INFO_SIZE + 8;
	const char *why = mb2_parse(blob, &bi, &map);
	assert_non_null(why);
	assert_non_null(strstr(why, "size"));
	h->total_size = UINT32_MAX;
	why = mb2_parse(blob, &bi, &map);
	assert_non_null(why);
}

static void test_strings_without_nul(void **state)
{
	(void)state;
	tag_string(MB2_TAG_CMDLINE, "no terminator", 13);
	tag_string(MB2_TAG_LOADER_NAME, "GRUB", 4);
	tag_module(0x200000, 0x201000, "modarg", 6);
	tag_module(0x300000, 0x301000, "ok", 3);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");
	assert_string_equal(bi.loader, "");
	assert_int_equal(bi.nmodules, 2);
	assert_string_equal(bi.module[0].cmdline, "");
	assert_string_equal(bi.module[1].cmdline, "ok");

	/* Empty string tags (no bytes at all after the header). */
	reset_blob();
	tag_string(MB2_TAG_CMDLINE, "", 0);
	tag_module(0x200000, 0x201000, "", 0);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.nmodules, 1);
	assert_string_equal(bi.module[0].cmdline, "");

	/* No NUL inside the tag, but one right after it (the end tag's type). */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_string(MB2_TAG_CMDLINE, "12345678", 8);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");

	/* A NUL in the middle ends the string there. */
	reset_blob();
	tag_string(MB2_TAG_CMDLINE, "ab\0cd", 5);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "ab");
}

#define MALFORMED_MODULE "boot information has a malformed module tag"
#define NO_END_TAG       "boot information has no end tag"

static void test_modules_too_many(void **state)
{
	(void)state;
	/* MB2_MAX_MODULES + 3 good ones: the extra ones are counted, not kept. */
	for (uint32_t i = 0; i < MB2_MAX_MODULES + 3; i++)
		tag_module(0x1000000 + i * 0x1000, 0x1000000 + (i + 1) * 0x1000, "m", 2);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(bi.nmodules, MB2_MAX_MODULES);
	assert_int_equal(bi.modules_dropped, 3);
	for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
		assert_int_equal(bi.module[i].start, 0x1000000 + i * 0x1000);
		assert_int_equal(bi.module[i].end, 0x1000000 + (i + 1) * 0x1000);
	}

	/* An empty module (end == start) is well formed. */
	reset_blob();
	tag_module(0x200000, 0x200000, "empty", 6);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(bi.nmodules, 1);
	assert_int_equal(bi.module[0].start, 0x200000);
	assert_int_equal(bi.module[0].end, 0x200000);
	assert_string_equal(bi.module[0].cmdline, "empty");

	/* A tag of exactly the module fields, without a command line at all. */
	reset_blob();
	struct mb2_tag_module *t = tag_begin(MB2_TAG_MODULE, sizeof(*t));
	t->mod_start = 0x300000;
	t->mod_end = 0x301000;
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(bi.nmodules, 1);
	assert_int_equal(bi.module[0].end, 0x301000);
	assert_string_equal(bi.module[0].cmdline, "");
}

/*
 * A module whose extent is unknown cannot be kept out of the frame
 * allocator: a malformed module tag refuses the whole boot information.
 */
static void test_module_end_before_start_refused(void **state)
{
	(void)state;
	/* End before start, among good tags and before the map. */
	tag_module(0x200000, 0x201000, "good", 5);
	tag_module(0x400000, 0x300000, "backwards", 10);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_string_equal(parse(), MALFORMED_MODULE);

	/* One byte backwards, after the map. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_module(0x300001, 0x300000, "m", 2);
	tag_end();
	assert_string_equal(parse(), MALFORMED_MODULE);

	/* Extremes. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_module(UINT32_MAX, 0, "m", 2);
	tag_end();
	assert_string_equal(parse(), MALFORMED_MODULE);

	/* Still refused when the module table is already full. */
	reset_blob();
	for (uint32_t i = 0; i < MB2_MAX_MODULES + 1; i++)
		tag_module(0x1000000 + i * 0x1000, 0x1000000 + (i + 1) * 0x1000, "m", 2);
	tag_module(0x400000, 0x300000, "backwards", 10);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_string_equal(parse(), MALFORMED_MODULE);

	/* After the end tag it is not read at all. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	tag_module(0x400000, 0x300000, "backwards", 10);
	assert_null(parse());
	assert_int_equal(bi.nmodules, 0);
}

static void test_module_tag_too_short_refused(void **state)
{
	(void)state;
	/* Too short for its own fields: refused, and not read past (ASan). */
	tag_begin(MB2_TAG_MODULE, 12);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_end();
	assert_string_equal(parse(), MALFORMED_MODULE);

	/* Only a header; and one byte short of the fields. */
	const uint32_t sizes[] = {8, 9, sizeof(struct mb2_tag_module) - 1};
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		reset_blob();
		tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
		tag_begin(MB2_TAG_MODULE, sizes[i]);
		tag_end();
		assert_string_equal(parse(), MALFORMED_MODULE);
	}

	/* As the last bytes of the information, with end and start fields beyond it. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	tag_begin(MB2_TAG_MODULE, 8);
	assert_string_equal(parse(), MALFORMED_MODULE);
}

static void test_reparse_forgets_previous(void **state)
{
	(void)state;
	tag_string(MB2_TAG_CMDLINE, "first", 6);
	tag_module(0x200000, 0x201000, "m", 2);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 4, 0);
	tag_end();
	assert_null(parse());
	assert_int_equal(map.nentries, 4);

	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	tag_end();
	assert_null(parse());
	assert_string_equal(bi.cmdline, "");
	assert_int_equal(bi.nmodules, 0);
	expect_map(qemu_map, 2);
}

/*
 * No end tag inside total_size: refused, without reading past total_size
 * (ASan), and before the memory map is looked for.
 */
static void test_last_tag_without_end_tag(void **state)
{
	(void)state;
	/* total_size ends right after the map. */
	tag_string(MB2_TAG_CMDLINE, "c", 2);
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	assert_string_equal(parse(), NO_END_TAG);
	/* A total size that ends in the middle of the end tag's header. */
	reset_blob();
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 2, 0);
	tag_end();
	assert_string_equal(parse_as(blob_len - 4), NO_END_TAG);
	assert_string_equal(parse_as(blob_len - 1), NO_END_TAG);
	/* With the whole end tag it is accepted. */
	assert_null(parse_as(blob_len));
	expect_map(qemu_map, 2);
}

static void test_no_end_tag_refused(void **state)
{
	(void)state;
	/* Only the header and one tag, or a header and nothing but padding. */
	tag_mmap(sizeof(struct mb2_mmap_entry), qemu_map, 1, 0);
	assert_string_equal(parse(), NO_END_TAG);
	reset_blob();
	tag_string(MB2_TAG_CMDLINE, "x", 2);
	assert_string_equal(parse(), NO_END_TAG);

	/* Checked before the memory map: neither an end tag nor a map. */
	reset_blob();
	tag_string(MB2_TAG_CMDLINE, "x", 2);
	tag_module(0x200000, 0x201000, "m", 2);
	assert_string_equal(parse(), NO_END_TAG);
	reset_blob();
	tag_begin(77, 16);
	assert_string_equal(parse(), NO_END_TAG);

	/* An end tag but no map: the memory map is what is missing. */
	reset_blob();
	tag_end();
	assert_string_equal(parse(), "boot information has no memory map");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_full_information),
	    T(test_minimal_information),
	    T(test_mmap_entries_past_tag_end_ignored),
	    T(test_mmap_larger_entry_size),
	    T(test_mmap_bad_entry_size_refused),
	    T(test_mmap_tag_too_short_refused),
	    T(test_mmap_too_many_entries_refused),
	    T(test_missing_mmap_refused),
	    T(test_tags_after_end_ignored),
	    T(test_tag_larger_than_total_refused),
	    T(test_tag_smaller_than_header_refused),
	    T(test_bad_total_size_refused),
	    T(test_strings_without_nul),
	    T(test_modules_too_many),
	    T(test_module_end_before_start_refused),
	    T(test_module_tag_too_short_refused),
	    T(test_reparse_forgets_previous),
	    T(test_last_tag_without_end_tag),
	    T(test_no_end_tag_refused),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
