/*
 * The user CPU state a thread owns besides its general registers (those
 * are in its trap frame): the x87/MMX/SSE/AVX registers and the data
 * segment selectors DS, ES, FS and GS. ctx.c switches them between threads.
 */
#ifndef ARCH_CTX_H
#define ARCH_CTX_H

#include "types.h"

struct thread;

/*
 * DS, ES, FS, GS as the thread last left them, packed into one word (DS in
 * bits 0-15, ES 16-31, FS 32-47, GS 48-63) so a switch compares them at
 * once; a new thread: all null (0).
 */
typedef uint64_t ctx_segs_t;

/*
 * A thread's FPU area lives in its block, after the object (thread.h): no
 * memory of its own. CTX_FPU_ALIGN is what XSAVE needs; CTX_FPU_MAX is the
 * room each thread has, the largest area ctx.c enables (x87, SSE and AVX:
 * 512 legacy bytes, the 64-byte XSAVE header, 256 bytes of AVX state).
 */
#define CTX_FPU_ALIGN 64
#define CTX_FPU_MAX   832

void ctx_init(void);
const char *ctx_describe(void);
uint32_t ctx_fpu_size(void);
void ctx_thread_init(struct thread *t);
void ctx_switch(struct thread *prev, struct thread *next);
void ctx_forget(struct thread *t);
void ctx_fs_base_set(uint64_t base);

#endif /* ARCH_CTX_H */
