/*
 * Program entry for test and benchmark programs: they start at the first
 * byte of text (.text.start) and main gets RDI as it came (the boot-info
 * page's address for the first task, the startup info for a program the
 * pager starts); main's return value is the thread's exit code.
 */
__asm__(".section .text.start\n"
        ".global _start\n"
        "_start:\n"
        "	andq $-16, %rsp\n"
        "	call main\n"
        "	movq %rax, %rdi\n"
        "	movq $1, %rax\n" /* MICA_SYS_THREAD_EXIT */
        "	syscall\n"
        "	ud2\n"
        ".text\n");
