/*
 * init's private interfaces: the name table (names.c), the manifest
 * (manifest.c) and the processes it supervises (supervise.c). One thread
 * runs all of it (main.c), so nothing here is locked.
 */
#ifndef INIT_INIT_H
#define INIT_INIT_H

#include <idl/names_server.h>
#include <idl/pager_client.h>
#include <stdbool.h>
#include <stdint.h>

/* ---- main.c ---- */

extern mica_handle_t init_pager; /* the pager's endpoint, badged with our pid */

/* ---- names.c: the name service (idl/names.idl) ---- */

#define NAMES_MAX 32 /* names at once */

extern const struct names_ops names_handlers;
/* Drop every name process pid registered (it has ended). */
void names_drop_owner(uint64_t pid);
/* Drop the names of owners that have ended: after a names.exited hint, else every 1 s. */
void names_sweep(void);
/* Some process has ended: the next names_sweep looks at every owner at once. */
void names_exit_seen(void);
/* How long init may wait before names_sweep is due (ns, or IPC_FOREVER: no names). */
uint64_t names_timeout(void);

/* ---- manifest.c: what to start ---- */

#define ENTRIES_MAX   16
#define MODULE_MAX    47  /* as pager.spawn takes */
#define ARGS_MAX      127 /* as pager.spawn takes */
#define PROCS_DEFAULT 16  /* descendants an entry may have without procs= */

/* A server's registration deadline (deadline=<ms>): the default and the most. */
#define DEADLINE_DEFAULT_MS 5000
#define DEADLINE_MAX_MS     3600000

enum restart { RESTART_NEVER, RESTART_ON_FAILURE, RESTART_ALWAYS };

struct entry {
	/* From the manifest. */
	bool server; /* server (waited for until it registers) or program */
	enum restart restart;
	char module[MODULE_MAX + 1];
	char args[ARGS_MAX + 1];
	uint64_t mem_pages;   /* mem=: its subtree's memory limit in pages, 0 for none */
	uint64_t procs;       /* procs=: its descendants limit */
	uint32_t deadline_ms; /* a server: how long init waits for it to register */
	int32_t irq;          /* irq=: its interrupt line, -1 for none */
	uint32_t port_first;  /* ports=<first>-<last>: its I/O ports ... */
	uint32_t port_count;  /* ... how many (0: none) */
	bool trace;           /* trace: may control the kernel's trace buffer (pager.trace) */
	/* Its process now (supervise.c). */
	uint64_t pid;    /* 0: none runs */
	bool registered; /* a server: it has registered a name (this run or an earlier one) */
	bool done;       /* ended for good: no restart is due */
	bool failed;     /* its last run ended killed or with a non-zero code */
	bool late;       /* a server that missed its deadline this run: no longer waited for */
	int64_t started; /* the clock (ns) when this run started */
	unsigned restarts;
};

extern struct entry entries[ENTRIES_MAX];
extern unsigned nentries;

/* Read the module named name through pager.module_read and parse it into entries. 0 or an error. */
int manifest_load(const char *name);

/* ---- supervise.c: start, watch, restart ---- */

#define RESTARTS_MAX 3 /* restarts per entry, then it is given up */

/* Start what the manifest says, in order, waiting at each server until it registers or ends. */
void supervise_advance(void);
/* Ask pager.wait about every running entry; log and handle each exit. */
void supervise_poll(void);
/* Process pid registered a name: a server's wait is over. */
void supervise_registered(uint64_t pid);
/* Every program ended and nothing due to restart (with exit_when_done: end the servers). */
bool supervise_done(void);
/* Programs whose last run failed (killed, or a non-zero exit code). */
unsigned supervise_failures(void);
/* Kill every running entry and wait for each to end. */
void supervise_stop_all(void);
/* How long init may wait for a message before supervise_poll is due (ns, or IPC_FOREVER). */
uint64_t supervise_timeout(void);

/* ---- orphans.c: processes init adopted (their parent ended) ---- */

/* Wait for every adopted child: log and forget each that has ended. */
void orphans_poll(void);
/* Kill every adopted child still running, with what lies below it, and wait for each. */
void orphans_stop_all(void);

#endif /* INIT_INIT_H */
