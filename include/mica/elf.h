/*
 * The ELF64 file format, as far as Mica uses it: the file header and the
 * program headers of a static x86_64 executable. Field layouts follow the
 * ELF-64 object file format specification and the System V x86_64 ABI.
 * The constants carry a MICA_ prefix so that this header can sit beside a
 * host's <elf.h>, and so that PT_LOAD is not read as a page-table flag.
 */
#ifndef MICA_ELF_H
#define MICA_ELF_H

#include <stdint.h>

/* e_ident: the first 16 bytes, and the index of each field in them. */
#define MICA_EI_NIDENT     16
#define MICA_EI_MAG0       0 /* 0x7f */
#define MICA_EI_MAG1       1 /* 'E' */
#define MICA_EI_MAG2       2 /* 'L' */
#define MICA_EI_MAG3       3 /* 'F' */
#define MICA_EI_CLASS      4
#define MICA_EI_DATA       5
#define MICA_EI_VERSION    6
#define MICA_EI_OSABI      7
#define MICA_EI_ABIVERSION 8

#define MICA_ELFMAG0 0x7f
#define MICA_ELFMAG1 'E'
#define MICA_ELFMAG2 'L'
#define MICA_ELFMAG3 'F'

#define MICA_ELFCLASS64  2 /* e_ident[EI_CLASS]: 64-bit objects */
#define MICA_ELFDATA2LSB 1 /* e_ident[EI_DATA]: two's complement, little-endian */
#define MICA_EV_CURRENT  1 /* e_ident[EI_VERSION] and e_version */

/* e_type */
#define MICA_ET_EXEC 2 /* executable file (a static one: Mica has no dynamic linker) */
#define MICA_ET_DYN  3 /* shared object or position-independent executable */

/* e_machine */
#define MICA_EM_X86_64 62 /* AMD x86-64 */

/* e_phnum: the real count is elsewhere (section header 0); Mica refuses it. */
#define MICA_PN_XNUM 0xffff

/* The file header, at offset 0. */
struct mica_elf64_ehdr {
	uint8_t e_ident[MICA_EI_NIDENT]; /* magic, class, data encoding, version, ABI */
	uint16_t e_type;                 /* object file type (MICA_ET_*) */
	uint16_t e_machine;              /* architecture (MICA_EM_*) */
	uint32_t e_version;              /* object file version (MICA_EV_CURRENT) */
	uint64_t e_entry;                /* entry point virtual address */
	uint64_t e_phoff;                /* program header table file offset */
	uint64_t e_shoff;                /* section header table file offset */
	uint32_t e_flags;                /* processor-specific flags */
	uint16_t e_ehsize;               /* size of this header */
	uint16_t e_phentsize;            /* size of one program header */
	uint16_t e_phnum;                /* number of program headers */
	uint16_t e_shentsize;            /* size of one section header */
	uint16_t e_shnum;                /* number of section headers */
	uint16_t e_shstrndx;             /* section index of the section name table */
};

/* p_type */
#define MICA_PT_NULL    0 /* unused entry */
#define MICA_PT_LOAD    1 /* loadable segment */
#define MICA_PT_DYNAMIC 2 /* dynamic linking information */
#define MICA_PT_INTERP  3 /* program interpreter path */
#define MICA_PT_NOTE    4 /* auxiliary information */
#define MICA_PT_PHDR    6 /* the program header table itself */
#define MICA_PT_TLS     7 /* thread-local storage template */

/* p_flags */
#define MICA_PF_X 0x1 /* execute */
#define MICA_PF_W 0x2 /* write */
#define MICA_PF_R 0x4 /* read */

/* One program header: e_phnum of them, e_phentsize bytes apart, at e_phoff. */
struct mica_elf64_phdr {
	uint32_t p_type;   /* segment type (MICA_PT_*) */
	uint32_t p_flags;  /* segment rights (MICA_PF_*) */
	uint64_t p_offset; /* file offset of the segment's first byte */
	uint64_t p_vaddr;  /* virtual address of its first byte */
	uint64_t p_paddr;  /* physical address (unused) */
	uint64_t p_filesz; /* bytes in the file */
	uint64_t p_memsz;  /* bytes in memory: the rest, past p_filesz, is zeroed */
	uint64_t p_align;  /* alignment in the file and in memory */
};

_Static_assert(sizeof(struct mica_elf64_ehdr) == 64, "ELF64 file header is 64 bytes");
_Static_assert(sizeof(struct mica_elf64_phdr) == 56, "ELF64 program header is 56 bytes");

#endif /* MICA_ELF_H */
