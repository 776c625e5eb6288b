; Mica's entry point: the multiboot headers, the 32-bit checks of the
; boot loader and the CPU, the boot page tables, the switch to long mode
; and the jump to the higher-half kernel (kmain).
;
; Everything in the .boot sections runs at its physical address (1 MiB
; up); the rest of the kernel is linked at KERNEL_VBASE + physical.

%include "layout.inc"                   ; include/mica/layout.h, for nasm

%define MB2_HEADER_MAGIC    0xE85250D6
%define MB2_LOADER_MAGIC    0x36D76289
%define MB1_HEADER_MAGIC    0x1BADB002
%define COM1                0x3F8
%define QEMU_EXIT_PORT      0xF4
%define QEMU_EXIT_FAILURE   0x11

%define PML4_SLOT(va) (((va) >> 39) & 511)
%define PDPT_SLOT(va) (((va) >> 30) & 511)
%define PTE_P   (1 << 0)
%define PTE_RW  (1 << 1)
%define PTE_PS  (1 << 7)

; ---------------------------------------------------------------------------
section .multiboot
align 8
mb2_header:                             ; multiboot2 spec, section 3.1
        dd MB2_HEADER_MAGIC
        dd 0                            ; architecture: i386 protected mode
        dd mb2_header_end - mb2_header
        dd -(MB2_HEADER_MAGIC + (mb2_header_end - mb2_header))
        dw 0, 0                         ; end tag
        dd 8
mb2_header_end:

; A multiboot (version 1) header as well, so that a multiboot1 loader (GRUB's
; "multiboot" command) starts the kernel too: the entry then sees the wrong
; magic and refuses, which is how the test of that refusal runs.
align 4
mb1_header:
        dd MB1_HEADER_MAGIC
        dd 0                            ; flags: nothing requested
        dd -MB1_HEADER_MAGIC

; ---------------------------------------------------------------------------
section .boot.text
bits 32
global _start
_start:
        mov esi, eax                    ; the loader's magic; rdtsc takes eax
        rdtsc                           ; the time stamp at entry (make bench: boot.*)
        mov [boot_tsc], eax
        mov [boot_tsc + 4], edx
        mov eax, esi
        cli
        cld
        mov esp, boot_stack32_top
        mov [boot_magic], eax
        mov [boot_mbi], ebx
        call serial_init32

        ; The loader: multiboot2 only.
        cmp dword [boot_magic], MB2_LOADER_MAGIC
        mov esi, msg_no_mb2
        jne fail32

        ; CPUID exists if EFLAGS.ID (bit 21) can be toggled.
        pushfd
        pop eax
        mov ecx, eax
        xor eax, 1 << 21
        push eax
        popfd
        pushfd
        pop eax
        push ecx
        popfd
        cmp eax, ecx
        mov esi, msg_no_cpuid
        je fail32

        ; Long mode (CPUID 0x80000001 EDX bit 29) and NX (bit 20).
        mov eax, 0x80000000
        cpuid
        cmp eax, 0x80000001
        mov esi, msg_no_lm
        jb fail32
        mov eax, 0x80000001
        cpuid
        mov ebp, edx
        test ebp, 1 << 29
        mov esi, msg_no_lm
        jz fail32
        ; PAE (CPUID 1 EDX bit 6).
        mov eax, 1
        cpuid
        test edx, 1 << 6
        mov esi, msg_no_pae
        jz fail32
        test ebp, 1 << 20
        mov esi, msg_no_nx
        jz fail32

        ; Boot page tables: 0..4 GiB in 2 MiB pages, seen three times:
        ; identity (for this code), at the direct-map base (PML4 slot 256),
        ; and the first GiB at KERNEL_VBASE (PML4 511, PDPT 510).
        xor ecx, ecx
.fill_pd:
        mov eax, ecx
        shl eax, 21
        or eax, PTE_P | PTE_RW | PTE_PS
        mov [boot_pd + ecx * 8], eax
        mov eax, ecx
        shr eax, 11                     ; bits 32.. of ecx * 2 MiB
        mov [boot_pd + ecx * 8 + 4], eax
        inc ecx
        cmp ecx, 4 * 512
        jb .fill_pd

        xor ecx, ecx
.fill_pdpt:
        mov eax, ecx
        shl eax, 12
        add eax, boot_pd + (PTE_P | PTE_RW)
        mov [boot_pdpt_low + ecx * 8], eax
        inc ecx
        cmp ecx, 4
        jb .fill_pdpt
        mov dword [boot_pdpt_high + PDPT_SLOT(MICA_KERNEL_VBASE) * 8], boot_pd + (PTE_P | PTE_RW)
        mov dword [boot_pml4 + PML4_SLOT(0) * 8], boot_pdpt_low + (PTE_P | PTE_RW)
        mov dword [boot_pml4 + PML4_SLOT(MICA_DIRECT_MAP_BASE) * 8], boot_pdpt_low + (PTE_P | PTE_RW)
        mov dword [boot_pml4 + PML4_SLOT(MICA_KERNEL_VBASE) * 8], boot_pdpt_high + (PTE_P | PTE_RW)

        ; Long mode: PAE, the tables, EFER.LME and NXE, then paging with
        ; write protection in ring 0 (CR0.WP).
        mov eax, cr4
        or eax, 1 << 5
        mov cr4, eax
        mov eax, boot_pml4
        mov cr3, eax
        mov ecx, 0xC0000080
        rdmsr
        or eax, (1 << 8) | (1 << 11)
        wrmsr
        mov eax, cr0
        or eax, (1 << 31) | (1 << 16) | 1
        mov cr0, eax
        lgdt [boot_gdt_ptr]
        jmp 0x08:long_entry

; Print "mica: boot: " and the string at esi on COM1, then leave QEMU with
; the failure status (or halt, on hardware).
fail32:
        push esi
        mov esi, msg_prefix
        call puts32
        pop esi
        call puts32
        mov al, QEMU_EXIT_FAILURE
        out QEMU_EXIT_PORT, al
.halt:
        cli
        hlt
        jmp .halt

; COM1: 115200 baud, 8 data bits, no parity, one stop bit, FIFOs on.
serial_init32:
        mov dx, COM1 + 1
        xor al, al
        out dx, al                      ; no interrupts
        mov dx, COM1 + 3
        mov al, 0x80
        out dx, al                      ; DLAB on
        mov dx, COM1
        mov al, 1
        out dx, al                      ; divisor 1: 115200 baud
        mov dx, COM1 + 1
        xor al, al
        out dx, al
        mov dx, COM1 + 3
        mov al, 0x03
        out dx, al                      ; 8N1, DLAB off
        mov dx, COM1 + 2
        mov al, 0xC7
        out dx, al                      ; FIFOs on and cleared
        mov dx, COM1 + 4
        mov al, 0x03
        out dx, al                      ; DTR, RTS
        ret

; Write the NUL-terminated string at esi.
puts32:
        lodsb
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
.wait:
        in al, dx
        test al, 0x20                   ; transmitter holding register empty
        jz .wait
        mov al, ah
        mov dx, COM1
        out dx, al
        jmp puts32
.done:
        ret

bits 64
long_entry:
        mov ax, 0x10
        mov ds, ax
        mov es, ax
        mov ss, ax
        xor eax, eax
        mov fs, ax
        mov gs, ax
        mov rax, boot_stack_top
        mov rsp, rax
        xor ebp, ebp
        mov edi, [boot_mbi]             ; kmain(mbi physical address, entry time stamp)
        mov rsi, [boot_tsc]
        extern kmain
        mov rax, kmain
        call rax
.halt:
        cli
        hlt
        jmp .halt

; ---------------------------------------------------------------------------
section .boot.data
align 8
boot_gdt:
        dq 0
        dq 0x00AF9A000000FFFF           ; 0x08: 64-bit kernel code
        dq 0x00CF92000000FFFF           ; 0x10: kernel data
boot_gdt_ptr:
        dw boot_gdt_ptr - boot_gdt - 1
        dd boot_gdt

msg_prefix:     db "mica: boot: ", 0
msg_no_mb2:     db "not started by a multiboot2 boot loader (wrong magic in EAX)", 13, 10, 0
msg_no_cpuid:   db "this CPU has no CPUID instruction", 13, 10, 0
msg_no_lm:      db "this CPU lacks long mode (x86_64)", 13, 10, 0
msg_no_pae:     db "this CPU lacks PAE", 13, 10, 0
msg_no_nx:      db "this CPU lacks the NX (execute-disable) bit", 13, 10, 0

; ---------------------------------------------------------------------------
section .boot.bss nobits alloc write align=4096
boot_pml4:      resb 4096
boot_pdpt_low:  resb 4096
boot_pdpt_high: resb 4096
boot_pd:        resb 4 * 4096
boot_stack32:   resb 1024
boot_stack32_top:
boot_magic:     resd 1
boot_mbi:       resd 1
alignb 8
boot_tsc:       resq 1

; The kernel's boot stack, in the higher half, with an unmapped guard page
; below it (vm.c leaves it out) so that an overflow faults at once.
section .bss.stack nobits alloc write align=4096
global boot_stack_guard, boot_stack, boot_stack_top
boot_stack_guard: resb 4096
boot_stack:       resb 16384
boot_stack_top:

; No executable stack.
section .note.GNU-stack noalloc noexec nowrite progbits
