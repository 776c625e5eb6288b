/*
 * Mica's virtual and physical memory layout: the constants that the kernel,
 * its boot code, its linker script and user space agree on.
 * docs/ARCHITECTURE.md draws them.
 *
 * This header is also read by the linker script (through cpp) and by the
 * nasm boot code (build/gen/layout.inc is generated from it), so it holds
 * only macros, and MICA_UL drops C's integer suffix outside C.
 */
#ifndef MICA_LAYOUT_H
#define MICA_LAYOUT_H

#ifdef __ASSEMBLER__
#define MICA_UL(x) x
#else
#define MICA_UL(x) x##UL
#endif

/* Pages and frames: x86_64 4 KiB base pages and 2 MiB large pages. */
#define MICA_PAGE_SHIFT       12
#define MICA_PAGE_SIZE        (MICA_UL(1) << MICA_PAGE_SHIFT)
#define MICA_LARGE_PAGE_SHIFT 21
#define MICA_LARGE_PAGE_SIZE  (MICA_UL(1) << MICA_LARGE_PAGE_SHIFT)

/*
 * User half: canonical addresses with bit 47 clear. Nothing is ever mapped
 * below MICA_USER_BASE (the page-table code refuses it), so null-pointer
 * and small-offset accesses fault. The last page below 2^47 is not part of
 * it either: a syscall instruction there would return to a non-canonical
 * address, which sysret and iretq fault on in kernel mode.
 */
#define MICA_USER_BASE MICA_UL(0x0000000000400000)
#define MICA_USER_TOP  MICA_UL(0x00007FFFFFFFF000) /* first address past it */

/*
 * Kernel half. The direct map gives the kernel a view of every usable
 * physical frame at MICA_DIRECT_MAP_BASE + its physical address. It fills
 * PML4 slots 256 and up, one slot per 512 GiB of physical address space.
 */
#define MICA_KERNEL_HALF     MICA_UL(0xFFFF800000000000)
#define MICA_DIRECT_MAP_BASE MICA_UL(0xFFFF800000000000)
#define MICA_PHYS_LIMIT      (MICA_UL(1) << 40) /* 1 TiB: RAM above it is ignored */

/*
 * The kernel image is linked at MICA_KERNEL_VBASE + its load address (the
 * top 2 GiB, so that -mcmodel=kernel can use sign-extended 32-bit
 * addresses). GRUB loads it at MICA_KERNEL_LOAD (1 MiB).
 */
#define MICA_KERNEL_VBASE MICA_UL(0xFFFFFFFF80000000)
#define MICA_KERNEL_LOAD  MICA_UL(0x100000)

/* The first task's stack, mapped by the kernel (MICA_BOOT_STACK_SIZE below this). */
#define MICA_BOOT_STACK_TOP  MICA_UL(0x0000700000000000)
#define MICA_BOOT_STACK_SIZE (MICA_UL(64) << 10)

/* The low 1 MiB (real-mode IVT, BIOS data, EBDA, ROMs) is never allocated. */
#define MICA_LOW_MEMORY_END MICA_UL(0x100000)

/* The least usable RAM above 1 MiB that Mica boots with. */
#define MICA_MIN_USABLE_RAM (MICA_UL(24) << 20)

#endif /* MICA_LAYOUT_H */
