/* CPU exceptions: the IDT and the saved state of an interrupted context. */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include "types.h"

/*
 * Laid out by isr.asm and entry.asm (trapframe.inc gives the offsets):
 * general registers, then the vector, then what the CPU pushes on an
 * interrupt. The system-call number and arguments come first, in struct
 * syscall_args order (syscall_abi.h), so a handler reads them in place.
 * A system call stores only rax, the arguments, rbx, r12-r15, rip, rflags
 * and rsp: rcx and r11 are clobbered by the instruction (RIP and RFLAGS
 * are kept instead), rbp is preserved by the C code it calls, and cs, ss
 * never change for a user thread (thread.c writes them once; an interrupt
 * from user mode writes the same); vector and error are an exception's.
 */
struct trap_frame {
	uint64_t rax, rdi, rsi, rdx, r10, r8, r9;
	uint64_t rbx, rbp, r12, r13, r14, r15, rcx, r11;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

#define TRAP_PF 14

void idt_init(void);
void trap_handler(struct trap_frame *f);
const char *trap_name(uint64_t vector);

#endif /* ARCH_TRAP_H */
