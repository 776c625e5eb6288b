/*
 * What the pager and the programs it starts agree on (servers/pager/):
 * the startup info a new program finds at entry, the layout of a new
 * address space, and the codes the pager kills a thread with. The calls
 * themselves are the IDL interface idl/pager.idl.
 */
#ifndef MICA_PAGER_H
#define MICA_PAGER_H

#include <mica/handle.h>
#include <mica/layout.h>
#include <stdint.h>

/*
 * A new program's first thread starts at the ELF entry with RDI = the
 * address of a struct mica_startup, which lies at the top of its stack.
 * RSP points (System V style) at argc, then argv[0 .. argc - 1], then a
 * NULL pointer; the strings lie above them, below the startup info.
 * argv[0] is the module's name; the others are the spawn's argument
 * string split at spaces (the first MICA_PAGER_ARGS_MAX - 1 words).
 */
#define MICA_STARTUP_MAGIC   0x5055545241545355ULL /* "USTARTUP" */
#define MICA_STARTUP_VERSION 3                     /* 2: names appended; 3: irq and ports */

#define MICA_PAGER_ARGS_MAX 32 /* argv entries, argv[0] included */

struct mica_startup {
	uint64_t magic;   /* MICA_STARTUP_MAGIC */
	uint32_t version; /* MICA_STARTUP_VERSION */
	/* Handles in the program's own table. */
	mica_handle_t pager; /* the pager's endpoint (SEND), badged with this process's id */
	/* The process. */
	uint64_t pid;         /* its id, as spawn returned it */
	uint64_t argc;        /* as on the stack */
	char **argv;          /* as on the stack */
	uint64_t heap_start;  /* the break starts here (brk / sbrk move it) */
	uint64_t heap_limit;  /* the most bytes the heap may grow to */
	uint64_t stack_top;   /* the stack grows down from here ... */
	uint64_t stack_limit; /* ... by at most this many bytes */
	/* Since version 2. */
	mica_handle_t names; /* the name service (idl/names.idl, SEND, badged with pid), or
	                        MICA_HANDLE_NONE before init set one (pager.set_names) */
	/* Since version 3: a driver's devices (pager.spawn_driver, include/mica/device.h). */
	mica_handle_t irq;   /* its interrupt line (MANAGE), or MICA_HANDLE_NONE */
	mica_handle_t ports; /* its I/O port range, or MICA_HANDLE_NONE */
};

/* The layout of a process the pager builds (the image lies where its ELF file says). */
#define MICA_PAGER_STACK_TOP   MICA_UL(0x00007F0000000000)
#define MICA_PAGER_STACK_INIT  (MICA_UL(16) << 10) /* the stack region at start */
#define MICA_PAGER_STACK_LIMIT (MICA_UL(1) << 20)  /* how far it may grow, guard page excluded */
#define MICA_PAGER_HEAP_LIMIT  (MICA_UL(256) << 20)
#define MICA_PAGER_MAP_BASE    MICA_UL(0x0000100000000000) /* where map looks for room first */
/*
 * Threads beyond the first (pager.thread_create): each gets an area of
 * MICA_PAGER_THREAD_STACK_LIMIT plus a guard page, found from
 * MICA_PAGER_THREAD_BASE up; its stack starts as the top
 * MICA_PAGER_THREAD_STACK_INIT of it, with a guard page below, and grows
 * down on faults on the guard as the first stack does, up to the limit.
 */
#define MICA_PAGER_THREAD_BASE        MICA_UL(0x0000600000000000)
#define MICA_PAGER_THREAD_STACK_INIT  (MICA_UL(16) << 10)
#define MICA_PAGER_THREAD_STACK_LIMIT (MICA_UL(256) << 10)

/*
 * Codes in the exit notice (MICA_EXIT_PAGER) of a thread the pager killed
 * on a page fault, and in the wait call's answer.
 */
enum mica_pager_kill {
	MICA_PAGER_KILL_UNMAPPED = 1, /* the address is in no region */
	MICA_PAGER_KILL_ACCESS = 2,   /* the region forbids the access (write to text, run data) */
	MICA_PAGER_KILL_STACK = 3,    /* stack overflow: the guard page, past the stack limit */
	MICA_PAGER_KILL_NOMEM = 4,    /* out of memory: no frame for the page */
	MICA_PAGER_KILL_LIMIT = 5, /* memory limit: the page would take its subtree past a limit */
};

/* One region, as the regions call lists them. */
struct mica_pager_region {
	uint64_t start, end; /* [start, end), page aligned */
	uint32_t rights;     /* MICA_MAP_*; 0 for a guard page */
	uint32_t kind;       /* MICA_PAGER_KIND_* */
	uint64_t backed;     /* pages backed by a frame now */
};

enum mica_pager_kind {
	MICA_PAGER_KIND_ANON = 0,   /* map */
	MICA_PAGER_KIND_IMAGE = 1,  /* a segment of the program's image */
	MICA_PAGER_KIND_HEAP = 2,   /* brk */
	MICA_PAGER_KIND_STACK = 3,  /* the stack, and its guard page (rights 0) */
	MICA_PAGER_KIND_SHARED = 4, /* shared with, or by, another process */
};

#define MICA_PAGER_REGIONS_MAX 126 /* regions one regions call lists */

/*
 * Per-process limits (pager.spawn_with, struct pager_limits in
 * idl/pager.idl): each bounds the subtree of the process it is set on.
 * The stats call reports a process's own limits, MICA_PAGER_NO_LIMIT for
 * none (its ancestors' apply). Going past one: MICA_ELIMIT from spawn,
 * brk, sbrk and map, or a kill with MICA_PAGER_KILL_LIMIT at a fault.
 */
#define MICA_PAGER_NO_LIMIT UINT64_MAX

/* map flags (idl/pager.idl). */
#define MICA_PAGER_MAP_FIXED 1u /* at exactly addr (else addr is a hint) */
#define MICA_PAGER_MAP_FILL  2u /* back every page now (else on first touch) */

#endif /* MICA_PAGER_H */
