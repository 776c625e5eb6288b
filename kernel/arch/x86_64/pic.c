/*
 * 8259 PIC pair remapped to vectors 32-47, all lines masked but those the
 * kernel unmasks, and the 8254 PIT channel 0 as the periodic timer. On one
 * CPU under QEMU these are the simplest timer source; the LAPIC timer can
 * replace them when Mica runs on several CPUs.
 */
#include "cpu.h"
#include "pic.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xA0
#define PIC2_DATA 0xA1
#define PIC_EOI   0x20
#define PIT_CH0   0x40
#define PIT_CMD   0x43
#define PIT_HZ    1193182u

static uint16_t mask = 0xFFFF & ~(1u << 2); /* line 2 chains the second PIC */
static uint64_t period_ns;                  /* of PIT channel 0, once programmed */

static void write_mask(void)
{
	outb(PIC1_DATA, (uint8_t)mask);
	outb(PIC2_DATA, (uint8_t)(mask >> 8));
}

/* Remap both PICs (ICW1-ICW4) and mask every line. */
void pic_init(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: initialize, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_BASE); /* ICW2: vector offsets */
	outb(PIC2_DATA, IRQ_BASE + 8);
	outb(PIC1_DATA, 4); /* ICW3: second PIC on line 2 */
	outb(PIC2_DATA, 2);
	outb(PIC1_DATA, 0x01); /* ICW4: 8086 mode */
	outb(PIC2_DATA, 0x01);
	write_mask();
}

void pic_unmask(unsigned irq)
{
	mask &= (uint16_t) ~(1u << irq);
	write_mask();
}

void pic_mask(unsigned irq)
{
	mask |= (uint16_t)(1u << irq);
	write_mask();
}

/* Acknowledge an IRQ so the PIC delivers the next one. */
void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

/* Program PIT channel 0 as a rate generator at hz interrupts a second. */
void pit_init(unsigned hz)
{
	unsigned divisor = PIT_HZ / hz;

	outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, (uint8_t)divisor);
	outb(PIT_CH0, (uint8_t)(divisor >> 8));
	/* Its true period, to the nearest ns (100 Hz: 11931 / 1193182 Hz = 9999313 ns). */
	period_ns = ((uint64_t)divisor * 1000000000u + PIT_HZ / 2) / PIT_HZ;
}

/* The time between two timer interrupts, in ns (the clock's resolution). */
uint64_t pit_period_ns(void)
{
	return period_ns;
}
