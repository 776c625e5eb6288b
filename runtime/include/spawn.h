/* Programs from files (runtime/spawn.c). */
#ifndef RUNTIME_SPAWN_H
#define RUNTIME_SPAWN_H

#include <stdint.h>

/*
 * Start the program in file `path` of the file server (fs, idl/fs.idl) as
 * a child of this process, with the argument string `args`: opens the
 * file, gets its memory object granted to this process
 * (fs.map_object, which takes files, not boot modules: copy a module into
 * a file first), and asks the pager to run it (pager.spawn_object); the
 * child's name (argv[0], pager.procs) is the path's last 47 bytes after
 * its last '/'. mem_pages and procs are its limits as pager.spawn_with
 * takes them (0: none of its own). Its pid goes to *pid; wait for it with
 * pager.wait as for any child. Returns 0, or a negative MICA_E* error:
 * fs's (MICA_ENOENT no such file, MICA_EPERM a boot module, ...), the
 * pager's (MICA_ENOEXEC not a program, ...; MICA_EAGAIN and MICA_EBUSY
 * are tried again a few times first), names.lookup's when there is no fs.
 */
int spawn_file_with(const char *path, const char *args, uint64_t mem_pages, uint64_t procs,
                    uint64_t *pid);

/* spawn_file_with with no limits of the child's own. */
int spawn_file(const char *path, const char *args, uint64_t *pid);

#endif /* RUNTIME_SPAWN_H */
