/* The one way the kernel reads or writes user memory. */
#ifndef KERNEL_USERCOPY_H
#define KERNEL_USERCOPY_H

#include "types.h"

int usercopy_from(void *dst, vaddr_t usrc, size_t n);
int usercopy_to(vaddr_t udst, const void *src, size_t n);

#endif /* KERNEL_USERCOPY_H */
