/*
 * The user CPU state a thread owns besides its general registers (those
 * are in its trap frame): the x87/MMX/SSE/AVX registers and the data
 * segment selectors DS, ES, FS and GS. ctx.c switches them between threads.
 */
#ifndef ARCH_CTX_H
#define ARCH_CTX_H

#include "types.h"

struct thread;

/* DS, ES, FS, GS as the thread last left them (a new thread: all null). */
struct ctx_segs {
	uint16_t ds, es, fs, gs;
};

/*
 * A thread's FPU area lives in its object's frame, after the object
 * (thread.h): no memory of its own. CTX_FPU_ALIGN is what XSAVE needs.
 */
#define CTX_FPU_ALIGN 64

void ctx_init(void);
const char *ctx_describe(void);
uint32_t ctx_fpu_size(void);
void ctx_thread_init(struct thread *t);
void ctx_switch(struct thread *prev, struct thread *next);
void ctx_forget(struct thread *t);

#endif /* ARCH_CTX_H */
