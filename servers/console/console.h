/* The console's private interfaces: the UART (uart.c) and the input buffer (input.c). */
#ifndef CONSOLE_CONSOLE_H
#define CONSOLE_CONSOLE_H

#include <stdbool.h>
#include <stdint.h>

/* ---- uart.c: COM1, through the port handle init gave us ---- */

#define COM1 0x3F8

/* Take the ports and turn on the receive interrupt. 0, or the kernel's error. */
int uart_init(int32_t ports);
/* Write n bytes, waiting for the transmitter before each. */
void uart_write(const uint8_t *s, uint32_t n);
/* The next received byte, or -1 if none is waiting. */
int uart_getc(void);

/* ---- input.c: what was typed and not yet read ---- */

#define INPUT_MAX 4096

/* Take one typed byte (a '\r' becomes '\n'); it is echoed. */
void input_put(uint8_t c);
/* Bytes buffered now. */
uint32_t input_count(void);
/* Take up to max bytes (a whole line with `line`); returns how many (0: none yet). */
uint32_t input_take(uint8_t *out, uint32_t max, bool line);

#endif /* CONSOLE_CONSOLE_H */
