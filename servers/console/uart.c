/*
 * The 16550 UART at COM1, polled for output and interrupting for input.
 * The kernel set its speed and line format at boot and still writes its
 * own lines and panics on it (by polling, as we do); we add the receive
 * interrupt and OUT2, which gates the UART's interrupt to the PIC.
 */
#include <libipc/syscall.h>

#include "console.h"

#define RBR 0 /* receive buffer (read) */
#define THR 0 /* transmit holding (write) */
#define IER 1 /* interrupt enable */
#define IIR 2 /* interrupt identification (read) */
#define MCR 4 /* modem control */
#define LSR 5 /* line status */

#define IER_RX       0x01 /* interrupt when a byte is received */
#define MCR_DTR_RTS  0x03
#define MCR_OUT2     0x08
#define LSR_DATA     0x01 /* a received byte waits */
#define LSR_TX_EMPTY 0x20 /* the transmitter takes a byte */

int uart_init(int32_t ports)
{
	int64_t r = mica_ioport_enable(ports);

	if (r < 0)
		return (int)r;
	while (uart_getc() >= 0)
		; /* what was typed before we ran is dropped */
	mica_outb(COM1 + MCR, MCR_DTR_RTS | MCR_OUT2);
	mica_outb(COM1 + IER, IER_RX);
	(void)mica_inb(COM1 + IIR);
	return 0;
}

void uart_write(const uint8_t *s, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		while (!(mica_inb(COM1 + LSR) & LSR_TX_EMPTY))
			;
		mica_outb(COM1 + THR, s[i]);
	}
}

int uart_getc(void)
{
	if (!(mica_inb(COM1 + LSR) & LSR_DATA))
		return -1;
	return mica_inb(COM1 + RBR);
}
