/*
 * Time: the clock user space reads (the clock system call) and the
 * timeouts it may wait with (the sleep system call, and an IPC descriptor
 * with MICA_IPC_TIMEOUT: ipc.h).
 *
 * The clock is the number of nanoseconds since the kernel started its
 * timer, monotonic, advancing in steps of one timer tick: the PIT at
 * about 100 Hz, one tick = 9,999,313 ns (1,193,182 Hz / 11,931). Under
 * QEMU it is QEMU's virtual time (with -icount, counted in instructions).
 *
 * A timeout is relative, in nanoseconds from the call, at most
 * MICA_TIMEOUT_MAX. The kernel rounds it up to whole ticks and adds one
 * (the tick already under way), so a wait that times out has lasted at
 * least the timeout, read on the clock or on any other.
 */
#ifndef MICA_TIME_H
#define MICA_TIME_H

#define MICA_NS_PER_US 1000ULL
#define MICA_NS_PER_MS 1000000ULL
#define MICA_NS_PER_S  1000000000ULL

/* The longest timeout, in ns (2^62, about 146 years); longer ones are MICA_EINVAL. */
#define MICA_TIMEOUT_MAX (1ULL << 62)

#endif /* MICA_TIME_H */
