/*
 * Kernel image layout (preprocessed by cpp, so include/mica/layout.h's
 * constants are the only copy). The .boot sections run where GRUB loads them (1 MiB
 * up, virtual = physical); the rest is linked at MICA_KERNEL_VBASE +
 * physical. Text, read-only data and data get their own page-aligned
 * segments so that vm.c can map them W^X.
 */
#include <mica/layout.h>

OUTPUT_FORMAT(elf64-x86-64)
ENTRY(_start)

KERNEL_VBASE = MICA_KERNEL_VBASE;

PHDRS
{
	boot PT_LOAD FLAGS(7);
	text PT_LOAD FLAGS(5);
	rodata PT_LOAD FLAGS(4);
	data PT_LOAD FLAGS(6);
}

SECTIONS
{
	. = MICA_KERNEL_LOAD;
	__kernel_phys_start = .;
	.boot : {
		KEEP(*(.multiboot))
		*(.boot.text)
		*(.boot.data)
	} :boot
	.boot.bss (NOLOAD) : ALIGN(4096) {
		*(.boot.bss)
	} :boot

	. = ALIGN(MICA_PAGE_SIZE) + KERNEL_VBASE;

	.text : AT(ADDR(.text) - KERNEL_VBASE) {
		__text_start = .;
		*(.text .text.*)
		. = ALIGN(4096);
		__text_end = .;
	} :text

	.rodata : AT(ADDR(.rodata) - KERNEL_VBASE) {
		__rodata_start = .;
		*(.rodata .rodata.*)
		. = ALIGN(4096);
		__rodata_end = .;
	} :rodata

	.data : AT(ADDR(.data) - KERNEL_VBASE) {
		__data_start = .;
		*(.data .data.*)
	} :data

	.bss (NOLOAD) : AT(ADDR(.bss) - KERNEL_VBASE) ALIGN(4096) {
		*(.bss.stack)
		*(COMMON)
		*(.bss .bss.*)
		. = ALIGN(4096);
		__data_end = .;
	} :data

	__kernel_phys_end = . - KERNEL_VBASE;

	/DISCARD/ : {
		*(.comment)
		*(.note .note.*)
		*(.eh_frame .eh_frame_hdr)
	}
}
