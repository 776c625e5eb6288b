/* Starting the first user task from a GRUB module. */
#ifndef KERNEL_BOOTTASK_H
#define KERNEL_BOOTTASK_H

#include "mb2.h"

void boottask_start(const struct mb2_module *m);

#endif /* KERNEL_BOOTTASK_H */
