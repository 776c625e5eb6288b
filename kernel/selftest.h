/* Boot-time self-tests of the memory code, chosen on the command line. */
#ifndef KERNEL_SELFTEST_H
#define KERNEL_SELFTEST_H

#include "memmap.h"

void selftest_frames(const struct memmap *m, const struct mem_range *busy, size_t nbusy);

#endif /* KERNEL_SELFTEST_H */
