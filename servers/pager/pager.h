/*
 * The pager's private interfaces: the frame pool (pool.c), processes and
 * their address spaces (space.c, process.c), faults (fault.c), heap and
 * anonymous memory (heap.c), sharing (share.c), copy on write (cow.c),
 * fork (fork.c), output (log.c).
 * One thread runs all of it, so nothing here is locked.
 */
#ifndef PAGER_PAGER_H
#define PAGER_PAGER_H

#include <libipc/ipc.h>
#include <libipc/server.h>
#include <libipc/syscall.h>
#include <mica/bootinfo.h>
#include <mica/elf.h>
#include <mica/fault.h>
#include <mica/pager.h>
#include <stdbool.h>
#include <stdint.h>

#include "buddy.h"
#include "idtree.h"
#include "region.h"

/* ---- log.c: serial output without libc ---- */

void log_str(const char *s);
void log_flush(void);
void log_num(uint64_t v);
void log_hex(uint64_t v);
/* Print the fixed line "pager: free=<N> total=<N> largest=<order> donated=<N>". */
void log_counts(const char *when);

/* ---- pool.c: the user pool, frames and the pager's window on them ---- */

/*
 * The pager sees every pool frame it manages (and each module's copy)
 * through a physmap in its own address space: frame pa at PHYSMAP_BASE + pa.
 */
#define PHYSMAP_BASE 0x0000400000000000ULL
#define PHYS(pa)     ((void *)(PHYSMAP_BASE + (pa)))

extern struct buddy pool;
extern const struct mica_bootinfo *boot;
extern uint64_t pool_donated; /* frames given to the kernel's reserve */

/* Map the pool and the modules, start the buddy allocator. Returns 0 or an error. */
int pool_init(void);
/* One zeroed frame (its physical address), or 0 if the pool is empty. */
uint64_t frame_alloc(void);
uint64_t frame_alloc_unzeroed(void);
/* One more mapping of frame pa (sharing): 0, or MICA_EBUSY / MICA_EFRAME. */
int frame_ref(uint64_t pa);
/* A new frame with a copy of the frame at pa (not zeroed first), or 0 if the pool is empty. */
uint64_t frame_copy(uint64_t pa);
/* Is frame pa mapped in more than one address space (its count above 1)? */
bool frame_shared(uint64_t pa);
/* Drop a mapping of frame pa; the last one returns it to the pool. */
void frame_free(uint64_t pa);
/* Give frames to the kernel's reserve if it runs low (after a map said MICA_ENOMEM, too). */
void pool_feed_kernel(void);
/* Bytes of the pool's metadata: the buddy bitmaps and the share counts (make bench). */
uint64_t pool_meta_bytes(void);
/* Print what a scratch window would cost per fault (a bench line). */
void pool_measure_window(void);
/* Word-wise zero and copy (no libc). */
void mem_zero(void *p, uint64_t n);
void mem_copy(void *d, const void *s, uint64_t n);

/* ---- slab.c: the pager's own records, in pool frames ---- */

/* A cache of objects of one size (at most a frame less a 32-byte header). */
struct slab_cache {
	uint64_t size;
	struct slab *partial; /* slabs with a free object */
	uint64_t slabs;       /* frames it holds */
	uint64_t objects;     /* objects handed out */
};

void *slab_alloc(struct slab_cache *c);
void slab_free(struct slab_cache *c, void *p);

/* ---- space.c: processes and their address spaces ---- */

#define SPACE_SEGS 8 /* PT_LOAD segments per image */

/* A PT_LOAD segment: what an image region is filled from. */
struct seg {
	uint64_t vaddr, filesz; /* file bytes land at [vaddr, vaddr + filesz) */
	uint64_t file;          /* physical address of the segment's first file byte */
};

/* What is backed in one region: how many pages, all within [lo, hi). */
struct backing {
	uint64_t pages;
	uint64_t lo, hi;
};

/* A region's node as the pager allocates it: the region set's node, then its backing. */
struct space_region {
	struct region r; /* first: the set hands out &r */
	struct backing b;
};

/*
 * A thread of a process beyond its first (thread.c), known by its tid
 * (1, 2, ...: never reused within the process), which with the pid makes
 * the badge of the endpoint its faults and exit notice come by.
 */
enum thread_state {
	THREAD_LIVE,
	THREAD_ENDED, /* its exit waits for a join; its stack is back */
};

struct thread {
	struct idnode node; /* key: tid, in its space's threads */
	enum thread_state state;
	uint64_t stack;     /* the lowest address of its stack area (guard below the stack) */
	uint64_t stack_top; /* the first byte above it */
	uint32_t exit_reason;
	uint64_t exit_code;
};

/* Badges of kernel messages: the pid, and above it the thread's tid (0: the first thread). */
#define SPACE_TID_SHIFT 40
#define SPACE_PID_MASK  ((1ULL << SPACE_TID_SHIFT) - 1)

enum space_state {
	SPACE_FREE = 0,
	SPACE_LIVE,   /* its thread runs */
	SPACE_ZOMBIE, /* ended; its memory is back; the exit waits for the parent's wait */
};

struct space {
	/* Identity: pid (1, 2, ... never reused), which is also its endpoint badge. */
	struct idnode node; /* key: pid, in the pid index */
	struct space *next; /* the list of every process, oldest first */
	struct space *prev;
	enum space_state state;
	uint64_t pid;
	struct space *parent; /* NULL: the pager's own (init; orphans once init has ended) */
	bool doomed;          /* killed with its tree, or because init ended: never adopted */
	bool may_trace;       /* started with devices.trace: may call pager.trace */
	bool killed;          /* its address space destroyed by a kill; its notice still to come */
	uint64_t kill_code;   /* the code the kill gave, reported for it */
	/* Its own limits on its subtree (limit.c), MICA_PAGER_NO_LIMIT for none. */
	uint64_t mem_limit;   /* pages mapped */
	uint64_t procs_limit; /* descendants */
	char name[MICA_BOOTINFO_NAME_MAX];
	/* Kernel objects (handles in the pager's table). */
	mica_handle_t as; /* MEMORY, MANAGE */
	mica_handle_t ep; /* the pager endpoint, badged with pid (while it is spawned) */
	/* Its other threads (thread.c), by tid. */
	struct idtree threads;
	uint64_t next_tid;
	uint64_t threads_live; /* of them, not ended */
	/* Memory. */
	struct region_set regions; /* nodes are struct space_region, from a slab */
	struct seg segs[SPACE_SEGS];
	uint64_t heap_start,
	    brk;           /* the heap region is [heap_start, page-up(brk)) when brk > start */
	uint64_t resident; /* frames mapped in it */
	/* How it ended (zombies). */
	uint32_t exit_reason;
	uint64_t exit_code;
};

/* Every process, live or zombie, oldest first (linked by next). */
extern struct space *space_first;

/* A new process record with a fresh pid (state SPACE_FREE until the caller sets it), or NULL. */
struct space *space_alloc(void);
/* Forget s (a record from space_alloc, torn down): its pid names nothing from now on. */
void space_free(struct space *s);
/* The live or zombie process with this pid (= badge), or NULL. O(log n). */
struct space *space_by_pid(uint64_t pid);
/* The process with the lowest pid above pid (0: the first), or NULL: a walk in pid order. */
struct space *space_after(uint64_t pid);
/* The pid the next process will get (pids count up from 1 and are never reused). */
uint64_t space_next_pid(void);
/* Live processes. */
unsigned space_live_count(void);
/* Records and their frames, for the stats of make bench and the tests. */
uint64_t space_meta_frames(void);
/* What is backed in region r of s. */
static inline struct backing *space_backing(struct space *s, const struct region *r)
{
	(void)s;
	return &((struct space_region *)(uintptr_t)r)->b;
}
/* region_insert, with nothing backed in the new region. */
int space_insert(struct space *s, uint64_t start, uint64_t end, uint32_t rights,
                 enum region_kind kind, void *data, struct region **out);
/*
 * Unmap [start, end) of region r of s (only pages that are mapped) and
 * free their frames. Returns 0 or a kernel error.
 */
int space_unmap_range(struct space *s, struct region *r, uint64_t start, uint64_t end);
/* Remove region r of s, freeing its frames. */
int space_remove_region(struct space *s, struct region *r);
/*
 * Map frame pa at va (in region r) in s with rights; feeds the kernel's
 * reserve and retries once on ENOMEM.
 */
int space_map(struct space *s, struct region *r, uint64_t va, uint64_t pa, uint32_t rights);
/* Back [start, end) of region r of s with zeroed (or image) frames now. MICA_ENOMEM: pool empty. */
int space_fill(struct space *s, struct region *r, uint64_t start, uint64_t end);
/* Destroy s's address space: every frame back to the pool, handles closed. */
void space_teardown(struct space *s);

/* ---- thread.c: threads beyond a process's first ---- */

int thread_start(struct space *s, uint64_t entry, uint64_t arg, uint64_t *tid);
void thread_ended(struct space *s, uint64_t tid, uint64_t reason, uint64_t code);
int thread_join(struct space *s, uint64_t tid, uint32_t *reason, uint64_t *code);
void thread_forget_all(struct space *s);
uint64_t thread_meta_frames(void);

/* ---- fault.c ---- */

/* Answer a page fault of process s: 0 to resume, or a MICA_PAGER_KILL_* code. */
uint64_t fault_handle(struct space *s, uint64_t addr, uint64_t access, uint64_t rip);
/* Fill the page at va (in region r of s) from its backing into the frame at pa. */
uint64_t fault_frame(const struct region *r, uint64_t va);

/* ---- cow.c: copy on write (frames shared read-only, copied at the first write) ---- */

/* The rights a page of region r on frame pa is mapped with: without write while copy on write. */
uint32_t cow_rights(const struct region *r, uint64_t pa);
/* Share r's backed pages with region dr of d (same range), copy on write. 0 or an error. */
int cow_share_region(struct space *s, struct region *r, struct space *d, struct region *dr);
/* A write fault at the present page va of writable, unshared region r: 0 or a KILL code. */
uint64_t cow_fault(struct space *s, struct region *r, uint64_t va);
/* pa, or a private copy of it if copy on write in r (the old count dropped); 0: no frame. */
uint64_t cow_private(const struct region *r, uint64_t pa);
/* Write len bytes at va into d's own copy of the page (one page; writable, unshared region). */
int cow_write(struct space *d, uint64_t va, const void *data, uint64_t len);

/* ---- fork.c: pager.fork ---- */

int fork_process(struct space *s, uint64_t entry, uint64_t stack, uint64_t info, uint64_t *pid);

/* ---- dump.c: pager.dump, the state for memview and tools/memmap.py (docs/MEMDUMP.md) ---- */

int dump_op(void *ctx, uint64_t badge, uint32_t part, uint64_t pid, uint64_t cursor, uint64_t *next,
            uint8_t *chunk, uint32_t *len);

/* ---- worker.c: the pager's threads and the token that serves ---- */

#define WORKER_MAX         6                /* threads beyond the first */
#define WORKER_SLOTS       (WORKER_MAX + 1) /* every thread: a memory server's window pages */
#define WORKER_LABEL_TOKEN 0x100            /* a worker asks for the token (not an IDL label) */

int worker_reserve(void);
int worker_init(void (*make_srv)(struct ipc_server *srv));
struct ipc_server *worker_server(unsigned i);
/* The worker that holds the token (the caller, if it runs pager code). */
unsigned worker_current(void);
int worker_release(void);
void worker_acquire(unsigned me);
bool worker_message(const struct ipc_msg *req);
void worker_exit(int64_t code);

/* ---- spawnobj.c: pager.spawn_object, a program whose image is a memory object ---- */

int spawnobj_spawn(struct space *parent, uint64_t object, const char *name, const char *args,
                   uint64_t mem_pages, uint64_t procs, uint64_t *pid);

/* ---- memobj.c: memory objects served by memory servers (docs/MEMORY_SERVERS.md) ---- */

int memobj_serve(struct space *s, mica_handle_t ep);
int memobj_ctl(struct space *s, uint32_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t *out);
int memobj_map(struct space *s, uint64_t id, uint64_t offset, uint64_t length, uint32_t rights,
               uint32_t flags, uint64_t addr, uint64_t *at);
int memobj_stat(uint64_t id, uint64_t *size, uint32_t *rights, uint64_t *owner, uint64_t *cached,
                uint64_t *mappings);
int memobj_unmap(struct space *s, struct region *r);
int memobj_write(struct space *s, uint64_t id, uint64_t offset, const uint8_t *data, uint32_t len,
                 uint64_t *pages);
/* A fault in a REGION_OBJECT region: 0 (resume) or a MICA_PAGER_KILL_* code. */
uint64_t memobj_fault(struct space *s, struct region *r, uint64_t addr, uint64_t access);
void memobj_space_gone(struct space *s);
uint64_t memobj_meta_frames(void);
/* For spawnobj.c: may s run the object (read), its pages, a private mapping at a place. */
int memobj_run_check(const struct space *s, uint64_t id, uint64_t *size);
int memobj_page(uint64_t id, uint64_t idx, uint64_t *pa);
uint64_t memobj_cached(uint64_t id, uint64_t idx);
int memobj_map_at(struct space *s, uint64_t id, uint64_t offset, uint64_t length, uint32_t rights,
                  uint64_t at);
/* For fork.c: the child's own record of an object mapping; a shared mapping's region. */
void *memobj_fork_mapping(const void *data, const struct space *d);
void memobj_mapping_free(void *data);
bool memobj_region_shared(const struct region *r);

/* ---- watch.c: exit watches (pager.exit_watch) ---- */

int watch_set(struct space *s, mica_handle_t hint);
/* Process s has ended: its watch goes, every other one is signalled. */
void watch_ended(struct space *s);

/* ---- process.c ---- */

extern mica_handle_t pager_ep; /* the endpoint the pager serves */

/* The boot module named name (any, in the pool or not), or NULL. */
const struct mica_bootinfo_module *module_find(const char *name);
/* Start module `name` with args as a child of parent (NULL: the pager's). pid out. */
struct pager_devices;
int process_spawn_driver(struct space *parent, const char *name, const char *args,
                         uint64_t mem_pages, uint64_t procs, const struct pager_devices *dev,
                         uint64_t *pid);
int process_spawn(struct space *parent, const char *name, const char *args, uint64_t mem_pages,
                  uint64_t procs, uint64_t *pid);
/* Put a program's image into s (regions, heap start) and its entry in *entry: 0 or an error. */
typedef int (*process_load_fn)(struct space *s, const void *ctx, uint64_t *entry);
/* Start a child named name whose image load puts in place (process.c). */
int process_start(struct space *parent, const char *name, process_load_fn load, const void *ctx,
                  const char *args, uint64_t mem_pages, uint64_t procs,
                  const struct pager_devices *dev, uint64_t *pid);
/* An exit notice for process s arrived: reclaim it. */
void process_exited(struct space *s, uint64_t reason, uint64_t code, uint64_t addr, uint64_t rip);
/* The wait call. */
int process_wait(struct space *s, uint64_t pid, uint32_t *reason, uint64_t *code);
/* The kill call (tree: the child's descendants too). */
int process_kill(struct space *s, uint64_t pid, uint64_t code, bool tree);
/* The children call: pids of s's children from the first-th, at most cap; their count out. */
uint32_t process_children(struct space *s, uint32_t first, uint64_t *pids, uint32_t cap,
                          uint32_t *total);
void process_set_init(uint64_t pid);
/* Is s the init the pager started (init=), still running? */
bool process_is_init(const struct space *s);
bool process_init_failed(void);

/* ---- limit.c: per-process limits on a subtree (memory pages, descendants) ---- */

/*
 * What a running thread beyond the first costs its subtree's memory limit
 * besides its stack pages: its kernel block (8 KiB, from the reserve the
 * pager feeds), so threads are bounded by mem= as pages are.
 */
#define LIMIT_THREAD_PAGES 2

/*
 * What regions cost the limit besides their pages: nothing for the first
 * LIMIT_FREE_REGIONS of a process (as many as the old fixed table held),
 * then a page per LIMIT_REGIONS_PER_PAGE more (a slab frame of their
 * records), so a process under mem= cannot fill the pool with records.
 */
#define LIMIT_FREE_REGIONS     64
#define LIMIT_REGIONS_PER_PAGE 36
static inline uint64_t limit_region_pages(uint64_t regions)
{
	return regions > LIMIT_FREE_REGIONS
	           ? (regions - LIMIT_FREE_REGIONS + LIMIT_REGIONS_PER_PAGE - 1) /
	                 LIMIT_REGIONS_PER_PAGE
	           : 0;
}

/* Pages mapped in a's subtree (and LIMIT_THREAD_PAGES per extra thread), a included; a's
 * descendants. */
uint64_t limit_mem_used(const struct space *a);
uint64_t limit_procs_used(const struct space *a);
/* Pages s may still add under its and its ancestors' limits (UINT64_MAX: no limit). */
uint64_t limit_mem_room(const struct space *s);
/* May s grow by pages pages? 0, or MICA_ELIMIT (logged). */
int limit_mem_check(const struct space *s, uint64_t pages);
/* May parent (NULL: the pager) start a child? 0, or MICA_ELIMIT (logged). */
int limit_spawn_check(const struct space *parent);
/* Set child c's own limits (0: none) as asked, cut down to what parent has left. */
void limit_inherit(struct space *c, const struct space *parent, uint64_t mem_pages, uint64_t procs);

/* ---- names.c: the name service's endpoint (pager.set_names) ---- */

/* Make ep (a handle the caller gave, now ours) the name service, set by s (init). */
int names_set(struct space *s, mica_handle_t ep);
/* pager.set_exit_hint: init's notification, signalled when a child of its ends. 0 or MICA_EPERM. */
int names_set_hint(struct space *s, mica_handle_t hint);
/* The names handle to give child s (into its table): MICA_HANDLE_NONE if none is set. */
mica_handle_t names_give(struct space *s);
/* Process s ended: forget the service if s set it; else hint its parent if that did. */
void names_ended(struct space *s);

/* ---- heap.c ---- */

int heap_brk(struct space *s, uint64_t addr, uint64_t *now);
int anon_map(struct space *s, uint64_t addr, uint64_t npages, uint32_t rights, uint32_t flags,
             uint64_t *at);
int anon_unmap(struct space *s, uint64_t addr);

/* ---- share.c ---- */

int share_region(struct space *s, uint64_t addr, uint64_t pid, uint32_t rights, uint64_t *at);
int give_region(struct space *s, uint64_t addr, uint64_t pid, uint64_t *at);

#endif /* PAGER_PAGER_H */
