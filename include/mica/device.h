/*
 * Drivers in user space: interrupt lines and I/O ports as handles
 * (docs/DRIVERS.md). The first task (the pager) finds a handle to the
 * device authority (MICA_OBJ_DEVICES) in its boot info and makes from it
 * the handles it hands to drivers.
 *
 * Interrupts (ISA lines of the 8259 PIC, 1 to 15 but 2):
 *   irq_create(devices, line)  -> an interrupt handle (MANAGE, COPY); one
 *                                 per line while it lives (MICA_EBUSY)
 *   irq_bind(irq, n)           route the line to notification n (a handle
 *                              with SIGNAL; its badge, or bit 0 without
 *                              one, is what an interrupt signals) and
 *                              unmask it; MICA_HANDLE_NONE unbinds and masks
 *   irq_ack(irq)               unmask the line after an interrupt
 * A line is masked while no notification is bound, and from each interrupt
 * until the driver acknowledges it; acknowledging a line that has not
 * interrupted since is MICA_EINVAL. When the last handle goes (the driver
 * ended) the line is masked and free to be made again.
 *
 * I/O ports:
 *   ioport_create(devices, first, count) -> an I/O port handle (COPY) for
 *                                 ports [first, first + count); ranges of
 *                                 live handles never overlap (MICA_EBUSY)
 *   ioport_enable(ports)       let the caller's address space use in and
 *                              out on them (at most MICA_IOPORT_PER_ASPACE
 *                              ranges), for as long as it lives
 * A thread that uses in or out (or ins, outs) on a port its address space
 * was not given is killed: exit reason MICA_EXIT_PORT, code the port.
 */
#ifndef MICA_DEVICE_H
#define MICA_DEVICE_H

#define MICA_IRQ_LINES         16
#define MICA_IOPORT_COUNT      0x10000
#define MICA_IOPORT_PER_ASPACE 4

#endif /* MICA_DEVICE_H */
