/* The kernel's memory interface (include/mica/memory.h); handlers in syscall.h. */
#ifndef KERNEL_MEM_H
#define KERNEL_MEM_H

#include <mica/memory.h>

void mem_stats(struct mica_mem_stats *st);
void mem_stats_print(void);

#endif /* KERNEL_MEM_H */
