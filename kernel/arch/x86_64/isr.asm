; Entry stubs for the 32 exception vectors and the 16 legacy IRQs (vectors
; 32-47, the remapped 8259 PIC). Each pushes a zero error code if the CPU
; does not push one, then the vector number, swaps GS if it came from user
; mode, pushes every general register and calls trap_handler(struct
; trap_frame *) (trap.h). The way out is trap_return (entry.asm).
;
; The CPU clears TF, NT, RF, VM and IF when it enters through an interrupt
; gate, but not AC or DF: user code may set both. AC set in ring 0 would
; switch SMAP off, so every entry loads clean kernel RFLAGS (IF off) first.

bits 64
%include "trapframe.inc"

section .text
extern trap_handler
extern trap_return

%macro ISR_NOERR 1
isr%1:
        push 0
        push %1
        jmp isr_common
%endmacro

%macro ISR_ERR 1
isr%1:
        push %1
        jmp isr_common
%endmacro

; Vectors with a CPU error code (SDM vol. 3A, table 6-1): 8, 10-14, 17, 21, 29, 30.
ISR_NOERR 0
ISR_NOERR 1
ISR_NOERR 2
ISR_NOERR 3
ISR_NOERR 4
ISR_NOERR 5
ISR_NOERR 6
ISR_NOERR 7
ISR_ERR   8
ISR_NOERR 9
ISR_ERR   10
ISR_ERR   11
ISR_ERR   12
ISR_ERR   13
ISR_ERR   14
ISR_NOERR 15
ISR_NOERR 16
ISR_ERR   17
ISR_NOERR 18
ISR_NOERR 19
ISR_NOERR 20
ISR_ERR   21
ISR_NOERR 22
ISR_NOERR 23
ISR_NOERR 24
ISR_NOERR 25
ISR_NOERR 26
ISR_NOERR 27
ISR_NOERR 28
ISR_ERR   29
ISR_ERR   30
ISR_NOERR 31
%assign i 32
%rep 16
ISR_NOERR i
%assign i i + 1
%endrep

isr_common:
        push 0x2                        ; RFLAGS_KERNEL (entry.asm): no AC, DF, ...
        popfq
        test byte [rsp + 24], 3         ; CS: from user mode?
        jz .kernel
        swapgs
.kernel:
        PUSH_GPRS
        mov rdi, rsp
        call trap_handler
        jmp trap_return

section .rodata
global isr_stubs
isr_stubs:
%assign i 0
%rep 48
        dq isr %+ i
%assign i i + 1
%endrep

; No executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
