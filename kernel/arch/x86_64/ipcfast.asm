; The IPC fast path in assembly: call and reply_recv with the message in
; registers only, to a partner that waits where the fast path itself left
; it. It checks, moves the message and switches in one place, and returns
; to the partner with sysret: the message never leaves the CPU registers.
;
; ipcfast_call and ipcfast_reply_recv are syscall_table's handlers for
; call and reply_recv (syscall.c). syscall_entry has stored the whole
; frame (every argument and message register, rbx, rbp, RIP, RFLAGS, RSP)
; and calls them with RDI = the frame, RSP = the frame - 8 (its return
; address); the message registers (RSI label, RDX R10 R8 R9 R12-R15 words
; 0-7) are still the caller's. Any check that fails, having changed
; nothing (but the running thread's saved selectors, which every switch
; away from it rewrites anyway), goes on to the C fast path
; (fastpath_call, fastpath_reply_recv in fastpath.c), which takes the same
; call exactly as before, and from there the general path (ipc.c), which
; gives every error code. So this file takes only the steady round trip:
;
;   - no descriptor on either side (RBX 0 here, and in the partner's
;     frame): no buffer, no handle to pass, no timeout, hence no deadline
;     on either side;
;   - a label user code may send (below MICA_LABEL_KERNEL);
;   - the partner blocked in a call or reply_recv that handed the CPU over
;     (its saved kernel stack pointer is a switch frame that resumes at
;     fastpath_resume): it keeps no kernel context but its trap frame, so
;     it can be resumed by a sysret from that frame. A thread blocked by
;     the C paths (sched_block: a first recv, a fault's call to its pager,
;     a timed wait) has C frames to unwind and goes by the C path;
;   - the partner at the running thread's priority: it takes the running
;     thread's place in its ring and the rest of its quantum, as
;     sched_ipc_handoff does. The running thread is one of the highest
;     priority that can run (sched_preempt, sched_tick keep it so), so
;     nothing runnable comes before the partner either, and the partner's
;     return needs no preemption test;
;   - nothing the switch would have to do besides the usual: no thread
;     waiting to be reaped (sched_dead empty: the C path's partner would
;     reap it on its way out), the running thread's stack canary intact
;     (else the C path reports it), the same DS, ES, FS, GS selectors on
;     both sides, and no I/O-port bitmap to change (ioport_switch would do
;     nothing). Tracing is not tested here: while any event is traced,
;     trace.c points syscall_table's two entries at the C paths, which
;     have the trace points.
;
; The switch itself is one labelled block, ipcfast_switch (the per-thread
; state a switch changes: the current thread, the kernel stack, CR3, the
; FS base, the FPU: whatever ctx_switch switches must be switched there
; too).
;
; Invariants kept as the C path keeps them (fastpath.c, sched.c
; sched_ipc_handoff, switch_enter, ctx.c ctx_switch): the endpoint queues,
; ipc_state, the reply link (reply_to, replier), the thread states, the
; run ring, its head (sched_queue) and ticks_left, the CPU's current
; thread and kernel stack (per-CPU area and TSS RSP0), CR3 when the address
; space changes, the FS base and ctx_fs_base_written (the thread's IPC
; buffer, by ctx_switch's rule), the FPU state (eager: saved and loaded
; here, never left for a #NM trap: LazyFP), ctx_fpu_owner. The thread
; that blocks here is left exactly as sched_ipc_handoff leaves one (state
; BLOCKED, its frame complete, its ksp a switch frame resuming at
; fastpath_resume), so every other path (a switch, the C handoff, a wake
; with MICA_EPEER, a kill) treats it as before.

%include "layout.inc"
%include "trapframe.inc"
%include "asmoffsets.inc"

%define CPU_KERNEL_RSP  8               ; percpu.h
%define CPU_CURRENT     24
%define GDT_TSS_RSP0    4               ; gdt.h (gdt.c checks it)
%define RFLAGS_KERNEL   0x2             ; entry.asm
%define RFLAGS_USER_SET 0x202
%define RFLAGS_USER_MASK 0x240DD5
%define SWITCH_RET      56              ; a switch frame's return address (entry.asm cpu_switch)
%define SWITCH_RFLAGS   48
%define SWITCH_SIZE     64
%define MSR_FS_BASE     0xC0000100      ; ctx.c

bits 64
section .text
extern fastpath_call, fastpath_reply_recv, fastpath_resume, ipc_exit_frame
extern sched_dead, sched_queue, ioport_open_as, gdt_tss
extern ctx_fpu_owner, ctx_use_xsave, ctx_xcr0, ctx_fs_base_written
global ipcfast_call, ipcfast_reply_recv

; The checks both calls make once the partner is known: RAX the running
; thread t, RBX the partner p; %1 where to go if one fails. Leaves p's
; address space in RDI; clobbers R11 (RCX holds the endpoint, RBP the
; badge or slot). Tracing needs no test: while any event is traced,
; trace.c's syscall_table sends call and reply_recv to the C paths, which
; record messages and switches.
%macro CHECK_SWITCH 1
        ; A dead thread to reap: the C path's partner reaps on its way out.
        cmp qword [rel sched_dead], 0
        jne %1
        ; p resumes at fastpath_resume with only its frame (see above).
        mov rdi, [rbx + TH_KSP]
        cmp qword [rdi + SWITCH_RET], fastpath_resume
        jne %1
        ; Same priority: p takes t's place in the ring (sched_ipc_handoff).
        mov r11b, [rax + TH_PRIO]
        cmp r11b, [rbx + TH_PRIO]
        jne %1
        ; t's stack did not overflow into its canary (thread_stack_check).
        ; With kstack=measure every thread has the other canary: taken too,
        ; unmeasured (this path leaves nothing on the stack below the
        ; frame; the low-water mark is found at the next switch by C).
        cmp qword [rax + TH_CANARY], TH_CANARY_VALUE
        je %%canary
        cmp qword [rax + TH_CANARY], TH_CANARY_MEASURE
        jne %1
%%canary:
        ; Selectors: t's saved (ctx_switch's segs_save); p's the same, so
        ; none is loaded (segs_write is the C path's).
        mov [rax + TH_SEGS], ds
        mov [rax + TH_SEGS + 2], es
        mov [rax + TH_SEGS + 4], fs
        mov [rax + TH_SEGS + 6], gs
        mov rdi, [rax + TH_SEGS]
        cmp rdi, [rbx + TH_SEGS]
        jne %1
        ; I/O ports: neither p's address space nor the open one has ports,
        ; or p's is the open one (ioport_switch would do nothing).
        mov rdi, [rbx + TH_AS]
        mov r11, [rel ioport_open_as]
        or r11, [rdi + AS_PORTS0]
        jz %%ports
        cmp rdi, [rel ioport_open_as]
        jne %1
%%ports:
%endmacro

; ENDPOINT_HANDLE right, fail: the handle in the frame's RDI (RDI the
; frame, RAX the running thread) is one of its table's fixed slots
; (handle_slot's fast case) with the right (so in use: a free slot has
; rights 0, handle.h), on an endpoint. Leaves the slot in RBP and the
; endpoint in RCX; clobbers R11. Jumps to fail if not.
%macro ENDPOINT_HANDLE 2
        mov rbp, [rdi + F_RDI]
        mov rcx, [rax + TH_AS]
        mov r11d, [rcx + AS_HNFIXED]
        cmp rbp, r11
        jae %2
        imul rbp, rbp, H_SIZE
        add rbp, [rcx + AS_HSLOT]
        test byte [rbp + H_RIGHTS], %1
        jz %2
        mov rcx, [rbp + H_OBJ]
        cmp dword [rcx + KOBJ_TYPE], OBJ_ENDPOINT
        jne %2
%endmacro

; int64_t ipcfast_call(const struct syscall_args *s): call on the endpoint
; in RDI (in the frame) to a receiver that waits. Does not return when it
; hands over; else it is fastpath_call.
ipcfast_call:
        ; No descriptor (a buffer, a handle, a timeout; the IPC buffer,
        ; MICA_IPC_BUFFER): the C path's. Until RAX is loaded below, RDI,
        ; RBX and RBP are still as syscall_entry called us: straight there.
        test rbx, rbx
        jnz fastpath_call
        ; A label user code may send (a signed imm32: MICA_LABEL_KERNEL).
        cmp rsi, LABEL_KERNEL
        jae fastpath_call
        mov rax, [gs:CPU_CURRENT]
        ; The handle: a fixed slot with the send right, on an endpoint.
        ENDPOINT_HANDLE RIGHT_SEND, .slow
        ; A receiver waiting (so the endpoint is open: endpoint_close wakes
        ; every receiver, and nobody queues on a closed one), which gave
        ; no descriptor.
        mov rbx, [rcx + EP_RECEIVERS]
        test rbx, rbx
        jz .slow
        cmp qword [rbx + TH_FRAME + F_RBX], 0
        jne .slow
        mov rbp, [rbp + H_BADGE]
        CHECK_SWITCH .slow

        ; Act. The receiver leaves the queue (ipc.c pop) and its wait.
        mov r11, [rbx + TH_IPC_NEXT]
        mov [rcx + EP_RECEIVERS], r11
        test r11, r11
        jnz .taken
        mov [rcx + EP_RECEIVERS_TAIL], r11
.taken:
        xor r11d, r11d
        mov [rbx + TH_IPC_NEXT], r11
        mov [rbx + TH_IPC_EP], r11
        mov byte [rbx + TH_IPC_STATE], IPC_ST_NONE
        ; t waits for its reply, which the receiver owes (await_reply).
        mov byte [rax + TH_IPC_STATE], IPC_ST_AWAIT_REPLY
        mov [rax + TH_REPLIER], rbx
        mov [rbx + TH_REPLY_TO], rax
        jmp ipcfast_handoff
.slow:
        ; As syscall_entry called us: the frame in RDI, rbx and rbp the
        ; user's (the C code preserves them for the way out).
        lea rdi, [rsp + 8]
        mov rbx, [rdi + F_RBX]
        mov rbp, [rdi + F_RBP]
        jmp fastpath_call

; int64_t ipcfast_reply_recv(const struct syscall_args *s): the reply to
; the caller this thread owes one, then a receive on the endpoint in RDI
; (in the frame), with nobody queued to send. Does not return when it
; hands over; else it is fastpath_reply_recv.
ipcfast_reply_recv:
        ; No descriptor of ours (the IPC buffer too): the C path's, straight
        ; (the registers as syscall_entry called us).
        test rbx, rbx
        jnz fastpath_reply_recv
        ; A label user code may send.
        cmp rsi, LABEL_KERNEL
        jae fastpath_reply_recv
        mov rax, [gs:CPU_CURRENT]
        ; A caller to answer, which gave no descriptor. (Parked at
        ; fastpath_resume, checked below, it is a user call: a fault's
        ; kernel call blocks by sched_block.)
        mov rbx, [rax + TH_REPLY_TO]
        test rbx, rbx
        jz .slow
        cmp qword [rbx + TH_FRAME + F_RBX], 0
        jne .slow
        ; No bound notification (its bits come before any message).
        cmp qword [rax + TH_BOUND_NTF], 0
        jne .slow
        ; The handle: a fixed slot with the receive right, on an endpoint.
        ENDPOINT_HANDLE RIGHT_RECV, .slow
        ; Open, with nobody queued to send (t will wait).
        cmp byte [rcx + EP_CLOSED], 0
        jne .slow
        cmp qword [rcx + EP_SENDERS], 0
        jne .slow
        CHECK_SWITCH .slow

        ; Act. The reply: the caller's wait ends (no badge on a reply).
        xor ebp, ebp
        mov [rax + TH_REPLY_TO], rbp
        mov [rbx + TH_REPLIER], rbp
        mov byte [rbx + TH_IPC_STATE], IPC_ST_NONE
        ; t waits on the endpoint, at the tail of its receivers (receive).
        mov [rax + TH_IPC_EP], rcx
        mov byte [rax + TH_IPC_STATE], IPC_ST_RECEIVING
        mov [rax + TH_IPC_NEXT], rbp
        mov r11, [rcx + EP_RECEIVERS_TAIL]
        test r11, r11
        jz .first
        mov [r11 + TH_IPC_NEXT], rax
        jmp .queued
.first:
        mov [rcx + EP_RECEIVERS], rax
.queued:
        mov [rcx + EP_RECEIVERS_TAIL], rax
        jmp ipcfast_handoff
.slow:
        lea rdi, [rsp + 8]
        mov rbx, [rdi + F_RBX]
        mov rbp, [rdi + F_RBP]
        jmp fastpath_reply_recv

; RAX the running thread t (blocks), RBX its partner p (runs), RBP the
; badge p receives in RDI, RDI p's address space; the message in its
; registers. Nothing from here on can fail.
ipcfast_handoff:
        ; The scheduler, as sched_ipc_handoff at equal priority: t blocks,
        ; p runs in t's place in the ring, with the rest of t's quantum.
        mov byte [rax + TH_STATE], TH_BLOCKED
        mov byte [rbx + TH_STATE], TH_RUNNABLE
        mov rcx, [rax + TH_NEXT]
        cmp rcx, rax
        je .alone
        mov [rbx + TH_NEXT], rcx
        mov [rcx + TH_PREV], rbx
        mov rcx, [rax + TH_PREV]
        mov [rbx + TH_PREV], rcx
        mov [rcx + TH_NEXT], rbx
        jmp .ringed
.alone:
        mov [rbx + TH_NEXT], rbx
        mov [rbx + TH_PREV], rbx
.ringed:
        ; t, running, is the head of its ring (every switch runs a ring's
        ; head, and a handoff's partner takes its place), so p is now.
        movzx ecx, byte [rax + TH_PRIO]
        mov [sched_queue + rcx * 8], rbx
        xor ecx, ecx
        mov [rax + TH_NEXT], rcx
        mov [rax + TH_PREV], rcx
        mov ecx, [rax + TH_TICKS_LEFT]
        mov [rbx + TH_TICKS_LEFT], ecx
        ; t keeps only its frame: a switch frame below it resumes it at
        ; fastpath_resume (which reloads rbx and rbp from the frame), as
        ; cpu_handoff leaves one.
        lea rcx, [rax + TH_FRAME - SWITCH_SIZE]
        mov qword [rcx + SWITCH_RFLAGS], RFLAGS_KERNEL
        mov qword [rcx + SWITCH_RET], fastpath_resume
        mov [rax + TH_KSP], rcx

; The switch from t (RAX) to p (RBX): everything sched.c switch_enter and
; ctx.c ctx_switch do for two user threads that pass CHECK_SWITCH. The
; one place for per-thread CPU state: a per-thread register added to
; ctx_switch is restored here too.
ipcfast_switch:
        ; p is the CPU's thread, entered from user mode on its own stack.
        mov [gs:CPU_CURRENT], rbx
        lea rcx, [rbx + TH_BLOCK_SIZE]
        mov [gs:CPU_KERNEL_RSP], rcx
        mov [gdt_tss + GDT_TSS_RSP0], rcx
        ; Its address space, if it is another (the I/O ports: checked).
        ; CR3 holds t's root: a user thread runs on its own tables
        ; (switch_enter loads them), from user mode to the end of its call.
        cmp rdi, [rax + TH_AS]
        je .space
        mov rcx, [rdi + AS_ROOT]
        mov cr3, rcx
.space:
        ; Its FS base: its IPC buffer (ipcbuf.c), by ctx_switch's rule:
        ; written unless both p's buffer and the base last written are 0
        ; (a thread may have zeroed its own base by loading FS, so a
        ; written base that equals p's proves nothing); the selectors are
        ; the same on both sides, so none was loaded before it. wrmsr takes
        ; EDX:EAX, the two halves of the field; then RDX is word 0 again.
        mov rcx, [rbx + TH_IPCBUF]
        or rcx, [rel ctx_fs_base_written]
        jz .fs
        mov rax, [rbx + TH_IPCBUF]
        mov edx, [rbx + TH_IPCBUF + 4]
        mov [rel ctx_fs_base_written], rax
        mov ecx, MSR_FS_BASE
        wrmsr
        mov rdx, [rsp + 8 + F_RDX]      ; word 0 again (t's frame, above RSP)
.fs:
        ; Its FPU registers, loaded now (eager), the owner's saved first
        ; (the owner may be p itself: its registers saved and loaded back).
        mov rcx, [rel ctx_fpu_owner]
        mov [rel ctx_fpu_owner], rbx
        cmp byte [rel ctx_use_xsave], 0
        je .fxsave
        ; The components: XCR0 AND EDX:EAX. XCR0's high half is 0 (ctx.c
        ; enables x87, SSE and AVX only, and asserts so), so EDX, word 0,
        ; stays as it is.
        mov eax, [rel ctx_xcr0]
        test rcx, rcx
        jz .xrstor
        xsave64 [rcx + TH_FPU]
.xrstor:
        xrstor64 [rbx + TH_FPU]
.fpu:
        ; Any further per-thread user register ctx_switch restores goes
        ; here or beside the FS base: RAX, RCX, RDI and R11 are free; RDX
        ; (word 0) may be used if reloaded from t's frame as there; every
        ; other register is the message, p's badge (RBP) or p (RBX).

        ; Back to p's user mode with sysret, from p's frame: RIP (below
        ; MICA_USER_TOP, as syscall_entry.exit demands), RFLAGS
        ; sanitised as there, RSP, and the rbx and rbp its call entered
        ; with; RAX MICA_OK, RDI the badge, the message as it is. No
        ; register of t's but the message reaches p.
        mov rcx, [rbx + TH_FRAME + F_RIP]
        mov r11, MICA_USER_TOP
        cmp rcx, r11
        jae .by_frame
        mov r11, [rbx + TH_FRAME + F_RFLAGS]
        and r11d, RFLAGS_USER_MASK
        or r11d, RFLAGS_USER_SET
        mov rdi, rbp
        xor eax, eax
        mov rsp, [rbx + TH_FRAME + F_RSP]
        mov rbp, [rbx + TH_FRAME + F_RBP]
        mov rbx, [rbx + TH_FRAME + F_RBX]
        swapgs
        o64 sysret
.fxsave:
        test rcx, rcx
        jz .fxrstor
        fxsave64 [rcx + TH_FPU]
.fxrstor:
        fxrstor64 [rbx + TH_FPU]
        jmp .fpu
.by_frame:
        ; A RIP sysret must not take: the message into p's frame and out
        ; through syscall_entry's exit (iretq), on p's stack.
        lea rcx, [rbx + TH_FRAME]
        mov qword [rcx + F_RAX], 0
        mov [rcx + F_RDI], rbp
        mov [rcx + F_RSI], rsi
        mov [rcx + F_RDX], rdx
        mov [rcx + F_R10], r10
        mov [rcx + F_R8], r8
        mov [rcx + F_R9], r9
        mov [rcx + F_R12], r12
        mov [rcx + F_R13], r13
        mov [rcx + F_R14], r14
        mov [rcx + F_R15], r15
        mov rsp, rcx
        mov rbx, [rsp + F_RBX]
        mov rbp, [rsp + F_RBP]
        jmp ipc_exit_frame

; No executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
