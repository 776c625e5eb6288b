/* Faults provoked on purpose (command line fault=KIND), to test the panic path. */
#ifndef KERNEL_CRASH_H
#define KERNEL_CRASH_H

void crash_run(const char *kind);

#endif /* KERNEL_CRASH_H */
