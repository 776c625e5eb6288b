/*
 * The pager: Mica's first task and its memory policy (README.md). It
 * takes the user pool from the boot-info page, starts the init program
 * (kernel command line init=<module>, else the second module, with
 * init.args=<one word> as its argument) and then
 * serves, on one endpoint, the pager interface (idl/pager.idl) and the
 * kernel's messages about the threads it created: page faults and exit
 * notices. With pager.exit_when_idle on the command line it ends once no
 * process is left, so that idle=exit can end the run.
 */
#include <idl/pager_server.h>
#include <mica/errname.h>
#include <mica/trace.h>

#include "cmdparse.h"
#include "pager.h"

const struct mica_bootinfo *boot;
static bool exit_when_idle;

__asm__(".section .text.start\n"
        ".global _start\n"
        "_start:\n"
        "	andq $-16, %rsp\n"
        "	call main\n"
        "	movq %rax, %rdi\n"
        "	movq $1, %rax\n" /* MICA_SYS_THREAD_EXIT */
        "	syscall\n"
        "	ud2\n"
        ".text\n");

/*
 * The value of option key in the kernel command line (the last word with
 * that key, read by the parser the kernel shares: lib/cmdparse.c), copied
 * to out (cap bytes); false if absent, or (logged) too long for out.
 */
static bool cmdline_opt(const char *key, char *out, unsigned cap)
{
	struct cmdparse_word w;

	if (!cmdparse_find(boot->cmdline, MICA_BOOTINFO_CMDLINE, key, &w))
		return false;
	if (cmdparse_copy(w.value, w.valuelen, out, cap))
		return true;
	log_str("pager: cmdline: ");
	log_str(key);
	log_str(": value longer than ");
	log_num(cap - 1);
	log_str(" characters, ignored\n");
	return false;
}

/* Whether the kernel command line has option key (a flag: any value is ignored). */
static bool cmdline_flag(const char *key)
{
	struct cmdparse_word w;

	return cmdparse_find(boot->cmdline, MICA_BOOTINFO_CMDLINE, key, &w) != 0;
}

/* The live process a request came from, by its badge; NULL for anyone else. */
static struct space *caller(uint64_t badge)
{
	struct space *s = space_by_pid(badge);

	return s && s->state == SPACE_LIVE ? s : 0;
}

/* ---- the pager interface (idl/pager.idl) ---- */

static int op_brk(void *ctx, uint64_t badge, uint64_t addr, uint64_t *now)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? heap_brk(s, addr, now) : MICA_EPERM;
}

static int op_sbrk(void *ctx, uint64_t badge, int64_t delta, uint64_t *old)
{
	struct space *s = caller(badge);
	uint64_t now;

	(void)ctx;
	if (!s)
		return MICA_EPERM;
	*old = s->brk;
	/* The new break stays in [heap_start, heap_start + limit]. */
	if (delta < 0 && (uint64_t) - (delta + 1) + 1 > s->brk - s->heap_start)
		return MICA_EINVAL;
	if (delta > 0 && (uint64_t)delta > MICA_PAGER_HEAP_LIMIT)
		return MICA_ENOMEM;
	if (delta == 0)
		return 0;
	/* Shrinking to the very start is brk(heap_start), which 0 cannot say. */
	return heap_brk(s, s->brk + (uint64_t)delta, &now);
}

static int op_map(void *ctx, uint64_t badge, uint64_t addr, uint64_t npages, uint32_t rights,
                  uint32_t flags, uint64_t *at)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? anon_map(s, addr, npages, rights, flags, at) : MICA_EPERM;
}

static int op_unmap(void *ctx, uint64_t badge, uint64_t addr)
{
	struct space *s = caller(badge);
	struct region *r = s ? region_find(&s->regions, addr) : 0;

	(void)ctx;
	if (!s)
		return MICA_EPERM;
	/* A memory object's mapping: its dirty pages go back to the server first (memobj.c). */
	if (r && r->start == addr && r->kind == REGION_OBJECT && r->data)
		return memobj_unmap(s, r);
	return anon_unmap(s, addr);
}

/* ---- memory objects (memobj.c, docs/MEMORY_SERVERS.md) ---- */

static int op_memobj_serve(void *ctx, uint64_t badge, mica_handle_t server)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s) {
		ipc_handle_drop(server);
		return MICA_EPERM;
	}
	return memobj_serve(s, server);
}

static int op_memobj_ctl(void *ctx, uint64_t badge, uint32_t op, uint64_t a, uint64_t b, uint64_t c,
                         uint64_t *out)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? memobj_ctl(s, op, a, b, c, out) : MICA_EPERM;
}

static int op_memobj_map(void *ctx, uint64_t badge, uint64_t object, uint64_t offset,
                         uint64_t length, uint32_t rights, uint32_t flags, uint64_t addr,
                         uint64_t *at)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? memobj_map(s, object, offset, length, rights, flags, addr, at) : MICA_EPERM;
}

static int op_memobj_write(void *ctx, uint64_t badge, uint64_t object, uint64_t offset,
                           const uint8_t *data, uint32_t data_len, uint64_t *pages)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? memobj_write(s, object, offset, data, data_len, pages) : MICA_EPERM;
}

static int op_exit_watch(void *ctx, uint64_t badge, mica_handle_t hint)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s) {
		ipc_handle_drop(hint);
		return MICA_EPERM;
	}
	return watch_set(s, hint);
}

static int op_memobj_stat(void *ctx, uint64_t badge, uint64_t object, uint64_t *size,
                          uint32_t *rights, uint64_t *owner, uint64_t *cached, uint64_t *mappings)
{
	(void)ctx, (void)badge;
	return memobj_stat(object, size, rights, owner, cached, mappings);
}

static int op_spawn(void *ctx, uint64_t badge, const char *module, const char *args, uint64_t *pid)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? process_spawn(s, module, args, 0, 0, pid) : MICA_EPERM;
}

static int op_spawn_with(void *ctx, uint64_t badge, const char *module, const char *args,
                         const struct pager_limits *lim, uint64_t *pid)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? process_spawn(s, module, args, lim->mem_pages, lim->procs, pid) : MICA_EPERM;
}

static int op_spawn_driver(void *ctx, uint64_t badge, const char *module, const char *args,
                           const struct pager_limits *lim, const struct pager_devices *dev,
                           uint64_t *pid)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s || !process_is_init(s))
		return MICA_EPERM;
	return process_spawn_driver(s, module, args, lim->mem_pages, lim->procs, dev, pid);
}

/* pager.spawn_object: a program whose image is a memory object (spawnobj.c). */
static int op_spawn_object(void *ctx, uint64_t badge, uint64_t object, const char *name,
                           const char *args, const struct pager_limits *lim, uint64_t *pid)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? spawnobj_spawn(s, object, name, args, lim->mem_pages, lim->procs, pid)
	         : MICA_EPERM;
}

static int op_wait(void *ctx, uint64_t badge, uint64_t pid, uint32_t *reason, uint64_t *code)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? process_wait(s, pid, reason, code) : MICA_EPERM;
}

static int op_kill(void *ctx, uint64_t badge, uint64_t pid, uint64_t code)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? process_kill(s, pid, code, false) : MICA_EPERM;
}

static int op_kill_tree(void *ctx, uint64_t badge, uint64_t pid, uint64_t code)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? process_kill(s, pid, code, true) : MICA_EPERM;
}

/*
 * pager.trace: the kernel's trace call made with our device authority, for
 * a process init started with the manifest option `trace` only.
 */
static int op_trace(void *ctx, uint64_t badge, uint32_t op, uint32_t mask, uint64_t *n)
{
	struct space *s = caller(badge);
	int64_t r;

	(void)ctx;
	if (!s || !s->may_trace)
		return MICA_EPERM;
	if (op == MICA_TRACE_START)
		r = mica_trace(boot->devices, op, mask ? mask : MICA_TRACE_ALL, 0);
	else if (op == MICA_TRACE_STOP || op == MICA_TRACE_DUMP)
		r = mica_trace(boot->devices, op, 0, 0);
	else
		return MICA_EINVAL;
	if (r < 0)
		return (int)r;
	*n = (uint64_t)r;
	return 0;
}

/* Whether pid runs: anyone may ask (init's name service does). */
static int op_running(void *ctx, uint64_t badge, uint64_t pid, uint32_t *live)
{
	const struct space *s = space_by_pid(pid);

	(void)ctx, (void)badge;
	*live = s && s->state == SPACE_LIVE;
	return 0;
}

static int op_children(void *ctx, uint64_t badge, uint32_t first, uint32_t *total, uint8_t *list,
                       uint32_t *len)
{
	struct space *s = caller(badge);
	uint64_t pids[PAGER_CHILDREN_PIDS_MAX / sizeof(uint64_t)];
	uint32_t n;

	(void)ctx;
	if (!s)
		return MICA_EPERM;
	n = process_children(s, first, pids, sizeof(pids) / sizeof(pids[0]), total);
	mem_copy(list, pids, n * sizeof(pids[0]));
	*len = n * (uint32_t)sizeof(pids[0]);
	return 0;
}

static int op_stats(void *ctx, uint64_t badge, uint64_t *pool_free, uint64_t *pool_total,
                    int32_t *largest, uint64_t *donated, struct pager_usage *mine)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s)
		return MICA_EPERM;
	*pool_free = buddy_free_count(&pool);
	*pool_total = buddy_pool_count(&pool);
	*largest = buddy_largest_free_order(&pool);
	*donated = pool_donated;
	mine->heap_start = s->heap_start;
	mine->brk = s->brk;
	mine->regions = region_count(&s->regions);
	mine->resident_pages = s->resident;
	mine->mem_limit = s->mem_limit;
	mine->mem_used = limit_mem_used(s);
	mine->procs_limit = s->procs_limit;
	mine->procs_used = limit_procs_used(s);
	return 0;
}

static int op_free_blocks(void *ctx, uint64_t badge, uint8_t *counts, uint32_t *len)
{
	(void)ctx;
	if (!caller(badge))
		return MICA_EPERM;
	for (unsigned k = 0; k <= BUDDY_MAX_ORDER; k++) {
		uint64_t n = buddy_free_blocks(&pool, k);

		mem_copy(counts + 8 * k, &n, 8);
	}
	*len = 8 * (BUDDY_MAX_ORDER + 1);
	return 0;
}

_Static_assert((int)MICA_PAGER_KIND_ANON == (int)REGION_ANON &&
                   (int)MICA_PAGER_KIND_IMAGE == (int)REGION_IMAGE &&
                   (int)MICA_PAGER_KIND_HEAP == (int)REGION_HEAP &&
                   (int)MICA_PAGER_KIND_STACK == (int)REGION_STACK &&
                   (int)MICA_PAGER_KIND_SHARED == (int)REGION_SHARED &&
                   (int)MICA_PAGER_KIND_OBJECT == (int)REGION_OBJECT,
               "the ABI's region kinds are the region set's");
_Static_assert(MICA_PAGER_REGIONS_MAX * sizeof(struct mica_pager_region) <= PAGER_REGIONS_LIST_MAX,
               "a regions reply holds MICA_PAGER_REGIONS_MAX regions");

static int op_regions(void *ctx, uint64_t badge, uint64_t pid, uint32_t first, uint32_t *total,
                      uint8_t *list, uint32_t *len)
{
	struct space *s = caller(badge), *t;
	uint32_t i = 0, n = 0;

	(void)ctx;
	if (!s)
		return MICA_EPERM;
	t = pid ? space_by_pid(pid) : s;
	/* Any running process's (idl/pager.idl: what it maps is no secret). */
	if (!t || t->state != SPACE_LIVE)
		return MICA_ENOENT;
	for (struct region *r = region_first(&t->regions); r;
	     r = region_next(&t->regions, r), i++) {
		if (i < first || n == MICA_PAGER_REGIONS_MAX)
			continue;
		struct mica_pager_region e = {.start = r->start,
		                              .end = r->end,
		                              .rights = r->rights,
		                              .kind = r->kind,
		                              .backed = space_backing(t, r)->pages};

		mem_copy(list + n++ * sizeof(e), &e, sizeof(e));
	}
	*total = i;
	*len = n * sizeof(struct mica_pager_region);
	return 0;
}

_Static_assert(sizeof(struct mica_pager_proc) == 128 &&
                   MICA_PAGER_PROCS_MAX * sizeof(struct mica_pager_proc) <= PAGER_PROCS_LIST_MAX,
               "a procs reply holds MICA_PAGER_PROCS_MAX processes");
_Static_assert(sizeof(((struct mica_pager_proc *)0)->name) == MICA_BOOTINFO_NAME_MAX,
               "a process's name is a module's");

/* Every process (live or ended, not yet waited for), from the first-th: anyone may list them. */
static int op_procs(void *ctx, uint64_t badge, uint32_t first, uint32_t *total, uint8_t *list,
                    uint32_t *len)
{
	uint32_t i = 0, n = 0;

	(void)ctx;
	if (!caller(badge))
		return MICA_EPERM;
	for (struct space *t = space_after(0); t; t = space_after(t->pid)) {
		if (i++ < first || n == MICA_PAGER_PROCS_MAX)
			continue;
		bool live = t->state == SPACE_LIVE;
		struct mica_pager_proc e = {
		    .pid = t->pid,
		    .parent = t->parent ? t->parent->pid : 0,
		    .state = live ? MICA_PAGER_PROC_LIVE : MICA_PAGER_PROC_ENDED,
		    .threads = live ? 1 + (uint32_t)idtree_count(&t->threads) : 0,
		    .regions = live ? region_count(&t->regions) : 0,
		    .exit_reason = live ? 0 : t->exit_reason,
		    .exit_code = live ? 0 : t->exit_code,
		    .resident = t->resident,
		    .mem_limit = t->mem_limit,
		    .mem_used = limit_mem_used(t),
		    .procs_limit = t->procs_limit,
		    .procs_used = limit_procs_used(t),
		};

		mem_copy(e.name, t->name, sizeof(e.name));
		e.name[sizeof(e.name) - 1] = 0;
		mem_copy(list + n++ * sizeof(e), &e, sizeof(e));
	}
	*total = i;
	*len = n * (uint32_t)sizeof(struct mica_pager_proc);
	return 0;
}

static int op_share(void *ctx, uint64_t badge, uint64_t addr, uint64_t pid, uint32_t rights,
                    uint64_t *at)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? share_region(s, addr, pid, rights, at) : MICA_EPERM;
}

static int op_give(void *ctx, uint64_t badge, uint64_t addr, uint64_t pid, uint64_t *at)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? give_region(s, addr, pid, at) : MICA_EPERM;
}

static int op_thread_create(void *ctx, uint64_t badge, uint64_t entry, uint64_t arg, uint64_t *tid)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? thread_start(s, entry, arg, tid) : MICA_EPERM;
}

static int op_fork(void *ctx, uint64_t badge, uint64_t entry, uint64_t stack, uint64_t info,
                   uint64_t *pid)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? fork_process(s, entry, stack, info, pid) : MICA_EPERM;
}

static int op_thread_join(void *ctx, uint64_t badge, uint64_t tid, uint32_t *reason, uint64_t *code)
{
	struct space *s = caller(badge);

	(void)ctx;
	return s ? thread_join(s, tid, reason, code) : MICA_EPERM;
}

static int op_set_exit_hint(void *ctx, uint64_t badge, mica_handle_t hint)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s) {
		ipc_handle_drop(hint);
		return MICA_EPERM;
	}
	return names_set_hint(s, hint);
}

static int op_set_names(void *ctx, uint64_t badge, mica_handle_t service)
{
	struct space *s = caller(badge);

	(void)ctx;
	if (!s) {
		ipc_handle_drop(service);
		return MICA_EPERM;
	}
	return names_set(s, service);
}

/*
 * The module list module_read gives for the name "": a line "<name>
 * <bytes>\n" for each boot module, in GRUB's order (the shell's
 * `modules`). At most 16 lines of 47 + 1 + 10 + 1 bytes.
 */
static char module_list[MICA_BOOTINFO_MODULES * (MICA_BOOTINFO_NAME_MAX + 12)];

static uint32_t module_list_make(void)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < boot->nmodules && i < MICA_BOOTINFO_MODULES; i++) {
		const struct mica_bootinfo_module *m = &boot->module[i];
		char digits[12];
		uint32_t d = 0, v = m->size;

		for (uint32_t k = 0; k < MICA_BOOTINFO_NAME_MAX - 1 && m->name[k]; k++)
			module_list[n++] = m->name[k];
		module_list[n++] = ' ';
		do
			digits[d++] = (char)('0' + v % 10);
		while ((v /= 10) != 0);
		while (d)
			module_list[n++] = digits[--d];
		module_list[n++] = '\n';
	}
	return n;
}

static int op_module_read(void *ctx, uint64_t badge, const char *name, uint64_t offset,
                          uint8_t *data, uint32_t *len, uint64_t *total)
{
	const struct mica_bootinfo_module *m = module_find(name);

	(void)ctx;
	if (!caller(badge))
		return MICA_EPERM;
	if (!name[0]) {
		/* The list of modules, read like one. */
		uint64_t size = module_list_make();

		if (offset > size)
			return MICA_ERANGE;
		uint64_t k = size - offset;

		if (k > PAGER_MODULE_READ_DATA_MAX)
			k = PAGER_MODULE_READ_DATA_MAX;
		mem_copy(data, module_list + offset, k);
		*len = (uint32_t)k;
		*total = size;
		return 0;
	}
	/* A module whose bytes we map (pool.c maps those in the pool). */
	if (!m || !(m->flags & MICA_MODULE_IN_POOL))
		return MICA_ENOENT;
	/* An offset within it (its end reads as nothing). */
	if (offset > m->size)
		return MICA_ERANGE;
	uint64_t n = m->size - offset;

	if (n > PAGER_MODULE_READ_DATA_MAX)
		n = PAGER_MODULE_READ_DATA_MAX;
	mem_copy(data, (const uint8_t *)PHYS(m->start) + offset, n);
	*len = (uint32_t)n;
	*total = m->size;
	return 0;
}

static const struct pager_ops ops = {
    .brk = op_brk,
    .sbrk = op_sbrk,
    .map = op_map,
    .unmap = op_unmap,
    .spawn = op_spawn,
    .spawn_with = op_spawn_with,
    .spawn_driver = op_spawn_driver,
    .spawn_object = op_spawn_object,
    .wait = op_wait,
    .kill = op_kill,
    .kill_tree = op_kill_tree,
    .children = op_children,
    .running = op_running,
    .trace = op_trace,
    .stats = op_stats,
    .free_blocks = op_free_blocks,
    .regions = op_regions,
    .procs = op_procs,
    .share = op_share,
    .give = op_give,
    .set_names = op_set_names,
    .set_exit_hint = op_set_exit_hint,
    .module_read = op_module_read,
    .dump = dump_op, /* dump.c */
    .thread_create = op_thread_create,
    .thread_join = op_thread_join,
    .memobj_serve = op_memobj_serve,
    .memobj_ctl = op_memobj_ctl,
    .memobj_map = op_memobj_map,
    .memobj_stat = op_memobj_stat,
    .memobj_write = op_memobj_write,
    .exit_watch = op_exit_watch,
    .fork = op_fork,
};

/* ---- the kernel's messages ---- */

/* Once nothing is left to serve (pager.exit_when_idle): the last count line, and exit. */
static void maybe_exit(void)
{
	if (!exit_when_idle || space_live_count())
		return;
	log_counts("idle");
	log_flush();
	worker_exit(process_init_failed() ? 1 : 0); /* the run's verdict, for idle=exit */
}

/*
 * A fault (answered: resume or kill) or an exit notice of one of our
 * processes' threads, known by the badge: the pid, and above it the tid
 * (0 for the first thread, whose end ends the process: reclaim it; another
 * thread's end frees its stack for thread_join).
 */
static void on_kernel(void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	struct space *s = space_by_pid(req->badge & SPACE_PID_MASK);
	uint64_t tid = req->badge >> SPACE_TID_SHIFT;

	(void)ctx;
	if (req->m.label == MICA_LABEL_FAULT) {
		uint64_t code = MICA_PAGER_KILL_UNMAPPED;

		if (s && s->state == SPACE_LIVE)
			code = fault_handle(s, req->m.w[0], req->m.w[1], req->m.w[2]);
		rep->m.label = code ? MICA_FAULT_KILL : MICA_FAULT_RESUME;
		rep->m.w[0] = code;
		return;
	}
	if (req->m.label == MICA_LABEL_EXIT && s && tid) {
		if (s->state == SPACE_LIVE)
			thread_ended(s, tid, req->m.w[1], req->m.w[2]);
		return;
	}
	if (req->m.label == MICA_LABEL_EXIT && s) {
		process_exited(s, req->m.w[1], req->m.w[2], req->m.w[3], req->m.w[4]);
		maybe_exit();
	}
}

/* The pager's dispatch: the workers' own messages (worker.c), then the pager interface. */
static int dispatch(const void *ops_, void *ctx, const struct ipc_msg *req, struct ipc_msg *rep)
{
	if (worker_message(req))
		return 0;
	return pager_dispatch_any(ops_, ctx, req, rep);
}

/* Set up a server loop of the pager's (each worker thread has its own buffers). */
static void server_setup(struct ipc_server *srv)
{
	pager_server_init(srv, &ops, 0);
	srv->dispatch = dispatch;
	srv->kernel = on_kernel;
}

/* How long a memory server may take over one request (pager.memobj_timeout_ms=, default 1 s). */
#define MEMOBJ_TIMEOUT_MS 1000

/* Print v / div with two decimals. */
static void log_ratio(uint64_t v, uint64_t div)
{
	uint64_t hundredths = div ? (v * 100 + div / 2) / div : 0;

	log_num(hundredths / 100);
	log_str(".");
	log_str(hundredths % 100 < 10 ? "0" : "");
	log_num(hundredths % 100);
}

/*
 * make bench's memory-overhead figures (pager.meta), from the real
 * structures: the kernel's per-frame metadata (mem_stats) over its pool,
 * and the pager's (buddy bitmaps, share counts, and the page tables the
 * kernel built for the physmap: the page-table count across pool_init)
 * over the frames it was given.
 */
static void log_meta(const struct mica_mem_stats *before)
{
	struct mica_mem_stats st;

	if (mica_mem_stats(&st) < 0 || !st.pool_total || !boot->pool_free)
		return;
	log_str("bench meta.kernel_bits_per_frame ");
	log_ratio(st.frame_meta * 8, st.pool_total);
	log_str(" bits/frame\nbench meta.pager_bytes_per_frame ");
	log_ratio(pool_meta_bytes() + (st.page_tables - before->page_tables) * MICA_PAGE_SIZE,
	          boot->pool_free);
	log_str(" bytes/frame\n");
}

int main(const struct mica_bootinfo *bi)
{
	char init[MICA_BOOTINFO_NAME_MAX], args[MICA_BOOTINFO_CMDLINE];
	uint64_t pid;
	int64_t r;

	boot = bi;
	if (bi->magic != MICA_BOOTINFO_MAGIC || bi->version != MICA_BOOTINFO_VERSION) {
		log_str("pager: bad boot info\n");
		return 1;
	}
	struct mica_mem_stats at_start = {0};

	(void)mica_mem_stats(&at_start);
	if ((r = pool_init()) < 0) {
		log_str("pager: cannot set up the pool: error ");
		log_str(mica_error_name(r));
		log_str("\n");
		return 2;
	}
	if (cmdline_opt("pager.meta", init, sizeof(init)))
		log_meta(&at_start);
	if (worker_reserve() < 0) {
		log_str("pager: no memory for its workers\n");
		return 2;
	}
	log_counts("start");
	if (cmdline_flag("pager.measure"))
		pool_measure_window();
	if ((r = mica_endpoint_create()) < 0)
		return 3;
	pager_ep = (mica_handle_t)r;
	exit_when_idle = cmdline_flag("pager.exit_when_idle");
	if (!cmdline_opt("init", init, sizeof(init))) {
		if (bi->nmodules < 2) {
			log_str("pager: no init module\n");
			return 4;
		}
		mem_copy(init, bi->module[1].name, sizeof(init));
	}
	if (!cmdline_opt("init.args", args, sizeof(args)))
		args[0] = 0;
	/* init.exit_when_done reaches init as its argument exit_when_done. */
	if (cmdline_flag("init.exit_when_done")) {
		uint32_t n = ipc_strnlen(args, sizeof(args));
		const char *w = n ? " exit_when_done" : "exit_when_done";

		for (uint32_t i = 0; w[i] && n + 1 < sizeof(args); i++)
			args[n++] = w[i];
		args[n] = 0;
	}
	if ((r = process_spawn(0, init, args, 0, 0, &pid)) < 0) {
		log_str("pager: cannot start init \"");
		log_str(init);
		log_str("\": error ");
		log_str(mica_error_name(r));
		log_str("\n");
		return 5;
	}
	process_set_init(pid);
	log_str("pager: started init \"");
	log_str(init);
	log_str("\" pid ");
	log_num(pid);
	log_str("\n");
	if (worker_init(server_setup) < 0)
		return 6;
	/* The pager calls nobody but memory servers (memobj.c): every call is bounded. */
	uint64_t ms = MEMOBJ_TIMEOUT_MS;

	if (cmdline_opt("pager.memobj_timeout_ms", args, sizeof(args)) &&
	    cmdparse_u64(args, ipc_strnlen(args, sizeof(args)), &ms) != CMDPARSE_NUM_OK)
		ms = MEMOBJ_TIMEOUT_MS;
	(void)ipc_set_call_timeout((ms ? ms : 1) * 1000000ULL);
	server_setup(worker_server(0));
	return (int)ipc_serve(worker_server(0), pager_ep);
}
