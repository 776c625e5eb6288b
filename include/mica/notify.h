/*
 * Notifications: a kernel object holding a word of bits, for events that
 * need no message (an interrupt, "input is ready", "a child ended").
 *
 *   notify_create()        -> a handle with SIGNAL, WAIT and COPY
 *   notify_signal(n, bits) ORs bits into the word; never blocks (SIGNAL)
 *   notify_wait(n, flags, timeout_ns)
 *                          blocks until some bit is set; returns the word
 *                          and clears it (WAIT). With MICA_NOTIFY_TIMEOUT
 *                          in flags, for at most timeout_ns (include/
 *                          mica/time.h), then MICA_ETIMEDOUT (0: at once
 *                          if no bit is set); without it, for ever
 *   notify_poll(n)         the same without blocking: 0 if no bit is set
 *   notify_bind(n)         binds n to the calling thread's receive (WAIT)
 *
 * The word has MICA_NOTIFY_BITS (63) bits, so a returned word is never
 * mistaken for an error. A handle minted with a badge (handle_mint) signals
 * its badge's bits, whatever bits the call passes: each signaller gets bits
 * of its own and the waiter sees who signalled.
 *
 * Bound: a thread bound to a notification that receives on an endpoint
 * (recv, try_recv, reply_recv) gets either a message or, when bits are
 * set, the notification: a message with label MICA_LABEL_NOTIFY (a kernel
 * label, which no user send can forge), word 0 the bits (now cleared),
 * badge 0, no buffer or handle. Bits already set when the receive starts
 * come first. A bound notification can still be waited on directly.
 */
#ifndef MICA_NOTIFY_H
#define MICA_NOTIFY_H

#include <mica/fault.h>

#define MICA_NOTIFY_BITS    0x7FFFFFFFFFFFFFFFULL   /* the bits a word can hold */
#define MICA_LABEL_NOTIFY   (MICA_LABEL_KERNEL + 3) /* a bound notification's receipt */
#define MICA_NOTIFY_TIMEOUT 1u                      /* notify_wait: timeout_ns bounds the wait */

#endif /* MICA_NOTIFY_H */
