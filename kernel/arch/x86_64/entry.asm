; Kernel entry and exit for system calls, the return path shared with
; exceptions and interrupts, and the kernel-stack switch between threads.
;
; Every entry from user mode leaves a struct trap_frame (trap.h) at the top
; of the thread's kernel stack; the kernel runs with interrupts off.
;
; RFLAGS: the kernel never runs with a flag user code chose. syscall clears
; every flag through MSR_FMASK (percpu.c), isr.asm loads RFLAGS_KERNEL on
; every exception and interrupt, and cpu_switch keeps each thread's own
; kernel RFLAGS. Every return to user mode (sysret and iretq) passes the
; user's RFLAGS through RFLAGS_USER_MASK and sets IF (docs/ABI.md).

%include "layout.inc"

%define CPU_KERNEL_RSP  8
%define CPU_USER_RSP    16
%define USER_CS         (0x20 | 3)
%define USER_SS         (0x18 | 3)
%define SYSCALL_VECTOR  0x100           ; trap_frame.vector of a system call
%define RFLAGS_KERNEL   0x2             ; only the always-one bit 1 (cpu.h)
%define RFLAGS_USER_SET 0x202           ; IF and bit 1: always set in user mode
; What user code may keep: CF PF AF ZF SF TF DF OF AC ID (cpu.h RFLAGS_USER_MASK)
%define RFLAGS_USER_MASK 0x240DD5

; trap_frame offsets once every register is pushed
%define F_RIP           (17 * 8)
%define F_CS            (18 * 8)
%define F_RFLAGS        (19 * 8)
%define F_RSP           (20 * 8)

bits 64
section .text
extern syscall_dispatch
global syscall_entry, trap_return, cpu_switch, thread_first_return

%include "trapframe.inc"               ; PUSH_GPRS, POP_GPRS

; syscall: RCX = user RIP, R11 = user RFLAGS, interrupts masked by FMASK.
syscall_entry:
        swapgs
        mov [gs:CPU_USER_RSP], rsp
        mov rsp, [gs:CPU_KERNEL_RSP]
        push USER_SS
        push qword [gs:CPU_USER_RSP]
        push r11
        push USER_CS
        push rcx
        push 0                          ; error code
        push SYSCALL_VECTOR
        PUSH_GPRS
        mov rdi, rsp
        cld
        call syscall_dispatch
        ; sysret only to a user RIP below MICA_USER_TOP with the user code
        ; segment: a non-canonical RCX would fault in ring 0 on Intel CPUs.
        ; Anything else leaves through iretq.
        mov rax, MICA_USER_TOP
        cmp [rsp + F_RIP], rax
        jae trap_return
        cmp qword [rsp + F_CS], USER_CS
        jne trap_return
        POP_GPRS
        mov rcx, [rsp + 16]             ; RIP
        mov r11, [rsp + 32]             ; RFLAGS, sanitised: IOPL 0, no NT, RF, VM
        and r11d, RFLAGS_USER_MASK
        or r11d, RFLAGS_USER_SET
        mov rsp, [rsp + 40]             ; user RSP
        swapgs
        o64 sysret

; Return through the frame at RSP (exceptions, interrupts, new threads).
; iretq with RFLAGS.NT set would be a task return (a #GP in long mode), so
; the kernel's own RFLAGS are reset first, whatever happened before.
trap_return:
        push RFLAGS_KERNEL
        popfq
        POP_GPRS
        test byte [rsp + 24], 3         ; CS of the interrupted context
        jz .kernel
        and qword [rsp + 32], RFLAGS_USER_MASK
        or qword [rsp + 32], RFLAGS_USER_SET
        swapgs
.kernel:
        add rsp, 16                     ; vector and error code
        iretq

; A new thread's first switch lands here, on top of its trap frame.
thread_first_return:
        jmp trap_return

; void cpu_switch(uint64_t *save_rsp, uint64_t rsp)
; Save the callee-saved registers and RFLAGS on this stack, store RSP,
; switch to the other stack and restore its registers. Returns on the
; other thread. (thread.c push_switch_frame builds the same layout.)
cpu_switch:
        pushfq
        push rbp
        push rbx
        push r12
        push r13
        push r14
        push r15
        mov [rdi], rsp
        mov rsp, rsi
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbx
        pop rbp
        popfq
        ret

; No executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
