/*
 * Host unit tests for kernel/elf.c: ELF64 images built in memory, then
 * parsed from a heap copy of exactly their size so that AddressSanitizer
 * catches any read past the end. One test per refusal, with its reason;
 * random corruption of a valid image; and, if MICA_ELF_SAMPLE names one, a
 * real executable.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/elf.h>
#include <mica/error.h>
#include <mica/layout.h>
#include "elf.h"

/* ---- building images ---- */

#define BLOB_MAX  (64 * 1024)
#define PHDR_SIZE sizeof(struct mica_elf64_phdr)
#define PHOFF     sizeof(struct mica_elf64_ehdr) /* the table follows the header */

/* The good image: text R+X, then data RW with bss, entry in the text. */
#define TEXT_VADDR  0x401000UL
#define TEXT_OFFSET 0x1000UL
#define TEXT_SIZE   0x234UL
#define DATA_VADDR  0x403010UL
#define DATA_OFFSET 0x2010UL
#define DATA_FILESZ 0x30UL
#define DATA_MEMSZ  0x2000UL
#define ENTRY       0x401010UL
#define GOOD_SIZE   (DATA_OFFSET + DATA_FILESZ)

static _Alignas(8) uint8_t blob[BLOB_MAX];
static uint64_t blob_len;
static void *copy; /* the exact-size heap copy handed to elf_parse */
static struct elf_image img;
static const char *why;

static struct mica_elf64_ehdr *ehdr(void)
{
	return (struct mica_elf64_ehdr *)blob;
}

static struct mica_elf64_phdr *phdr(unsigned i)
{
	assert_true(PHOFF + (i + 1) * PHDR_SIZE <= BLOB_MAX);
	return (struct mica_elf64_phdr *)(blob + PHOFF + i * PHDR_SIZE);
}

/* A valid header with no program headers, in a file of `len` bytes. */
static void build_header(uint64_t len)
{
	struct mica_elf64_ehdr *h = ehdr();

	memset(blob, 0x5A, sizeof(blob));
	memset(h, 0, sizeof(*h));
	h->e_ident[MICA_EI_MAG0] = MICA_ELFMAG0;
	h->e_ident[MICA_EI_MAG1] = MICA_ELFMAG1;
	h->e_ident[MICA_EI_MAG2] = MICA_ELFMAG2;
	h->e_ident[MICA_EI_MAG3] = MICA_ELFMAG3;
	h->e_ident[MICA_EI_CLASS] = MICA_ELFCLASS64;
	h->e_ident[MICA_EI_DATA] = MICA_ELFDATA2LSB;
	h->e_ident[MICA_EI_VERSION] = MICA_EV_CURRENT;
	h->e_type = MICA_ET_EXEC;
	h->e_machine = MICA_EM_X86_64;
	h->e_version = MICA_EV_CURRENT;
	h->e_entry = ENTRY;
	h->e_phoff = PHOFF;
	h->e_ehsize = sizeof(*h);
	h->e_phentsize = PHDR_SIZE;
	h->e_shentsize = 64;
	blob_len = len;
}

/* Append program header number e_phnum. */
static struct mica_elf64_phdr *add_phdr(uint32_t type, uint32_t flags, uint64_t offset,
                                        uint64_t vaddr, uint64_t filesz, uint64_t memsz)
{
	struct mica_elf64_phdr *p = phdr(ehdr()->e_phnum++);

	*p = (struct mica_elf64_phdr){type, flags, offset, vaddr, vaddr, filesz, memsz, 0x1000};
	return p;
}

static struct mica_elf64_phdr *add_load(uint32_t flags, uint64_t offset, uint64_t vaddr,
                                        uint64_t filesz, uint64_t memsz)
{
	return add_phdr(MICA_PT_LOAD, flags, offset, vaddr, filesz, memsz);
}

/* The good image: phdr 0 is the text, phdr 1 the data. */
static void build_good(void)
{
	build_header(GOOD_SIZE);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	add_load(MICA_PF_R | MICA_PF_W, DATA_OFFSET, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
}

static int setup(void **state)
{
	(void)state;
	build_good();
	copy = NULL;
	why = "unset";
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free(copy);
	copy = NULL;
	return 0;
}

/* Parse an exact-size heap copy of the first `len` bytes of the blob. */
static int parse_as(uint64_t len)
{
	assert_true(len <= BLOB_MAX);
	free(copy);
	copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, blob, len);
	memset(&img, 0xA5, sizeof(img));
	why = "unset";
	return elf_parse(copy, len, &img, &why);
}

static int parse(void)
{
	return parse_as(blob_len);
}

static void assert_image_empty(const struct elf_image *im)
{
	static const struct elf_image zero;

	assert_memory_equal(im, &zero, sizeof(zero));
}

/* Parse the blob; it must be accepted (and the reason cleared). */
static void expect_ok(void)
{
	int err = parse();

	if (err != MICA_OK)
		fail_msg("refused (%d): %s", err, why ? why : "(no reason)");
	assert_null(why);
}

/* Parse the blob; it must be refused for `reason` and leave the image empty. */
static void expect_refused(const char *reason)
{
	assert_int_equal(parse(), MICA_ENOEXEC);
	assert_non_null(why);
	assert_string_equal(why, reason);
	assert_image_empty(&img);
}

/* Every promise elf_parse makes about an image it accepts. */
static void check_invariants(const struct elf_image *im, uint64_t size)
{
	bool entry_ok = false;

	assert_true(im->nseg >= 1 && im->nseg <= ELF_MAX_SEGMENTS);
	for (unsigned i = 0; i < im->nseg; i++) {
		const struct elf_segment *s = &im->seg[i];

		assert_true(s->memsz > 0);
		assert_true(s->filesz <= s->memsz);
		assert_true(s->offset <= size && s->filesz <= size - s->offset);
		assert_true(s->vaddr >= MICA_USER_BASE && s->vaddr < MICA_USER_TOP);
		assert_true(s->memsz <= MICA_USER_TOP - s->vaddr);
		assert_true(s->vaddr % MICA_PAGE_SIZE == s->offset % MICA_PAGE_SIZE);
		assert_false((s->flags & ELF_SEG_W) && (s->flags & ELF_SEG_X));
		assert_int_equal(s->flags & ~(ELF_SEG_R | ELF_SEG_W | ELF_SEG_X), 0);
		if (i > 0) {
			const struct elf_segment *p = &im->seg[i - 1];
			uint64_t prev_end =
			    (p->vaddr + p->memsz + MICA_PAGE_SIZE - 1) & ~(MICA_PAGE_SIZE - 1);

			assert_true((s->vaddr & ~(MICA_PAGE_SIZE - 1)) >= prev_end);
		}
		if ((s->flags & ELF_SEG_X) && im->entry >= s->vaddr &&
		    im->entry - s->vaddr < s->memsz)
			entry_ok = true;
	}
	assert_true(entry_ok);
}

/* ---- accepted images ---- */

static void test_good_image(void **state)
{
	(void)state;
	expect_ok();
	assert_null(why);
	assert_int_equal(img.entry, ENTRY);
	assert_int_equal(img.nseg, 2);

	assert_int_equal(img.seg[0].vaddr, TEXT_VADDR);
	assert_int_equal(img.seg[0].memsz, TEXT_SIZE);
	assert_int_equal(img.seg[0].offset, TEXT_OFFSET);
	assert_int_equal(img.seg[0].filesz, TEXT_SIZE);
	assert_int_equal(img.seg[0].flags, ELF_SEG_R | ELF_SEG_X);

	assert_int_equal(img.seg[1].vaddr, DATA_VADDR);
	assert_int_equal(img.seg[1].memsz, DATA_MEMSZ);
	assert_int_equal(img.seg[1].offset, DATA_OFFSET);
	assert_int_equal(img.seg[1].filesz, DATA_FILESZ);
	assert_int_equal(img.seg[1].flags, ELF_SEG_R | ELF_SEG_W);
	check_invariants(&img, blob_len);
}

static void test_reason_is_optional(void **state)
{
	(void)state;
	copy = malloc(blob_len);
	assert_non_null(copy);
	memcpy(copy, blob, blob_len);
	assert_int_equal(elf_parse(copy, blob_len, &img, NULL), MICA_OK);
	((uint8_t *)copy)[MICA_EI_CLASS] = 1;
	assert_int_equal(elf_parse(copy, blob_len, &img, NULL), MICA_ENOEXEC);
	assert_image_empty(&img);
}

static void test_unaligned_buffer(void **state)
{
	(void)state;
	/* An odd address: UBSan would report a misaligned header read. */
	copy = malloc(blob_len + 1);
	assert_non_null(copy);
	memcpy((uint8_t *)copy + 1, blob, blob_len);
	assert_int_equal(elf_parse((uint8_t *)copy + 1, blob_len, &img, &why), MICA_OK);
	assert_int_equal(img.nseg, 2);

	/* The program header table at an odd offset too. */
	memmove(blob + PHOFF + 3, blob + PHOFF, 2 * PHDR_SIZE);
	ehdr()->e_phoff = PHOFF + 3;
	expect_ok();
	assert_int_equal(img.nseg, 2);
}

static void test_segments_sorted(void **state)
{
	(void)state;
	/* Data first, an R-only segment last, text in the middle. */
	build_header(GOOD_SIZE);
	add_load(MICA_PF_R, 0, 0x406000, 0x100, 0x100);
	add_load(MICA_PF_R | MICA_PF_W, DATA_OFFSET, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	expect_ok();
	assert_int_equal(img.nseg, 3);
	assert_int_equal(img.seg[0].vaddr, TEXT_VADDR);
	assert_int_equal(img.seg[1].vaddr, DATA_VADDR);
	assert_int_equal(img.seg[2].vaddr, 0x406000);
	assert_int_equal(img.seg[2].flags, ELF_SEG_R);
	check_invariants(&img, blob_len);
}

static void test_other_headers_ignored(void **state)
{
	(void)state;
	/* Non-load headers with nonsense in them, around the loads. */
	build_header(GOOD_SIZE);
	add_phdr(MICA_PT_NOTE, 7, ~0UL, ~0UL, ~0UL, 1);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	add_phdr(MICA_PT_INTERP, 0, 0, 0, 0, 0);
	add_phdr(MICA_PT_TLS, MICA_PF_W | MICA_PF_X, 1, 2, 3, 4);
	add_phdr(0x6474e551, MICA_PF_R | MICA_PF_W, 0, 0, 0, 0); /* PT_GNU_STACK */
	add_load(MICA_PF_R | MICA_PF_W, DATA_OFFSET, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
	add_phdr(MICA_PT_NULL, 0, 0, 0, 0, 0);
	expect_ok();
	assert_int_equal(img.nseg, 2);
	assert_int_equal(img.seg[0].vaddr, TEXT_VADDR);
	assert_int_equal(img.seg[1].vaddr, DATA_VADDR);
}

static void test_empty_segment_skipped(void **state)
{
	(void)state;
	/* memsz 0: not checked, not returned, not counted against the limit. */
	add_load(MICA_PF_R | MICA_PF_W | MICA_PF_X, ~0UL, 0, 0, 0);
	add_load(MICA_PF_R, 0, TEXT_VADDR, 0, 0); /* would overlap the text */
	expect_ok();
	assert_int_equal(img.nseg, 2);

	build_header(GOOD_SIZE);
	for (unsigned i = 0; i < 3 * ELF_MAX_SEGMENTS; i++)
		add_load(MICA_PF_R, 0, MICA_USER_BASE, 0, 0);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	expect_ok();
	assert_int_equal(img.nseg, 1);
}

static void test_edges_accepted(void **state)
{
	(void)state;
	/* A segment ending exactly at the end of the file and at MICA_USER_TOP. */
	build_header(0x3000);
	add_load(MICA_PF_R | MICA_PF_X, 0, MICA_USER_BASE, 0x3000, 0x3000);
	add_load(MICA_PF_R | MICA_PF_W, 0x2000, MICA_USER_TOP - 0x1000, 0x1000, 0x1000);
	ehdr()->e_entry = MICA_USER_BASE + 0x2fff; /* the text's last byte */
	expect_ok();
	assert_int_equal(img.nseg, 2);
	check_invariants(&img, blob_len);

	/* Segments in neighbouring pages, and a file part of zero bytes. */
	build_header(GOOD_SIZE);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, 0x1000, 0x1000);
	add_load(MICA_PF_R | MICA_PF_W, 0x1ff0, TEXT_VADDR + 0x1ff0, 0, 0x10);
	expect_ok();
	assert_int_equal(img.nseg, 2);
	assert_int_equal(img.seg[1].filesz, 0);

	/* A program header table ending at the end of the file. */
	build_header(GOOD_SIZE);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	blob_len = PHOFF + PHDR_SIZE;
	phdr(0)->p_offset = 0;
	phdr(0)->p_filesz = blob_len;
	expect_ok();

	/* Exactly ELF_MAX_SEGMENTS segments. */
	build_header(GOOD_SIZE);
	for (unsigned i = 0; i < ELF_MAX_SEGMENTS; i++)
		add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR + i * 0x1000, 0x100, 0x100);
	expect_ok();
	assert_int_equal(img.nseg, ELF_MAX_SEGMENTS);
	check_invariants(&img, blob_len);
}

/* ---- refused images: the file header ---- */

static void test_too_small_refused(void **state)
{
	(void)state;
	static const uint64_t sizes[] = {0, 1, 16, PHOFF - 1};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		blob_len = sizes[i];
		expect_refused("file is too small for an ELF header");
	}
}

static void test_bad_magic_refused(void **state)
{
	(void)state;
	for (unsigned i = MICA_EI_MAG0; i <= MICA_EI_MAG3; i++) {
		build_good();
		blob[i] ^= 0x20; /* 'e' for 'E', and so on */
		expect_refused("not an ELF file (bad magic)");
	}
}

static void test_not_64bit_refused(void **state)
{
	(void)state;
	ehdr()->e_ident[MICA_EI_CLASS] = 1; /* ELFCLASS32 */
	expect_refused("not a 64-bit ELF file");
	ehdr()->e_ident[MICA_EI_CLASS] = 0;
	expect_refused("not a 64-bit ELF file");
}

static void test_big_endian_refused(void **state)
{
	(void)state;
	ehdr()->e_ident[MICA_EI_DATA] = 2; /* ELFDATA2MSB */
	expect_refused("not a little-endian ELF file");
	ehdr()->e_ident[MICA_EI_DATA] = 0;
	expect_refused("not a little-endian ELF file");
}

static void test_bad_version_refused(void **state)
{
	(void)state;
	ehdr()->e_ident[MICA_EI_VERSION] = 0;
	expect_refused("unknown ELF version");
	build_good();
	ehdr()->e_version = 2;
	expect_refused("unknown ELF version");
}

static void test_not_exec_refused(void **state)
{
	(void)state;
	static const uint16_t types[] = {0, 1 /* ET_REL */, MICA_ET_DYN, 4 /* ET_CORE */, 0xfe00};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		ehdr()->e_type = types[i];
		expect_refused("not a static executable (ET_EXEC)");
	}
}

static void test_not_x86_64_refused(void **state)
{
	(void)state;
	static const uint16_t machines[] = {0, 3 /* EM_386 */, 183 /* EM_AARCH64 */, 243};

	for (size_t i = 0; i < sizeof(machines) / sizeof(machines[0]); i++) {
		ehdr()->e_machine = machines[i];
		expect_refused("not x86_64");
	}
}

static void test_bad_phentsize_refused(void **state)
{
	(void)state;
	static const uint16_t sizes[] = {0, 32, 55, 57, 64, 0xffff};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ehdr()->e_phentsize = sizes[i];
		expect_refused("program header size is not 56 bytes");
	}
}

static void test_phnum_xnum_refused(void **state)
{
	(void)state;
	ehdr()->e_phnum = MICA_PN_XNUM;
	expect_refused("too many program headers (PN_XNUM)");
}

static void test_phdr_table_outside_file_refused(void **state)
{
	(void)state;
	const char *reason = "program header table is outside the file";

	/* One byte of the last header past the end. */
	blob_len = PHOFF + 2 * PHDR_SIZE - 1;
	expect_refused(reason);

	/* Starting past the end, or at it. */
	build_good();
	ehdr()->e_phoff = blob_len + 1;
	expect_refused(reason);
	ehdr()->e_phoff = blob_len;
	expect_refused(reason);

	/* An offset near 2^64: offset + table size wraps. */
	ehdr()->e_phoff = ~0UL - PHDR_SIZE + 2;
	expect_refused(reason);
	ehdr()->e_phoff = ~0UL;
	expect_refused(reason);

	/* More headers than the file holds. */
	build_good();
	ehdr()->e_phnum = 0xfffe;
	expect_refused(reason);
}

/* ---- refused images: the segments ---- */

static void test_too_many_segments_refused(void **state)
{
	(void)state;
	build_header(GOOD_SIZE);
	for (unsigned i = 0; i < ELF_MAX_SEGMENTS + 1; i++)
		add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR + i * 0x1000, 0x10, 0x10);
	expect_refused("too many loadable segments");
}

static void test_filesz_over_memsz_refused(void **state)
{
	(void)state;
	phdr(1)->p_filesz = DATA_MEMSZ + 1;
	expect_refused("segment file size exceeds its memory size");

	/* Even with memsz 0: the header contradicts itself. */
	build_good();
	phdr(0)->p_memsz = 0;
	expect_refused("segment file size exceeds its memory size");
}

static void test_segment_outside_file_refused(void **state)
{
	(void)state;
	const char *reason = "segment is outside the file";

	/* One byte past the end. */
	phdr(1)->p_filesz++;
	expect_refused(reason);

	/* Starting past the end. */
	build_good();
	phdr(1)->p_offset = GOOD_SIZE + 0x1000;
	phdr(1)->p_vaddr = DATA_VADDR + 0x1000;
	expect_refused(reason);

	/* offset + filesz wraps: offset inside, filesz huge (and memsz with it). */
	build_good();
	phdr(1)->p_filesz = ~0UL - 0x1000;
	phdr(1)->p_memsz = ~0UL - 0x1000;
	expect_refused(reason);

	/* Offset near 2^64 (congruent to the address, so no other check fires first). */
	build_good();
	phdr(1)->p_offset = ~0UL - 0xfef;
	expect_refused(reason);
}

static void test_segment_outside_user_half_refused(void **state)
{
	(void)state;
	const char *reason = "segment is outside the user address range";
	static const uint64_t bad_vaddr[] = {
	    0x10,                           /* page 0 */
	    MICA_USER_BASE - 0x1000 + 0x10, /* the page below MICA_USER_BASE */
	    MICA_USER_TOP + 0x10,           /* past the top of the user half */
	    0xFFFF800000000010UL,           /* kernel half */
	    0xFFFFFFFF80000010UL,           /* the kernel image */
	};

	for (size_t i = 0; i < sizeof(bad_vaddr) / sizeof(bad_vaddr[0]); i++) {
		build_good();
		phdr(1)->p_vaddr = bad_vaddr[i];
		expect_refused(reason);
	}

	/* Starting inside, ending one byte past MICA_USER_TOP. */
	build_good();
	phdr(1)->p_vaddr = MICA_USER_TOP - DATA_MEMSZ + 1;
	phdr(1)->p_offset = DATA_OFFSET + 1 - 0x10;
	expect_refused(reason);

	/* vaddr + memsz wraps past 2^64. */
	build_good();
	phdr(1)->p_memsz = ~0UL - 0x1000;
	expect_refused(reason);
	build_good();
	phdr(1)->p_vaddr = 0xFFFFFFFFFFFFF010UL;
	expect_refused(reason);
}

static void test_segment_not_congruent_refused(void **state)
{
	(void)state;
	const char *reason = "segment address and file offset differ modulo the page size";

	phdr(1)->p_vaddr++;
	expect_refused(reason);
	build_good();
	phdr(0)->p_offset = 0;
	phdr(0)->p_vaddr = TEXT_VADDR + 0x800; /* half a page off */
	ehdr()->e_entry = TEXT_VADDR + 0x810;
	expect_refused(reason);
}

static void test_writable_and_executable_refused(void **state)
{
	(void)state;
	phdr(1)->p_flags = MICA_PF_R | MICA_PF_W | MICA_PF_X;
	expect_refused("segment is writable and executable");
	build_good();
	phdr(0)->p_flags = MICA_PF_W | MICA_PF_X;
	expect_refused("segment is writable and executable");
}

static void test_overlapping_segments_refused(void **state)
{
	(void)state;
	const char *reason = "segments overlap";

	/* The data starting in the text's last page. */
	phdr(1)->p_vaddr = TEXT_VADDR + 0x800 + 0x10;
	phdr(1)->p_offset = 0x810;
	expect_refused(reason);

	/* The same address twice. */
	build_good();
	phdr(1)->p_vaddr = TEXT_VADDR;
	phdr(1)->p_offset = TEXT_OFFSET;
	expect_refused(reason);

	/* The data (bss) running into the page of a segment above it. */
	build_good();
	phdr(1)->p_memsz = 0x3000;
	add_load(MICA_PF_R, 0x10, 0x405010, 0x10, 0x10);
	expect_refused(reason);

	/* A segment inside another, listed last: found after sorting. */
	build_good();
	phdr(1)->p_memsz = 0x10000;
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, 0x408000, 0x10, 0x10);
	expect_refused(reason);
}

static void test_no_load_segment_refused(void **state)
{
	(void)state;
	const char *reason = "no loadable segment";

	build_header(GOOD_SIZE);
	expect_refused(reason); /* e_phnum 0 */
	add_phdr(MICA_PT_NOTE, MICA_PF_R, TEXT_OFFSET, TEXT_VADDR, 0x10, 0x10);
	expect_refused(reason);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, 0, 0); /* empty */
	expect_refused(reason);
}

static void test_entry_not_executable_refused(void **state)
{
	(void)state;
	const char *reason = "entry point is not in an executable segment";
	static const uint64_t bad_entry[] = {
	    0,
	    TEXT_VADDR - 1,
	    TEXT_VADDR + TEXT_SIZE, /* one past the text */
	    DATA_VADDR,             /* in the data */
	    DATA_VADDR + DATA_MEMSZ - 1,
	    ~0UL,
	};

	for (size_t i = 0; i < sizeof(bad_entry) / sizeof(bad_entry[0]); i++) {
		build_good();
		ehdr()->e_entry = bad_entry[i];
		expect_refused(reason);
	}

	/* No executable segment at all. */
	build_good();
	phdr(0)->p_flags = MICA_PF_R;
	expect_refused(reason);
}

/* ---- random corruption ---- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across hosts and C libraries. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DUL;
}

/* Parse a corrupted copy; either refused cleanly or every invariant holds. */
static bool fuzz_one(uint64_t len)
{
	int err = parse_as(len);

	if (err == MICA_OK) {
		assert_null(why);
		check_invariants(&img, len);
		return true;
	}
	assert_int_equal(err, MICA_ENOEXEC);
	assert_non_null(why);
	assert_true(strlen(why) > 0);
	assert_image_empty(&img);
	return false;
}

/* A good image with four loads and two other headers, as the base to corrupt. */
static void build_fuzz_base(void)
{
	build_header(GOOD_SIZE);
	add_load(MICA_PF_R | MICA_PF_X, TEXT_OFFSET, TEXT_VADDR, TEXT_SIZE, TEXT_SIZE);
	add_phdr(MICA_PT_NOTE, MICA_PF_R, 0x100, 0x400100, 0x20, 0x20);
	add_load(MICA_PF_R | MICA_PF_W, DATA_OFFSET, DATA_VADDR, DATA_FILESZ, DATA_MEMSZ);
	add_load(MICA_PF_R, 0x40, 0x406040, 0x100, 0x100);
	add_phdr(MICA_PT_TLS, MICA_PF_R, DATA_OFFSET, DATA_VADDR, 0x10, 0x20);
	add_load(MICA_PF_R | MICA_PF_X, 0, 0x408000, 0, 0x10);
}

static void test_fuzz_byte_flips(void **state)
{
	(void)state;
	uint8_t base[GOOD_SIZE];
	unsigned accepted = 0, refused = 0;
	uint64_t hot = PHOFF + 6 * PHDR_SIZE; /* header and program headers */

	build_fuzz_base();
	expect_ok();
	memcpy(base, blob, sizeof(base));
	rng_state = 0x6d696361656c6621UL;
	for (unsigned iter = 0; iter < 20000; iter++) {
		memcpy(blob, base, sizeof(base));
		unsigned flips = 1 + rng() % 8;
		for (unsigned f = 0; f < flips; f++) {
			/* Mostly in the headers, where the checks are. */
			uint64_t at = (rng() % 4) ? rng() % hot : rng() % sizeof(base);

			blob[at] ^=
			    (uint8_t)(1u << (rng() % 8)) | (uint8_t)((rng() % 3) ? 0 : rng());
		}
		/* Sometimes a truncated file. */
		uint64_t len = (rng() % 8) ? sizeof(base) : rng() % (sizeof(base) + 1);
		if (fuzz_one(len))
			accepted++;
		else
			refused++;
	}
	/* Both outcomes happen, or the test is not testing much. */
	assert_true(accepted > 100);
	assert_true(refused > 100);
}

/* Values at and around every bound elf_parse checks. */
static uint64_t interesting(void)
{
	static const uint64_t v[] = {
	    0,
	    1,
	    0xfff,
	    0x1000,
	    0x1010,
	    GOOD_SIZE - 1,
	    GOOD_SIZE,
	    GOOD_SIZE + 1,
	    MICA_USER_BASE - 1,
	    MICA_USER_BASE,
	    TEXT_VADDR,
	    DATA_VADDR,
	    MICA_USER_TOP - 0x1000,
	    MICA_USER_TOP - 1,
	    MICA_USER_TOP,
	    0x7fffffffffffffffUL,
	    0x8000000000000000UL,
	    ~0UL - 0xfff,
	    ~0UL,
	};

	if (rng() % 4 == 0)
		return rng();
	return v[rng() % (sizeof(v) / sizeof(v[0]))] + (rng() % 4 == 0 ? rng() % 0x40 : 0);
}

static void test_fuzz_header_fields(void **state)
{
	(void)state;
	uint8_t base[GOOD_SIZE];
	unsigned accepted = 0, refused = 0;

	build_fuzz_base();
	memcpy(base, blob, sizeof(base));
	rng_state = 0x5eed0fe1f5eed0feUL;
	for (unsigned iter = 0; iter < 20000; iter++) {
		memcpy(blob, base, sizeof(base));
		unsigned changes = 1 + rng() % 3;
		for (unsigned c = 0; c < changes; c++) {
			struct mica_elf64_phdr *p = phdr(rng() % 6);

			switch (rng() % 9) {
			case 0:
				p->p_offset = interesting();
				break;
			case 1:
				p->p_vaddr = interesting();
				break;
			case 2:
				p->p_filesz = interesting();
				break;
			case 3:
				p->p_memsz = interesting();
				break;
			case 4:
				p->p_flags = (uint32_t)rng() % 8;
				break;
			case 5:
				p->p_type = (uint32_t)rng() % 8;
				break;
			case 6:
				ehdr()->e_entry = interesting();
				break;
			case 7:
				ehdr()->e_phoff = interesting();
				break;
			default:
				ehdr()->e_phnum = (uint16_t)(rng() % 8);
				break;
			}
		}
		if (fuzz_one(sizeof(base)))
			accepted++;
		else
			refused++;
	}
	assert_true(accepted > 100);
	assert_true(refused > 100);
}

/* ---- a real executable ---- */

static void test_real_sample(void **state)
{
	(void)state;
	const char *path = getenv("MICA_ELF_SAMPLE");

	if (!path || !*path) {
		print_message("MICA_ELF_SAMPLE not set: no real executable parsed\n");
		skip();
	}
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long len = ftell(f);
	assert_true(len > 0);
	rewind(f);
	copy = malloc((size_t)len);
	assert_non_null(copy);
	assert_int_equal(fread(copy, 1, (size_t)len, f), (size_t)len);
	fclose(f);

	int err = elf_parse(copy, (uint64_t)len, &img, &why);
	if (err != MICA_OK)
		fail_msg("%s: refused: %s", path, why);
	check_invariants(&img, (uint64_t)len);
	print_message("%s: entry 0x%lx, %u segments\n", path, (unsigned long)img.entry, img.nseg);
	for (unsigned i = 0; i < img.nseg; i++)
		print_message("  0x%lx +0x%lx from 0x%lx +0x%lx %c%c%c\n",
		              (unsigned long)img.seg[i].vaddr, (unsigned long)img.seg[i].memsz,
		              (unsigned long)img.seg[i].offset, (unsigned long)img.seg[i].filesz,
		              (img.seg[i].flags & ELF_SEG_R) ? 'r' : '-',
		              (img.seg[i].flags & ELF_SEG_W) ? 'w' : '-',
		              (img.seg[i].flags & ELF_SEG_X) ? 'x' : '-');

	/*
	 * Prefixes of it: refused without reading past their end, or (when only
	 * what no segment loads is cut off, such as section headers) accepted.
	 */
	for (uint64_t cut = 0; cut < (uint64_t)len; cut += 1 + cut / 4) {
		void *part = malloc(cut ? cut : 1);

		assert_non_null(part);
		memcpy(part, copy, cut);
		struct elf_image tmp;
		const char *r = NULL;
		int e = elf_parse(part, cut, &tmp, &r);
		free(part);
		if (e == MICA_OK)
			check_invariants(&tmp, cut); /* the tail may be unloaded data */
		else
			assert_non_null(r);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_good_image),
	    T(test_reason_is_optional),
	    T(test_unaligned_buffer),
	    T(test_segments_sorted),
	    T(test_other_headers_ignored),
	    T(test_empty_segment_skipped),
	    T(test_edges_accepted),
	    T(test_too_small_refused),
	    T(test_bad_magic_refused),
	    T(test_not_64bit_refused),
	    T(test_big_endian_refused),
	    T(test_bad_version_refused),
	    T(test_not_exec_refused),
	    T(test_not_x86_64_refused),
	    T(test_bad_phentsize_refused),
	    T(test_phnum_xnum_refused),
	    T(test_phdr_table_outside_file_refused),
	    T(test_too_many_segments_refused),
	    T(test_filesz_over_memsz_refused),
	    T(test_segment_outside_file_refused),
	    T(test_segment_outside_user_half_refused),
	    T(test_segment_not_congruent_refused),
	    T(test_writable_and_executable_refused),
	    T(test_overlapping_segments_refused),
	    T(test_no_load_segment_refused),
	    T(test_entry_not_executable_refused),
	    T(test_fuzz_byte_flips),
	    T(test_fuzz_header_fields),
	    T(test_real_sample),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
