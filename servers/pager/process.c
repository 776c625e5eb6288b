/*
 * Processes: spawn a boot module (its ELF64 image checked by elf.c, into image
 * regions that are filled on first touch; a stack with the startup info,
 * argc and argv; an empty heap), and reclaim a process when its thread
 * ends. A child's exit waits for its parent's wait call; the pager's own
 * children (init) are forgotten at once. Orphans pass to init; killing
 * can take a whole subtree; init's end ends everything left.
 */
#include <idl/pager_server.h>

#include "elf.h"
#include "pager.h"

#define PAGE         MICA_PAGE_SIZE
#define PAGE_DOWN(x) ((x) & ~(PAGE - 1))
#define PAGE_UP(x)   (((x) + PAGE - 1) & ~(PAGE - 1))
#define PROCESS_PRIO 8 /* below the pager's 16: a fault or call runs the pager at once */
#define ARGS_MAX     32

mica_handle_t pager_ep;

static bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

/*
 * Init, the process the pager started itself (init= on the command line),
 * known by its pid, which is never reused (space.c adds a generation); and
 * whether it ended badly. Init's identity is this pid, never "has no
 * parent": an orphan has no parent either.
 */
static uint64_t init_pid;
static bool init_failed;

/* Remember pid as init (main.c, once it is spawned). */
void process_set_init(uint64_t pid)
{
	init_pid = pid;
}

/* Is s init, and still running? Once init has ended, no process is init again. */
bool process_is_init(const struct space *s)
{
	return init_pid != 0 && s->pid == init_pid && s->state == SPACE_LIVE;
}

/* Did init end killed or with a non-zero code? The pager's own exit code says so. */
bool process_init_failed(void)
{
	return init_failed;
}

/*
 * Read the image of module m (elf.c checks it) into regions of s: one per
 * PT_LOAD segment, with its rights, filled from the module on first touch
 * (the bytes past the file's part read as zero). Sets the entry and the
 * heap's start (the page after the highest segment). MICA_ENOEXEC for an
 * image elf_read refuses.
 */
static int image_read(struct space *s, const void *ctx, uint64_t *entry)
{
	const struct mica_bootinfo_module *m = ctx;
	struct elf_seg es[SPACE_SEGS];
	uint64_t end = 0;
	int n = elf_read(PHYS(m->start), m->size, es, SPACE_SEGS, entry);

	if (n < 0)
		return n;
	for (int i = 0; i < n; i++) {
		struct seg *g = &s->segs[i];
		uint64_t hi = PAGE_UP(es[i].vaddr + es[i].memsz);

		g->vaddr = es[i].vaddr;
		g->filesz = es[i].filesz;
		g->file = m->start + es[i].offset;
		if (space_insert(s, PAGE_DOWN(es[i].vaddr), hi, es[i].rights, REGION_IMAGE, g, 0) <
		    0)
			return MICA_ENOEXEC;
		if (hi > end)
			end = hi;
	}
	s->heap_start = s->brk = end;
	return 0;
}

/*
 * Build the stack: the stack region and its guard page, and the top page
 * backed now, holding the startup info, the argument strings, argv and
 * argc (include/mica/pager.h). Returns the initial RSP, or 0 (no frame).
 */
static uint64_t stack_build(struct space *s, const char *args, mica_handle_t child_ep,
                            mica_handle_t names, mica_handle_t irq, mica_handle_t ports)
{
	const uint64_t top = MICA_PAGER_STACK_TOP, low = top - MICA_PAGER_STACK_INIT;
	struct region *r;

	if (space_insert(s, low, top, REGION_READ | REGION_WRITE, REGION_STACK, 0, &r) < 0 ||
	    space_insert(s, low - PAGE, low, 0, REGION_STACK, 0, 0) < 0)
		return 0;
	uint64_t pa = frame_alloc();

	if (!pa)
		return 0;
	uint8_t *page = PHYS(pa); /* the page at top - PAGE, as the pager sees it */
	uint64_t sp = top - ((sizeof(struct mica_startup) + 15) & ~15ULL);
	struct mica_startup *st = (struct mica_startup *)(page + (sp - (top - PAGE)));
	uint64_t argv[ARGS_MAX + 1];
	uint64_t argc = 0;
	const char *words[ARGS_MAX];
	uint64_t lens[ARGS_MAX];

	/* argv[0] is the name; then the words of args. */
	words[argc] = s->name;
	lens[argc++] = ipc_strnlen(s->name, MICA_BOOTINFO_NAME_MAX);
	for (const char *p = args; *p && argc < ARGS_MAX;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		words[argc] = p;
		while (*p && *p != ' ')
			p++;
		lens[argc] = (uint64_t)(p - words[argc]);
		argc++;
	}
	/* The strings, below the startup info. */
	for (uint64_t i = argc; i-- > 0;) {
		sp -= lens[i] + 1;
		mem_copy(page + (sp - (top - PAGE)), words[i], lens[i]);
		page[sp - (top - PAGE) + lens[i]] = 0;
		argv[i] = sp;
	}
	argv[argc] = 0;
	/* argv and argc, RSP 16-byte aligned at argc. */
	sp &= ~15ULL;
	sp -= ((argc + 2) * 8 + 15) & ~15ULL;
	uint64_t *words_out = (uint64_t *)(page + (sp - (top - PAGE)));

	words_out[0] = argc;
	for (uint64_t i = 0; i <= argc; i++)
		words_out[1 + i] = argv[i];
	st->magic = MICA_STARTUP_MAGIC;
	st->version = MICA_STARTUP_VERSION;
	st->pager = child_ep;
	st->pid = s->pid;
	st->argc = argc;
	st->argv = (char **)(sp + 8);
	st->heap_start = s->heap_start;
	st->heap_limit = MICA_PAGER_HEAP_LIMIT;
	st->stack_top = top;
	st->stack_limit = MICA_PAGER_STACK_LIMIT;
	st->names = names;
	st->irq = irq;
	st->ports = ports;
	if (space_map(s, r, top - PAGE, pa, REGION_READ | REGION_WRITE) < 0) {
		frame_free(pa);
		return 0;
	}
	return sp;
}

/*
 * A driver's devices (spawn_driver), made from the kernel's device
 * authority and given to s: *irq and *ports are their numbers in s's table
 * (MICA_HANDLE_NONE for none). Our own copies are closed: when s ends, its
 * address space goes and with it the last handles, so the line is masked
 * and the range free again. Errors: the kernel's (include/mica/device.h).
 */
static int give_devices(struct space *s, const struct pager_devices *dev, mica_handle_t *irq,
                        mica_handle_t *ports)
{
	int64_t r, g;

	*irq = *ports = MICA_HANDLE_NONE;
	if (!dev)
		return 0;
	if (dev->irq >= 0) {
		if ((r = mica_irq_create(boot->devices, (uint64_t)dev->irq)) < 0)
			return (int)r;
		g = mica_handle_give(s->as, (mica_handle_t)r, ~0u);
		mica_handle_close((mica_handle_t)r);
		if (g < 0)
			return (int)g;
		*irq = (mica_handle_t)g;
	}
	if (dev->port_count) {
		if ((r = mica_ioport_create(boot->devices, dev->port_first, dev->port_count)) < 0)
			return (int)r;
		g = mica_handle_give(s->as, (mica_handle_t)r, ~0u);
		mica_handle_close((mica_handle_t)r);
		if (g < 0)
			return (int)g;
		*ports = (mica_handle_t)g;
	}
	return 0;
}

/* The steps of a spawn on slot s, undone by the caller on error. */
static int spawn_into(struct space *s, process_load_fn load, const void *ctx, const char *args,
                      const struct pager_devices *dev)
{
	mica_handle_t irq, ports;
	uint64_t entry, sp;
	int64_t r;
	int e;

	if ((r = mica_aspace_create(boot->aspace)) < 0)
		return (int)r;
	s->as = (mica_handle_t)r;
	if ((e = load(s, ctx, &entry)) < 0)
		return e;
	/*
	 * The stack and its guard page have their place in the layout: an image
	 * with a segment there is one we do not run (else stack_build's
	 * insertion would fail, and the spawn say MICA_ENOMEM).
	 */
	const struct region *at =
	    region_find_from(&s->regions, MICA_PAGER_STACK_TOP - MICA_PAGER_STACK_INIT - PAGE);

	if (at && at->start < MICA_PAGER_STACK_TOP)
		return MICA_ENOEXEC;
	/* The endpoint it reaches the pager by, badged with its pid: in our table and in its own.
	 */
	if ((r = mica_handle_mint(pager_ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, s->pid)) < 0)
		return (int)r;
	s->ep = (mica_handle_t)r;
	if ((r = mica_handle_give(s->as, s->ep, MICA_RIGHT_SEND)) < 0)
		return (int)r;
	mica_handle_t ep_child = (mica_handle_t)r;

	if ((e = give_devices(s, dev, &irq, &ports)) < 0)
		return e;
	if (!(sp = stack_build(s, args, ep_child, names_give(s), irq, ports)))
		return MICA_ENOMEM;
	/*
	 * The pages backed now (the stack's top page; for spawn_object each
	 * page where data meets bss) count against the limits of the subtree
	 * the child joins, its own included: s is not yet live, so the room
	 * is what is left before it. Over it: MICA_ELIMIT (logged), undone by
	 * the caller before the thread exists.
	 */
	if ((e = limit_mem_check(s, s->resident + limit_region_pages(region_count(&s->regions)))) <
	    0)
		return e;
	struct mica_thread_params p = {.entry = entry,
	                               .stack_top = sp,
	                               .arg = MICA_PAGER_STACK_TOP -
	                                      ((sizeof(struct mica_startup) + 15) & ~15ULL),
	                               .priority = PROCESS_PRIO,
	                               .pager = s->ep,
	                               .supervisor = s->ep};

	if ((r = mica_thread_create(s->as, &p)) < 0)
		return (int)r;
	/*
	 * The kernel keeps the thread's references to it and the endpoint: the
	 * address space is our one handle per process (kill_thread needs no other).
	 */
	mica_handle_close((mica_handle_t)r);
	mica_handle_close(s->ep);
	s->ep = MICA_HANDLE_NONE;
	return 0;
}

/* The boot module named name, or NULL. */
const struct mica_bootinfo_module *module_find(const char *name)
{
	for (uint32_t i = 0; i < boot->nmodules && i < MICA_BOOTINFO_MODULES; i++)
		if (str_eq(boot->module[i].name, name))
			return &boot->module[i];
	return 0;
}

/*
 * Start boot module `name` as a child of parent (NULL: the pager's own),
 * with args and its own limits (0: none; limit.c); its pid goes to *pid.
 * Errors: MICA_ENOENT no such module (or not in the pool), MICA_EPERM the
 * pager's own module, MICA_ELIMIT a descendants limit reached or the pages
 * backed at spawn (the stack's top page) over a memory limit, MICA_ENOEXEC
 * a bad image (also one with a segment over the stack's pages), MICA_ENOMEM
 * no slot, frame or kernel memory; the kernel's errors.
 */
int process_spawn(struct space *parent, const char *name, const char *args, uint64_t mem_pages,
                  uint64_t procs, uint64_t *pid)
{
	return process_spawn_driver(parent, name, args, mem_pages, procs, 0, pid);
}

/* process_spawn with devices for a driver (dev NULL: none); also give_devices' errors. */
int process_spawn_driver(struct space *parent, const char *name, const char *args,
                         uint64_t mem_pages, uint64_t procs, const struct pager_devices *dev,
                         uint64_t *pid)
{
	const struct mica_bootinfo_module *m = module_find(name);

	/* A module we can read, and not the pager itself. */
	if (!m || !(m->flags & MICA_MODULE_IN_POOL))
		return MICA_ENOENT;
	if (m == &boot->module[0])
		return MICA_EPERM;
	return process_start(parent, m->name, image_read, m, args, mem_pages, procs, dev, pid);
}

/*
 * Start a child of parent named name whose image load(s, ctx, &entry)
 * puts into its address space (regions, heap start; an error undoes the
 * spawn): the rest of a spawn (limits, pid, stack, endpoint, thread) as
 * process_spawn_driver says.
 */
int process_start(struct space *parent, const char *name, process_load_fn load, const void *ctx,
                  const char *args, uint64_t mem_pages, uint64_t procs,
                  const struct pager_devices *dev, uint64_t *pid)
{
	struct space *s;
	int e;

	/* Room under the parent's and its ancestors' descendants limits. */
	if ((e = limit_spawn_check(parent)) < 0)
		return e;
	if (!(s = space_alloc()))
		return MICA_ENOMEM;
	limit_inherit(s, parent, mem_pages, procs);
	pool_feed_kernel(); /* the thread, address space and page tables come from the reserve */
	s->parent = parent;
	s->may_trace = dev && dev->trace;
	for (unsigned i = 0; i < sizeof(s->name); i++)
		if (!(s->name[i] = name[i]))
			break;
	s->name[sizeof(s->name) - 1] = 0;
	if ((e = spawn_into(s, load, ctx, args, dev)) < 0) {
		space_teardown(s);
		space_free(s);
		return e;
	}
	s->state = SPACE_LIVE;
	*pid = s->pid;
	return 0;
}

/* Is d a descendant of a (a child, a grandchild, ...)? */
static bool descends(const struct space *d, const struct space *a)
{
	for (const struct space *p = d->parent; p; p = p->parent)
		if (p == a)
			return true;
	return false;
}

/*
 * End every thread of s now: its address space is destroyed (the frames
 * come back at once), and the first thread's exit notice (MICA_EXIT_KILLED)
 * follows, reported with code (the pager keeps no thread handle, so it
 * kills through the address space, which ends all threads alike).
 * MICA_EPEER if s was killed already and its notice is not yet taken.
 */
static int kill_thread(struct space *s, uint64_t code)
{
	if (s->killed)
		return MICA_EPEER;
	s->killed = true;
	s->kill_code = code;
	space_teardown(s);
	return 0;
}

static void log_proc(const char *what, const struct space *s, const char *why)
{
	log_str("pager: ");
	log_str(what);
	log_str(s->name);
	log_str(" pid ");
	log_num(s->pid);
	log_str(why);
	log_str("\n");
}

/*
 * Live child c of a process that has ended: it passes to init (as in
 * Unix), which can wait for it and kill it (pager.children lists it).
 * With no init left, or if c is being killed with its tree, the pager is
 * its parent: its exit is forgotten at once.
 */
static void adopt(struct space *c, struct space *init)
{
	if (init && !c->doomed) {
		c->parent = init;
		log_proc("", c, " adopted by init");
	} else {
		c->parent = 0;
	}
}

/*
 * Init has ended: nothing can supervise what still runs, so the pager
 * kills every process left (logged), and the run can end
 * (pager.exit_when_idle).
 */
static void init_gone(void)
{
	for (struct space *c = space_first; c; c = c->next) {
		if (c->state != SPACE_LIVE || c->doomed)
			continue;
		c->doomed = true;
		log_proc("init ended: killing ", c, "");
		(void)kill_thread(c, 0);
	}
}

/*
 * Process s's thread ended (its exit notice: reason, code, and for faults
 * the address and rip): every frame back to the pool, the address space
 * and handles gone. Its exit waits for its parent's wait. Its live
 * children pass to init (adopt); its ended ones are forgotten. If s is
 * init, the pager kills whatever still runs (init_gone).
 */
void process_exited(struct space *s, uint64_t reason, uint64_t code, uint64_t addr, uint64_t rip)
{
	(void)addr, (void)rip;
	if (s->state != SPACE_LIVE)
		return;
	if (s->killed && reason == MICA_EXIT_KILLED)
		code = s->kill_code; /* aspace_destroy's notice says 0 */
	log_str("pager: ");
	log_str(s->name);
	log_str(" pid ");
	log_num(s->pid);
	log_str(" ended: reason ");
	log_num(reason);
	log_str(" code ");
	log_num(code);
	log_str("\n");
	space_teardown(s);
	bool was_init = s->pid == init_pid;
	struct space *init = was_init ? 0 : space_by_pid(init_pid);

	if (init && init->state != SPACE_LIVE)
		init = 0;
	for (struct space *c = space_first, *next; c; c = next) {
		next = c->next;
		if (c->parent != s)
			continue;
		if (c->state == SPACE_ZOMBIE)
			space_free(c);
		else
			adopt(c, init);
	}
	if (was_init)
		init_failed = reason != MICA_EXIT_NORMAL || code != 0;
	s->exit_reason = (uint32_t)reason;
	s->exit_code = code;
	s->state = SPACE_ZOMBIE;
	names_ended(s);
	watch_ended(s);
	if (!s->parent)
		space_free(s); /* nobody waits for it */
	if (was_init)
		init_gone();
}

/*
 * The wait call of process s for its child pid: MICA_ENOENT not its
 * child, MICA_EAGAIN still running; else the reason and code, and the
 * child is forgotten.
 */
int process_wait(struct space *s, uint64_t pid, uint32_t *reason, uint64_t *code)
{
	struct space *c = space_by_pid(pid);

	if (!c || c->parent != s)
		return MICA_ENOENT;
	if (c->state == SPACE_LIVE)
		return MICA_EAGAIN;
	*reason = c->exit_reason;
	*code = c->exit_code;
	space_free(c);
	return 0;
}

/*
 * The kill call of process s for its child pid: the kernel ends the
 * child's thread with `code`, and its exit notice (MICA_EXIT_KILLED), which
 * this endpoint receives next, tears the process down (process_exited).
 * With tree, every descendant of the child is killed too (first), and
 * none of them passes to init: their exits are forgotten. MICA_ENOENT
 * not its child, MICA_EPEER it has already ended.
 */
int process_kill(struct space *s, uint64_t pid, uint64_t code, bool tree)
{
	struct space *c = space_by_pid(pid);

	/* A child of the caller's (its own or adopted), still running. */
	if (!c || c->parent != s)
		return MICA_ENOENT;
	if (c->state != SPACE_LIVE)
		return MICA_EPEER;
	for (struct space *d = tree ? space_first : 0; d; d = d->next) {
		if (d->state != SPACE_LIVE || !descends(d, c))
			continue;
		d->doomed = true;
		(void)kill_thread(d, code);
	}
	return kill_thread(c, code);
}

/*
 * The children call of s: the pids of its children (its own and those it
 * adopted; running or ended and not yet waited for), from the first-th
 * on, up to cap of them into pids; how many it has goes to *total.
 * Returns how many were listed.
 */
uint32_t process_children(struct space *s, uint32_t first, uint64_t *pids, uint32_t cap,
                          uint32_t *total)
{
	uint32_t i = 0, n = 0;

	for (struct space *c = space_first; c; c = c->next) {
		if (c->parent != s)
			continue;
		if (i++ >= first && n < cap)
			pids[n++] = c->pid;
	}
	*total = i;
	return n;
}
