/* The legacy 8259 interrupt controllers and the 8254 timer (PIT). */
#ifndef ARCH_PIC_H
#define ARCH_PIC_H

#include "types.h"

#define IRQ_BASE  32 /* IRQ n arrives as vector IRQ_BASE + n */
#define IRQ_COUNT 16
#define IRQ_TIMER 0
#define IRQ_CHAIN 2 /* the second PIC's line on the first */

void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
void pit_init(unsigned hz);
uint64_t pit_period_ns(void);

#endif /* ARCH_PIC_H */
