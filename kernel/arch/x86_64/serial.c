/* COM1 (I/O port 0x3F8), 115200 baud 8N1, written by polling. */
#include "cpu.h"
#include "serial.h"

#define COM1          0x3F8
#define LSR_THR_EMPTY 0x20

/* Program the UART; boot.asm did the same, this makes the kernel not rely on it. */
void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB on */
	outb(COM1 + 0, 0x01); /* divisor 1: 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1, DLAB off */
	outb(COM1 + 2, 0xC7); /* FIFOs on and cleared */
	outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void putc(char c)
{
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		;
	outb(COM1, (uint8_t)c);
}

/* Write n bytes, turning "\n" into "\r\n" for terminals. */
void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			putc('\r');
		putc(s[i]);
	}
}
