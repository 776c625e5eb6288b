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

/*
 * pager.fork (idl/pager.idl): the child's first thread starts at the
 * entry the caller gave, with RSP = the stack it gave and RDI = the
 * address `info` it gave, where the pager has written this record in the
 * child's copy of memory (never in the caller's): the child's own pid and
 * the handles it has in its own table, which differ from the caller's.
 * 24 bytes, 8-byte aligned, within one page of a writable region that is
 * not shared (MICA_PAGER_KIND_SHARED).
 */
#define MICA_FORK_MAGIC 0x4B524F464B524F46ULL /* "FORKFORK" */

struct mica_fork_info {
	uint64_t magic;      /* MICA_FORK_MAGIC */
	uint64_t pid;        /* the child's pid (the parent's fork returns it too) */
	mica_handle_t pager; /* the child's pager endpoint (SEND), badged with its pid */
	mica_handle_t names; /* its name service endpoint, or MICA_HANDLE_NONE */
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
	/* A mapping of a memory object (pager.memobj_map; docs/MEMORY_SERVERS.md): */
	MICA_PAGER_KILL_BUS = 6, /* past the object's end (it shrank, or was destroyed): SIGBUS */
	MICA_PAGER_KILL_SERVER = 7,  /* its memory server died or refused the page */
	MICA_PAGER_KILL_TIMEOUT = 8, /* its memory server did not answer in time */
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
	MICA_PAGER_KIND_OBJECT = 5, /* a memory object's mapping, or a memory server's window */
};

#define MICA_PAGER_REGIONS_MAX 126 /* regions one regions call lists */

/*
 * One process, as the procs call lists them (pager.procs, idl/pager.idl):
 * every process the pager holds, live or ended and not yet waited for,
 * in slot order. 128 bytes; MICA_PAGER_PROCS_MAX fit in one reply.
 */
struct mica_pager_proc {
	uint64_t pid;
	uint64_t parent;      /* its parent's pid; 0: none (init, or an orphan of an ended init) */
	uint32_t state;       /* MICA_PAGER_PROC_* */
	uint32_t threads;     /* threads it runs: the pager starts one; 0 once it has ended */
	uint32_t regions;     /* regions of its address space (0 once ended) */
	uint32_t exit_reason; /* MICA_EXIT_* once ended (include/mica/fault.h) */
	uint64_t exit_code;   /* its code once ended */
	uint64_t resident;    /* pages mapped in it now (frames, shared ones counted in each) */
	uint64_t mem_limit;   /* its own limits and what its subtree uses, as pager.stats */
	uint64_t mem_used;    /*   reports them: MICA_PAGER_NO_LIMIT for none */
	uint64_t procs_limit;
	uint64_t procs_used;
	char name[48]; /* its module's name, NUL-terminated */
};

enum mica_pager_proc_state {
	MICA_PAGER_PROC_LIVE = 1,  /* its thread runs */
	MICA_PAGER_PROC_ENDED = 2, /* ended; its memory is back; waits for its parent's wait */
};

#define MICA_PAGER_PROCS_MAX 31 /* processes one procs call lists */

/*
 * Per-process limits (pager.spawn_with, struct pager_limits in
 * idl/pager.idl): each bounds the subtree of the process it is set on.
 * The stats call reports a process's own limits, MICA_PAGER_NO_LIMIT for
 * none (its ancestors' apply). Going past one: MICA_ELIMIT from spawn,
 * brk, sbrk and map, or a kill with MICA_PAGER_KILL_LIMIT at a fault.
 */
#define MICA_PAGER_NO_LIMIT UINT64_MAX

/*
 * Memory objects (pager.memobj_*, idl/pager.idl; served by memory servers
 * through idl/memobj.idl; docs/MEMORY_SERVERS.md).
 */
#define MICA_MEMOBJ_SHARED                                                                         \
	1u /* memobj_map: writes reach the object (else private: copy on write) */
#define MICA_MEMOBJ_MAX_SIZE (MICA_UL(1) << 40) /* the largest object, in bytes */

/* memobj_ctl operations. */
enum mica_memobj_op {
	MICA_MEMOBJ_CREATE = 1, /* a = size in bytes, b = MICA_MAP_* rights: out = the new object */
	MICA_MEMOBJ_RESIZE = 2, /* a = object, b = new size in bytes */
	MICA_MEMOBJ_GRANT =
	    3, /* a = object, b = pid, c = rights: pid and its descendants may map */
	MICA_MEMOBJ_DESTROY = 4, /* a = object */
	MICA_MEMOBJ_SYNC =
	    5, /* a = the start of a mapping: its dirty pages written back; out = pages */
	/*
	 * a = object, b = offset of a page, c = a page of the caller's (or 0 to
	 * ask only): out = 1 if the page is cached and dirty, and with c its
	 * bytes are copied there and it is clean (the server's own write-back).
	 */
	MICA_MEMOBJ_WRITEBACK = 6,
};

/* map flags (idl/pager.idl). */
#define MICA_PAGER_MAP_FIXED 1u /* at exactly addr (else addr is a hint) */
#define MICA_PAGER_MAP_FILL  2u /* back every page now (else on first touch) */

/*
 * pager.dump (idl/pager.idl, docs/MEMDUMP.md): the pager's state in
 * parts, each read in pieces with a cursor (0 to start; the reply's next,
 * 0 once the part is done). Any process may ask: it only reads.
 */
#define MICA_PAGER_DUMP_NAME 48 /* a process name, NUL-terminated (MICA_BOOTINFO_NAME_MAX) */

enum mica_pager_dump_part {
	MICA_PAGER_DUMP_POOL = 0,    /* one struct mica_pager_dump_pool, then its ranges */
	MICA_PAGER_DUMP_BLOCKS = 1,  /* struct mica_pager_dump_block: free blocks, donated blocks */
	MICA_PAGER_DUMP_PROCS = 2,   /* struct mica_pager_dump_proc: every process */
	MICA_PAGER_DUMP_REGIONS = 3, /* struct mica_pager_region: the regions of process pid */
	MICA_PAGER_DUMP_PAGES = 4, /* struct mica_pager_dump_run: the backed pages of process pid */
	MICA_PAGER_DUMP_PARTS
};

#define MICA_PAGER_DUMP_VERSION 1

/* The pool (part POOL): counts in frames, then nranges struct mica_pager_dump_range. */
struct mica_pager_dump_pool {
	uint32_t version;      /* MICA_PAGER_DUMP_VERSION */
	uint32_t nranges;      /* ranges after this record */
	uint64_t total;        /* frames in the buddy allocator's pool (pager.stats pool_total) */
	uint64_t free;         /* of those, free (pager.stats pool_free) */
	uint64_t donated;      /* given to the kernel's reserve so far */
	uint64_t span_base;    /* the allocator's span: [span_base, span_base + span_frames) */
	uint64_t span_frames;  /* (frames, not bytes) */
	int32_t largest_order; /* order of the largest free block, -1 if none */
	uint32_t max_order;    /* orders 0 .. max_order */
	uint64_t free_blocks[19]; /* free blocks of each order (pager.free_blocks) */
};

/* A boot-info range of the pool, in frames (the pager's metadata lies in one). */
struct mica_pager_dump_range {
	uint64_t first, count;
};

/* A block of the buddy allocator (part BLOCKS): free, or allocated with order > 0. */
struct mica_pager_dump_block {
	uint64_t frame; /* its first frame */
	uint32_t order; /* 2^order frames */
	uint32_t free;  /* 1 free; 0 allocated (only donated blocks are, above order 0) */
};

/* A process (part PROCS). */
struct mica_pager_dump_proc {
	uint64_t pid;
	uint64_t parent;   /* 0: the pager's own (init, orphans after init) */
	uint64_t resident; /* pages backed by a frame now */
	uint32_t state;    /* 1 running, 2 ended and not waited for */
	uint32_t regions;  /* regions of its address space */
	char name[MICA_PAGER_DUMP_NAME];
};

/* A run of backed pages (part PAGES): [va, va + count pages) on frames [frame, frame + count). */
struct mica_pager_dump_run {
	uint64_t va;
	uint64_t frame;
	uint64_t count;
};

#endif /* MICA_PAGER_H */
