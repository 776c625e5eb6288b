/*
 * Program entry for test and benchmark programs run as the first task: the
 * kernel starts it at the first byte of text (.text.start) with the
 * boot-info page's address in RDI; main's return value is the thread's
 * exit code.
 */
#include <mica/bootinfo.h>

int main(const struct mica_bootinfo *bi);

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
