/*
 * How a program starts: the registers and memory its first thread finds at
 * its ELF entry point, which the starter (the pager's spawn) sets up and the
 * runtime's crt0 (runtime/crt0.c) reads. Test programs run as the first
 * task start differently (tests/user/lib/start.c: the boot-info page in RDI).
 *
 *   RDI  argc, >= 0
 *   RSI  argv: argc pointers to NUL-terminated strings, then a NULL pointer
 *   RDX  a struct mica_startup pointer, or 0 for none
 *   RSP  the top of the first thread's stack (crt0 aligns it to 16 bytes)
 *
 * Every other register is undefined. argv, its strings and the startup info
 * stay mapped, and the starter does not change them, for the life of the
 * program (the pager puts them on the initial stack, above RSP, or on a page
 * of their own); the program may write to them.
 */
#ifndef MICA_STARTUP_H
#define MICA_STARTUP_H

#include <mica/handle.h>
#include <stdint.h>

/* What else a program is given. Fields are only added at the end. */
struct mica_startup {
	uint32_t size;       /* bytes of this struct the starter filled in */
	mica_handle_t pager; /* the pager's endpoint in this task (MICA_HANDLE_NONE: none) */
};

_Static_assert(sizeof(struct mica_startup) == 8, "startup info layout");

#endif /* MICA_STARTUP_H */
