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
%define CPU_CURRENT     24              ; percpu.h; sched.c checks it
%define THREAD_PRIO     32              ; thread.h; sched.c checks it
%define THREAD_IPC_RESULT 144           ; thread.h; sched.c checks it
%define RFLAGS_KERNEL   0x2             ; only the always-one bit 1 (cpu.h)
%define RFLAGS_USER_SET 0x202           ; IF and bit 1: always set in user mode
; What user code may keep: CF PF AF ZF SF TF DF OF AC ID (cpu.h RFLAGS_USER_MASK)
%define RFLAGS_USER_MASK 0x240DD5
%define SYSCALL_ENOSYS  -12             ; MICA_ENOSYS (syscall.c checks it)

bits 64
section .text
extern syscall_table, syscall_count, sched_reap, sched_preempt, sched_dead, sched_nonempty
global syscall_entry, trap_return, cpu_switch, cpu_handoff, thread_first_return
global fastpath_resume, ipc_exit_frame

%include "trapframe.inc"               ; the frame's offsets, PUSH_GPRS, POP_GPRS

; syscall: RCX = user RIP, R11 = user RFLAGS, every flag cleared by FMASK
; (interrupts masked, DF clear). The frame at the top of the kernel stack
; gets only what the way back needs (trap.h): the number and arguments
; (which the handler reads in place as its struct syscall_args), rbx and
; r12-r15 (IPC descriptor and message registers, read and written there
; for other threads), RIP, RFLAGS and RSP. rbp and rbx come back as the
; C code preserved them; rcx and r11 are the ABI's to clobber.
syscall_entry:
        swapgs
        mov [gs:CPU_USER_RSP], rsp
        mov rsp, [gs:CPU_KERNEL_RSP]
        sub rsp, FRAME_SIZE
        mov [rsp + F_RIP], rcx
        mov [rsp + F_RFLAGS], r11
        mov rcx, [gs:CPU_USER_RSP]
        mov [rsp + F_RSP], rcx
        mov [rsp + F_RAX], rax
        mov [rsp + F_RDI], rdi
        mov [rsp + F_RSI], rsi
        mov [rsp + F_RDX], rdx
        mov [rsp + F_R10], r10
        mov [rsp + F_R8], r8
        mov [rsp + F_R9], r9
        mov [rsp + F_RBX], rbx
        mov [rsp + F_RBP], rbp          ; for fastpath_resume (cpu_handoff)
        mov [rsp + F_R12], r12
        mov [rsp + F_R13], r13
        mov [rsp + F_R14], r14
        mov [rsp + F_R15], r15
        ; Dispatch: syscall_table[nr](args), args = the frame (syscall.c:
        ; every entry below syscall_count is set).
        mov rdi, rsp
        cmp rax, [rel syscall_count]
        jae .nosys
        call [syscall_table + rax * 8]
        mov [rsp + F_RAX], rax
.done:
        ; What the call ended is freed before the caller goes on (sched_reap),
        ; and a thread the call woke may come first (sched_preempt): each
        ; called only when due (the tests sched_preempt and sched_reap make).
        cmp qword [rel sched_dead], 0
        je .reaped
        call sched_reap
.reaped:
        mov rax, [gs:CPU_CURRENT]
        movzx ecx, byte [rax + THREAD_PRIO]
        inc ecx
        mov eax, [rel sched_nonempty]   ; zero-extended: a higher priority's bit left?
        shr rax, cl
        jz .exit
        call sched_preempt
.exit:
        ; sysret only to a user RIP below MICA_USER_TOP: a non-canonical
        ; RCX would fault in ring 0 on Intel CPUs. Anything else leaves
        ; through iretq.
        mov rcx, [rsp + F_RIP]
        mov r11, MICA_USER_TOP
        cmp rcx, r11
        jae .iret
        mov r11, [rsp + F_RFLAGS]       ; sanitised: IOPL 0, no NT, RF, VM
        and r11d, RFLAGS_USER_MASK
        or r11d, RFLAGS_USER_SET
        mov rax, [rsp + F_RAX]
        mov rdi, [rsp + F_RDI]
        mov rsi, [rsp + F_RSI]
        mov rdx, [rsp + F_RDX]
        mov r10, [rsp + F_R10]
        mov r8, [rsp + F_R8]
        mov r9, [rsp + F_R9]
        mov r12, [rsp + F_R12]
        mov r13, [rsp + F_R13]
        mov r14, [rsp + F_R14]
        mov r15, [rsp + F_R15]
        mov rsp, [rsp + F_RSP]
        swapgs
        o64 sysret
.nosys:
        mov qword [rsp + F_RAX], SYSCALL_ENOSYS
        jmp .exit
.iret:
        ; The whole frame, as sysret would leave it: rcx the RIP, r11 the
        ; RFLAGS, rbp and rbx as preserved.
        mov [rsp + F_RCX], rcx
        mov r11, [rsp + F_RFLAGS]
        mov [rsp + F_R11], r11
        mov [rsp + F_RBP], rbp
        mov [rsp + F_RBX], rbx
        jmp trap_return

; The IPC fast path's way back (sched.c sched_ipc_handoff, cpu_handoff,
; ipcfast.asm): a thread that handed the CPU to its partner in a system
; call is resumed here, on its trap frame, with rbx and rbp as its call
; entered (from the frame), and its call returns its ipc_result.
; ipcfast.asm resumes such a thread without coming here (a sysret from
; its frame) when its partner hands the CPU back.
fastpath_resume:
        mov rbx, [rsp + F_RBX]
        mov rbp, [rsp + F_RBP]
        mov rax, [gs:CPU_CURRENT]
        mov rax, [rax + THREAD_IPC_RESULT]
        mov [rsp + F_RAX], rax
        jmp syscall_entry.done

; ipcfast.asm's way out when sysret may not be used: the frame at RSP, its
; result in it, rbx and rbp loaded (syscall_entry's exit, then iretq).
ipc_exit_frame:
        jmp syscall_entry.exit

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

; void cpu_handoff(uint64_t *save_rsp, struct trap_frame *frame, uint64_t rsp)
; The IPC fast path's switch (sched.c sched_ipc_handoff): the running thread
; is blocked in a system call that has nothing left to do but return its
; ipc_result, so it keeps no kernel context but its trap frame `frame`.
; Just below the frame goes a switch frame in cpu_switch's layout that
; resumes it at fastpath_resume (its kernel RFLAGS and return address
; only: fastpath_resume reloads rbx and rbp from the frame, the way out
; r12-r15; ipcfast.asm leaves the same); its address goes to *save_rsp.
; Then the other thread's registers come back from rsp as in
; cpu_switch. Does not return: what lay on this stack above the frame
; (this call's callers) is overwritten.
cpu_handoff:
        lea rax, [rsi - 64]
        mov qword [rax + 48], RFLAGS_KERNEL
        lea rcx, [rel fastpath_resume]
        mov [rax + 56], rcx
        mov [rdi], rax
        mov rsp, rdx
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
