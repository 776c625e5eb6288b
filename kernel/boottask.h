/* Starting the first user task from a GRUB module. */
#ifndef KERNEL_BOOTTASK_H
#define KERNEL_BOOTTASK_H

#include "mb2.h"

void boottask_copy_modules(const struct boot_info *boot);
void boottask_start(const struct boot_info *boot);

#endif /* KERNEL_BOOTTASK_H */
