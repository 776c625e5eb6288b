/* CPU exceptions: the IDT and the saved state of an interrupted context. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include "types.h"

/* Laid out by isr.asm: registers it pushes, then what the CPU pushed. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define TRAP_PF 14

void idt_init(void);
void trap_handler(struct trap_frame *f);
const char *trap_name(uint64_t vector);

#endif /* ARCH_TRAP_H */
