/* Interrupt lines as handles, routed to notifications (include/mica/device.h). */
#ifndef KERNEL_IRQ_H
#define KERNEL_IRQ_H

#include "kobj.h"
#include "syscall_abi.h"

struct notification;

struct irq {
	struct kobj obj;          /* references: its handles */
	uint8_t line;             /* 0-15 */
	bool pending;             /* interrupted, masked until the driver acknowledges */
	struct notification *ntf; /* where it is routed (holds a reference), or NULL */
	uint64_t bits;            /* what it signals there */
};

extern struct kobj devices_authority;

void irq_interrupt(unsigned line);
void irq_release(struct irq *q);
void devices_release(struct kobj *o);

int64_t irq_sys_create(const struct syscall_args *s);
int64_t irq_sys_bind(const struct syscall_args *s);
int64_t irq_sys_ack(const struct syscall_args *s);

#endif /* KERNEL_IRQ_H */
