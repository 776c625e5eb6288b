/*
 * Host unit tests for servers/pager/elf.c: a well-formed image like the
 * ones tests/user/user.ld links, then each rule broken once (every one
 * refused with MICA_ENOEXEC), and images at odd alignments.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <mica/layout.h>
#include <mica/memory.h>
#include "servers/pager/elf.h"

#define PAGE   MICA_PAGE_SIZE
#define NPH    3
#define IMGLEN (4 * PAGE)

/* An image: header, three program headers (text R+X, rodata R, data RW with bss). */
struct image {
	uint8_t bytes[IMGLEN + 8];
};

static struct mica_elf64_ehdr *eh(struct image *im)
{
	return (struct mica_elf64_ehdr *)im->bytes;
}

static struct mica_elf64_phdr *ph(struct image *im, int i)
{
	return (struct mica_elf64_phdr *)(im->bytes + sizeof(struct mica_elf64_ehdr)) + i;
}

static void good(struct image *im)
{
	memset(im, 0, sizeof(*im));
	struct mica_elf64_ehdr *e = eh(im);

	memcpy(e->e_ident,
	       "\x7f"
	       "ELF",
	       4);
	e->e_ident[MICA_EI_CLASS] = MICA_ELFCLASS64;
	e->e_ident[MICA_EI_DATA] = MICA_ELFDATA2LSB;
	e->e_ident[MICA_EI_VERSION] = MICA_EV_CURRENT;
	e->e_type = MICA_ET_EXEC;
	e->e_machine = MICA_EM_X86_64;
	e->e_version = MICA_EV_CURRENT;
	e->e_entry = 0x400010;
	e->e_phoff = sizeof(*e);
	e->e_ehsize = sizeof(*e);
	e->e_phentsize = sizeof(struct mica_elf64_phdr);
	e->e_phnum = NPH;
	*ph(im, 0) = (struct mica_elf64_phdr){
	    MICA_PT_LOAD, MICA_PF_R | MICA_PF_X, 0, 0x400000, 0, PAGE + 100, PAGE + 100, PAGE};
	*ph(im, 1) =
	    (struct mica_elf64_phdr){MICA_PT_LOAD, MICA_PF_R, 2 * PAGE, 0x402000, 0, 64, 64, PAGE};
	*ph(im, 2) = (struct mica_elf64_phdr){
	    MICA_PT_LOAD, MICA_PF_R | MICA_PF_W, 3 * PAGE, 0x403000, 0, 200, 5 * PAGE, PAGE};
}

static void refused(struct image *im, const char *what)
{
	struct elf_seg segs[8];
	uint64_t entry = 0;
	int r = elf_read(im->bytes, IMGLEN, segs, 8, &entry);

	if (r != MICA_ENOEXEC)
		fail_msg("%s: got %d, expected MICA_ENOEXEC", what, r);
}

static void test_good_image(void **state)
{
	struct image im;
	struct elf_seg segs[8];
	uint64_t entry = 0;

	(void)state;
	good(&im);
	assert_int_equal(elf_read(im.bytes, IMGLEN, segs, 8, &entry), 3);
	assert_int_equal(entry, 0x400010);
	assert_int_equal(segs[0].rights, MICA_MAP_READ | MICA_MAP_EXEC);
	assert_int_equal(segs[1].rights, MICA_MAP_READ);
	assert_int_equal(segs[2].rights, MICA_MAP_READ | MICA_MAP_WRITE);
	assert_int_equal(segs[2].vaddr, 0x403000);
	assert_int_equal(segs[2].memsz, 5 * PAGE);
	assert_int_equal(segs[2].offset, 3 * PAGE);
	assert_int_equal(segs[2].filesz, 200);
	/* Other segment types and empty ones are skipped. */
	ph(&im, 1)->p_type = MICA_PT_NOTE;
	assert_int_equal(elf_read(im.bytes, IMGLEN, segs, 8, &entry), 2);
	ph(&im, 1)->p_type = MICA_PT_LOAD;
	ph(&im, 1)->p_memsz = ph(&im, 1)->p_filesz = 0;
	assert_int_equal(elf_read(im.bytes, IMGLEN, segs, 8, &entry), 2);
}

static void test_unaligned_image(void **state)
{
	struct image im, shifted;
	struct elf_seg segs[8];
	uint64_t entry = 0;

	(void)state;
	good(&im);
	for (int off = 1; off < 8; off++) {
		memset(&shifted, 0, sizeof(shifted));
		memcpy(shifted.bytes + off, im.bytes, IMGLEN);
		assert_int_equal(elf_read(shifted.bytes + off, IMGLEN, segs, 8, &entry), 3);
	}
}

static void test_every_rule(void **state)
{
	struct image im;
	struct elf_seg segs[8];
	uint64_t entry;

	(void)state;
	assert_int_equal(elf_read(NULL, IMGLEN, segs, 8, &entry), MICA_ENOEXEC);
	good(&im);
	assert_int_equal(elf_read(im.bytes, sizeof(struct mica_elf64_ehdr) - 1, segs, 8, &entry),
	                 MICA_ENOEXEC);
	/* The program headers cut by the file's end. */
	assert_int_equal(elf_read(im.bytes, sizeof(struct mica_elf64_ehdr) + 100, segs, 8, &entry),
	                 MICA_ENOEXEC);
	/* Too many segments for the room given. */
	assert_int_equal(elf_read(im.bytes, IMGLEN, segs, 2, &entry), MICA_ENOEXEC);

#define BREAK(what, stmt)                                                                          \
	do {                                                                                       \
		good(&im);                                                                         \
		stmt;                                                                              \
		refused(&im, what);                                                                \
	} while (0)
	BREAK("magic", eh(&im)->e_ident[1] = 'e');
	BREAK("class", eh(&im)->e_ident[MICA_EI_CLASS] = 1);
	BREAK("data", eh(&im)->e_ident[MICA_EI_DATA] = 2);
	BREAK("ident version", eh(&im)->e_ident[MICA_EI_VERSION] = 0);
	BREAK("type", eh(&im)->e_type = MICA_ET_DYN);
	BREAK("machine", eh(&im)->e_machine = 3);
	BREAK("version", eh(&im)->e_version = 2);
	BREAK("phentsize", eh(&im)->e_phentsize = 32);
	BREAK("phnum xnum", eh(&im)->e_phnum = MICA_PN_XNUM);
	BREAK("phoff past the end", eh(&im)->e_phoff = IMGLEN + 1);
	BREAK("phoff huge", eh(&im)->e_phoff = UINT64_MAX - 10);
	BREAK("filesz > memsz", ph(&im, 2)->p_filesz = 6 * PAGE);
	BREAK("offset past the end", ph(&im, 1)->p_offset = IMGLEN + 1);
	BREAK("file part past the end", ph(&im, 2)->p_filesz = PAGE + 1);
	BREAK("offset wraps", (ph(&im, 1)->p_offset = UINT64_MAX, ph(&im, 1)->p_filesz = 2));
	BREAK("below the user half", ph(&im, 0)->p_vaddr = MICA_USER_BASE - PAGE);
	BREAK("past the user half", ph(&im, 2)->p_vaddr = MICA_USER_TOP - PAGE);
	BREAK("vaddr wraps", (ph(&im, 2)->p_vaddr = UINT64_MAX - PAGE));
	BREAK("kernel half", ph(&im, 2)->p_vaddr = 0xFFFF800000000000ULL);
	BREAK("write and execute", ph(&im, 0)->p_flags = MICA_PF_R | MICA_PF_W | MICA_PF_X);
	BREAK("pages shared", ph(&im, 1)->p_vaddr = 0x401800);
	BREAK("overlap", ph(&im, 2)->p_vaddr = 0x400000);
	BREAK("entry outside", eh(&im)->e_entry = 0x500000);
	BREAK("entry in data", eh(&im)->e_entry = 0x403000);
	BREAK("entry past text", eh(&im)->e_entry = 0x400000 + PAGE + 100);
	BREAK("no load segment",
	      (ph(&im, 0)->p_type = ph(&im, 1)->p_type = ph(&im, 2)->p_type = MICA_PT_NULL));
#undef BREAK
}

/*
 * elf_read_head: the headers within the bytes given (a program read
 * through a memory object's first page), and with ELF_MAPPED each
 * segment's offset and address agreeing within a page.
 */
static void test_read_head(void **state)
{
	struct image im;
	struct elf_seg segs[8];
	uint64_t entry = 0;
	const uint64_t phend =
	    sizeof(struct mica_elf64_ehdr) + NPH * sizeof(struct mica_elf64_phdr);

	(void)state;
	good(&im);
	/* The good image, its headers within the first page: accepted as elf_read does. */
	assert_int_equal(elf_read_head(im.bytes, PAGE, IMGLEN, segs, 8, &entry, ELF_MAPPED), 3);
	assert_int_equal(entry, 0x400010);
	assert_int_equal(segs[2].offset, 3 * PAGE);
	/* Exactly the headers given; a byte fewer and the last program header is cut. */
	assert_int_equal(elf_read_head(im.bytes, phend, IMGLEN, segs, 8, &entry, ELF_MAPPED), 3);
	assert_int_equal(elf_read_head(im.bytes, phend - 1, IMGLEN, segs, 8, &entry, 0),
	                 MICA_ENOEXEC);
	/* More bytes than the file has count as the file's. */
	assert_int_equal(elf_read_head(im.bytes, 2 * IMGLEN, IMGLEN, segs, 8, &entry, 0), 3);
	/* Segments are still checked against the whole file, not the head. */
	ph(&im, 2)->p_offset = IMGLEN - 200;
	ph(&im, 2)->p_vaddr = 0x403000 + PAGE - 200;
	assert_int_equal(elf_read_head(im.bytes, PAGE, IMGLEN, segs, 8, &entry, ELF_MAPPED), 3);
	ph(&im, 2)->p_offset = IMGLEN - 10; /* past the end with its 200 bytes */
	assert_int_equal(elf_read_head(im.bytes, PAGE, IMGLEN, segs, 8, &entry, 0), MICA_ENOEXEC);
	/* An offset and an address that differ within their page: fine copied, not mapped. */
	good(&im);
	ph(&im, 1)->p_offset = 2 * PAGE + 8;
	assert_int_equal(elf_read(im.bytes, IMGLEN, segs, 8, &entry), 3);
	assert_int_equal(elf_read_head(im.bytes, PAGE, IMGLEN, segs, 8, &entry, 0), 3);
	assert_int_equal(elf_read_head(im.bytes, PAGE, IMGLEN, segs, 8, &entry, ELF_MAPPED),
	                 MICA_ENOEXEC);
	/* No bytes at all. */
	assert_int_equal(elf_read_head(im.bytes, 0, IMGLEN, segs, 8, &entry, 0), MICA_ENOEXEC);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_image),
	    cmocka_unit_test(test_unaligned_image),
	    cmocka_unit_test(test_every_rule),
	    cmocka_unit_test(test_read_head),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
