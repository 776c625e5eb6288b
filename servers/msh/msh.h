/*
 * msh, the Mica shell (README.md): the private interfaces of its files.
 * main.c reads lines from the console server and runs programs in the
 * foreground or the background; cmds.c holds the command table and the
 * commands themselves.
 */
#ifndef MSH_MSH_H
#define MSH_MSH_H

#include <libipc/syscall.h>
#include <stdbool.h>
#include <stdint.h>

#define MSH_ARGS_MAX 16 /* words in one command line */
#define MSH_JOBS     16 /* background programs at once (init gives msh 16 descendants) */

/* Exit codes msh kills a program with (pager.kill_tree): Ctrl-C, and the kill command. */
#define MSH_CODE_INTERRUPT 130
#define MSH_CODE_KILL      143

extern mica_handle_t msh_pager; /* the pager (startup info) */
extern mica_handle_t msh_ports; /* the isa-debug-exit port, or MICA_HANDLE_NONE */

/* ---- main.c ---- */

/*
 * Start module with args (words joined by spaces) as msh's child; in the
 * foreground wait for it (Ctrl-C kills it), else record it as a job.
 * `what` prefixes the messages ("spawn", "vm"). 0, or the pager's error.
 */
int msh_run(const char *what, const char *module, const char *args, bool background, bool report);
/* msh_run for a program in a file of the file server when file (runtime spawn_file). */
int msh_run_from(const char *what, const char *module, const char *args, bool background,
                 bool report, bool file);
/* Wait for every background program, reporting each (Ctrl-C stops waiting). */
void msh_wait_jobs(void);
/* The number of background programs not yet waited for. */
unsigned msh_jobs(void);

/* ---- cmds.c ---- */

/* Run one command line, split into words (argc >= 1). */
void cmd_run(int argc, char **argv);
/* A number in decimal or 0x hex; false if the word is not one (or past 64 bits). */
bool cmd_number(const char *s, uint64_t *out);

#endif /* MSH_MSH_H */
