/* Processes (runtime/fork.c). */
#ifndef RUNTIME_UNISTD_H
#define RUNTIME_UNISTD_H

/*
 * fork: a copy of this process (pager.fork, idl/pager.idl), its memory
 * copy on write, running only the calling thread, which returns 0 in the
 * child and the child's pid in the parent; a negative MICA_E* error if
 * there is no child (include/mica/error.h). The child has its own pid,
 * pager and name-service handles (startup.h reports them), none of the
 * parent's other handles, and no other thread. The parent waits for it
 * with pager.wait, as for a spawned child.
 */
long fork(void);

#endif /* RUNTIME_UNISTD_H */
