/*
 * ktest: the kernel-core system tests, run as the first user task. Shared
 * helpers: output, results, thread stacks, the boot info and a bump
 * allocator over the pool frames it lists.
 */
#ifndef KTEST_H
#define KTEST_H

#include <libipc/syscall.h>
#include <mica/bootinfo.h>
#include <mica/fault.h>
#include <mica/layout.h>
#include "out.h"

/* The boot-info page and this task's own handles. */
extern const struct mica_bootinfo *bootinfo;
extern mica_handle_t self_as;

/* Pool frames for the tests: n contiguous free frames (0 if none are left). */
uint64_t frame_take(uint64_t n);

/* Stacks for helper threads: one each, by index. */
#define KTEST_STACKS 16
extern char stacks[KTEST_STACKS][8192];
#define STACK_TOP(i) ((void *)(stacks[i] + sizeof(stacks[i])))

/* Start entry(arg) in this address space at priority 16 on stack i. */
long spawn(void (*entry)(uint64_t), int stack, uint64_t arg, mica_handle_t pager,
           mica_handle_t supervisor);

/* Let other threads of our priority run n times. */
void yield_n(int n);

void test_mem(void);
void test_threads(void);
void test_starvation(void);
void test_wake_preempts(void);
void test_cpu_flags(void);
void test_fpu(void);
void test_segs(void);
void test_time(void);
void test_notify(void);
void test_trace(void);
void test_ipc_fast(void);
void test_ipcbuf(void);

#endif /* KTEST_H */
