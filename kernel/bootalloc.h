/*
 * Boot (bump) allocator: early structures, such as the frame bitmap, are
 * carved from one arena before the frame allocator exists. Once the frame
 * bitmap is up, boot code marks the used part of the arena and closes it.
 */
#ifndef KERNEL_BOOTALLOC_H
#define KERNEL_BOOTALLOC_H

#include "types.h"

void bootalloc_init(paddr_t start, paddr_t end);
void *bootalloc(size_t size, size_t align);
void bootalloc_close(paddr_t *start, paddr_t *end);

#endif /* KERNEL_BOOTALLOC_H */
