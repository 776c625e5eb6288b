/*
 * What ptest's files share (main.c has the helpers and the order of the
 * cases; family.c the process-tree cases: adoption, subtree kill;
 * limits.c the per-process limits; procs.c the process list and a
 * child's image).
 */
#ifndef PTEST_PTEST_H
#define PTEST_PTEST_H

#include <idl/pager_client.h>
#include <libipc/syscall.h>
#include <mica/pager.h>
#include <stdbool.h>
#include <stdint.h>

#define PAGE MICA_PAGE_SIZE

extern const struct mica_startup *st;
extern mica_handle_t pager;

bool str_eq(const char *a, const char *b);
int64_t parse_num(const char *s);
/* A case's result: fail NULL is a pass. */
void case_result(const char *id, const char *fail, int64_t detail);
/* The pool's free frames, those given to the kernel counted as free. */
uint64_t pool_free(void);
struct pager_usage usage(void);
/* Spawn ptest.elf with args; its pid, or 0. */
uint64_t spawn(const char *args);
/* Wait for child pid: reason * 100 + code, or a negative error. */
int64_t wait_for(uint64_t pid);

#define CHECK(cond, why, detail)                                                                   \
	do {                                                                                       \
		if (!(cond))                                                                       \
			return case_result(id, why, (int64_t)(detail));                            \
	} while (0)

/* family.c: the child modes it needs (true: mode was one, its exit code in *rc); its cases. */
bool family_child(const char *mode, int argc, char **argv, int *rc);
void t_adopt(void);
/* Wait for every child we have (adopted ones included); how many, or a negative error. */
int family_reap(void);
void t_kill_tree(void);

/* limits.c: its child modes (as family_child), its cases. */
bool limits_child(const char *mode, int argc, char **argv, int *rc);
void t_mem_limit(void);
void t_procs_limit(void);

/* main.c: a bench line: ticks / n per operation. */
void report(const char *name, uint64_t ticks, uint64_t n);

/* timing.c: make bench's fork figures (pager.fork_exit, pager.fault.cow); 0 or an error. */
int bench_fork(void);

/* procs.c: pager.procs; a child's image on dirty frames (its child mode as family_child). */
void t_procs(void);
bool procs_child(const char *mode, int *rc);
void t_image_dirty(void);

#endif /* PTEST_PTEST_H */
