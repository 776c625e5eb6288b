/*
 * Threads and a mutex (runtime/thread.c, runtime/README.md). A program's
 * threads share its address space and heap (malloc is thread-safe); each
 * has its own stack, which the pager gives and grows (pager.thread_create).
 */
#ifndef RUNTIME_THREAD_H
#define RUNTIME_THREAD_H

#include <stdint.h>

/*
 * Start fn(arg) in a new thread; its return value is its exit code.
 * Returns its tid (> 0), or a negative MICA_E* error (MICA_ENOMEM no
 * memory, MICA_ELIMIT a memory limit, MICA_EPERM no pager).
 */
long thread_create(long (*fn)(void *arg), void *arg);

/*
 * Wait for thread tid to end (yielding while it runs). Returns 0 and its
 * code in *code (if code is not NULL) when it returned or called
 * thread_exit; a MICA_EXIT_* reason (> 0) and the code when it was killed
 * (MICA_EXIT_PAGER with a MICA_PAGER_KILL_* code: a fault the pager
 * refused, e.g. past its stack's limit); MICA_ENOENT if there is no such
 * thread (or it was joined already). Each thread is joined once.
 */
int thread_join(long tid, uint64_t *code);

/* End the calling thread with code (a thread started by thread_create; in main: exit). */
__attribute__((noreturn)) void thread_exit(uint64_t code);

/* A lock for threads of one process: zero-initialised (MUTEX_INIT) means unlocked. */
struct mutex {
	volatile int locked;
};
#define MUTEX_INIT                                                                                 \
	{                                                                                          \
		0                                                                                  \
	}

/* Take m, yielding while another thread holds it. Not recursive. */
void mutex_lock(struct mutex *m);
/* Take m if it is free: 1, else 0 (at once). */
int mutex_trylock(struct mutex *m);
/* Let m go (the holder only). */
void mutex_unlock(struct mutex *m);

#endif /* RUNTIME_THREAD_H */
