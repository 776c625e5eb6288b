/*
 * Physical-to-virtual translation through the direct map. Every usable
 * frame is visible at MICA_DIRECT_MAP_BASE + its physical address; during
 * early boot the boot page tables give the same view of the low 4 GiB.
 * Host unit tests point it at a buffer that stands in for RAM.
 */
#ifndef KERNEL_PHYS_H
#define KERNEL_PHYS_H

#include <mica/layout.h>
#include "types.h"

#ifdef MICA_HOST
extern uint8_t *host_phys_base;
static inline void *phys_to_virt(paddr_t pa)
{
	return host_phys_base + pa;
}
static inline paddr_t virt_to_phys(const void *va)
{
	return (paddr_t)((const uint8_t *)va - host_phys_base);
}
#else
static inline void *phys_to_virt(paddr_t pa)
{
	return (void *)(pa + MICA_DIRECT_MAP_BASE);
}
static inline paddr_t virt_to_phys(const void *va)
{
	return (paddr_t)va - MICA_DIRECT_MAP_BASE;
}
#endif

#endif /* KERNEL_PHYS_H */
