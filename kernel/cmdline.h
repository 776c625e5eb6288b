/* The kernel command line from the boot loader: space-separated key=value words. */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

void cmdline_init(const char *s);
const char *cmdline_get(const char *key);

#endif /* KERNEL_CMDLINE_H */
