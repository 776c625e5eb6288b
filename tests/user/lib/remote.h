/*
 * Threads in another address space, for test and benchmark programs that
 * run as the first task (before a pager can spawn programs): the new
 * address space gets this program's own text, mapped from the boot
 * module's copy in the pool, and a one-page stack. A function run there
 * may use only its code, its stack and its registers: no global data, no
 * string constants, no switch tables (they live in other segments).
 */
#ifndef USER_LIB_REMOTE_H
#define USER_LIB_REMOTE_H

#include <libipc/syscall.h>
#include <mica/bootinfo.h>

/* Where the remote stack page goes. */
#define REMOTE_STACK_TOP 0x10000000ULL

/*
 * Map the text segment of module 0 (this program) into `as` at its link
 * address, read and execute, and pool frame `stack_frame` read-write just
 * below REMOTE_STACK_TOP. `scratch` is a free page-aligned address in this
 * task where the module's first page may be mapped for a moment. Returns
 * 0 or a negative error (the kernel's, or MICA_EINVAL for an image it
 * cannot read).
 */
long remote_prepare(const struct mica_bootinfo *bi, mica_handle_t self, mica_handle_t as,
                    uint64_t stack_frame, uint64_t scratch);

/* Start entry(arg) in `as` at `priority`; returns a thread handle or an error. */
long remote_start(mica_handle_t as, void (*entry)(uint64_t), uint64_t arg, unsigned priority);

/* Destroy `as`, reporting its frames nowhere; returns 0 or an error. */
long remote_destroy(mica_handle_t as);

#endif /* USER_LIB_REMOTE_H */
