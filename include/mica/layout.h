/*
 * Mica's virtual and physical memory layout: the constants that the kernel,
 * the boot code and user space agree on. docs/ARCHITECTURE.md draws them.
 *
 * Usable from C and from nasm-free preprocessed sources alike: plain
 * integer constants, no types.
 */
#ifndef MICA_LAYOUT_H
#define MICA_LAYOUT_H

/* Pages and frames: x86_64 4 KiB base pages and 2 MiB large pages. */
#define MICA_PAGE_SHIFT       12
#define MICA_PAGE_SIZE        (1UL << MICA_PAGE_SHIFT)
#define MICA_LARGE_PAGE_SHIFT 21
#define MICA_LARGE_PAGE_SIZE  (1UL << MICA_LARGE_PAGE_SHIFT)

/*
 * User half: canonical addresses with bit 47 clear. The first 4 MiB are
 * never mapped, so null-pointer (and small-offset) accesses fault.
 */
#define MICA_USER_BASE 0x0000000000400000UL
#define MICA_USER_TOP  0x0000800000000000UL /* first address past it */

/*
 * Kernel half. The direct map gives the kernel a view of every usable
 * physical frame at MICA_DIRECT_MAP_BASE + physical address. It fills
 * PML4 slots 256 and up, one slot per 512 GiB of physical address space.
 */
#define MICA_KERNEL_HALF     0xFFFF800000000000UL
#define MICA_DIRECT_MAP_BASE 0xFFFF800000000000UL
#define MICA_PHYS_LIMIT      (1UL << 40) /* 1 TiB: RAM above it is ignored */

/*
 * The kernel image is linked at MICA_KERNEL_VBASE + its load address (the
 * top 2 GiB, so that -mcmodel=kernel can use sign-extended 32-bit
 * addresses). GRUB loads it at MICA_KERNEL_LOAD (1 MiB).
 */
#define MICA_KERNEL_VBASE 0xFFFFFFFF80000000UL
#define MICA_KERNEL_LOAD  0x100000UL

/* The low 1 MiB (real-mode IVT, BIOS data, EBDA, ROMs) is never allocated. */
#define MICA_LOW_MEMORY_END 0x100000UL

/* The least usable RAM Mica boots with; below it the kernel stops. */
#define MICA_MIN_USABLE_RAM (24UL << 20)

#endif /* MICA_LAYOUT_H */
