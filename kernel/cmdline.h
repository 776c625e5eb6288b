/* The kernel command line from the boot loader: space-separated key=value words. */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include "types.h"

void cmdline_init(const char *s);
const char *cmdline_get(const char *key);
uint64_t cmdline_get_u64(const char *key, uint64_t dflt);
void cmdline_copy(char *out, size_t cap);

#endif /* KERNEL_CMDLINE_H */
