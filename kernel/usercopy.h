/* The one way the kernel reads or writes user memory. */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include "types.h"

int usercopy_from(void *dst, vaddr_t usrc, size_t n);
int usercopy_to(vaddr_t udst, const void *src, size_t n);
int usercopy_from_root(paddr_t root, void *dst, vaddr_t usrc, size_t n);
int usercopy_to_root(paddr_t root, vaddr_t udst, const void *src, size_t n);
int usercopy_check(paddr_t root, vaddr_t uva, size_t n, bool write);

#endif /* KERNEL_USERCOPY_H */
