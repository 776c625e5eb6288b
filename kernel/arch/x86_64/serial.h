/* The COM1 serial port: the kernel's console. */
#ifndef ARCH_SERIAL_H
#define ARCH_SERIAL_H

#include <stddef.h>

void serial_init(void);
void serial_write(const char *s, size_t n);

#endif /* ARCH_SERIAL_H */
