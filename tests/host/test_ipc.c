/*
 * Host unit tests for kernel/ipc.c: the message copy rules and the argument
 * checks of send, recv, call and reply_recv. The real ipc.c, handle.c,
 * kobj.c and syscall.c run, entered through syscall_dispatch, against fakes
 * of what lies below them: a scheduler whose sched_block returns at once
 * (the test then plays the partner), user memory of a few pages per task
 * with per-page rights (the usercopy routines), and a few frames for
 * endpoints. The real timer.c keeps the deadlines; the test ticks it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/error.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/syscall.h>
#include "aspace.h"
#include "fakes.h"
#include "frame.h"
#include "handle.h"
#include "ipc.h"
#include "ipcbuf.h"
#include "kobj.h"
#include "panic.h"
#include "sched.h"
#include "serial.h"
#include "syscall.h"
#include "thread.h"
#include "timer.h"
#include "usercopy.h"

#define PAGE MICA_PAGE_SIZE

/*
 * Every task's user memory: UPAGES pages from UBASE. Page 0 holds the
 * threads' descriptors, pages 1-2 a send area, pages 3-4 a receive area,
 * page 5 is read-only. Anything else is unmapped.
 */
#define UBASE  0x10000000ULL
#define UPAGES 6
#define U_DESC UBASE
#define U_SEND (UBASE + 1 * PAGE)
#define U_RECV (UBASE + 3 * PAGE)
#define U_RO   (UBASE + 5 * PAGE)
#define U_R    1u /* page readable */
#define U_W    2u /* page writable */
#define U_RW   (U_R | U_W)
#define FILL   0xEE /* what user memory holds before anything is copied */

/* What a call returns when the fake sched_block "switches away". */
#define BLOCKED ((int64_t)0x0B10C4ED)

/* What the kernel must overwrite in a receiver's descriptor. */
#define LEN_UNSET    0xDEADu
#define HANDLE_UNSET ((int32_t)0x5A5A)

#define BADGE_A 0xA11CEULL
#define BADGE_C 0xC0FFEEULL
#define LABEL   0x1234ULL

/* ---- fake frames: endpoints live in them ---- */

#define NFRAMES 8
static uint8_t *ram;
static bool frame_used[NFRAMES];

int frame_alloc(paddr_t *pa)
{
	for (unsigned i = 1; i < NFRAMES; i++) {
		if (!frame_used[i]) {
			frame_used[i] = true;
			*pa = (paddr_t)i * PAGE;
			return MICA_OK;
		}
	}
	return MICA_ENOMEM;
}

int frame_alloc_run(uint64_t n, uint64_t align, paddr_t *pa)
{
	(void)n;
	(void)align;
	(void)pa;
	fail_msg("frame_alloc_run: endpoint slabs are one frame");
	return MICA_ENOMEM;
}

int frame_free(paddr_t pa, uint64_t n)
{
	assert_int_equal(n, 1);
	assert_true(IS_ALIGNED(pa, PAGE) && pa != 0 && pa / PAGE < NFRAMES);
	assert_true(frame_used[pa / PAGE]);
	frame_used[pa / PAGE] = false;
	memset(ram + pa, 0xCC, PAGE); /* a use after free reads garbage */
	return MICA_OK;
}

/* Objects alive once setup has made the tasks and threads: the rest are endpoints. */
static uint64_t objects0;

static uint64_t endpoints_live(void)
{
	return kobj_count() - objects0;
}

static unsigned frames_used(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < NFRAMES; i++)
		n += frame_used[i];
	return n;
}

/* ---- tasks (address space, handle table, user memory) and threads ---- */

#define NSLOTS 8

struct task {
	struct aspace as;
	struct handle slot[NSLOTS];
	unsigned perm[UPAGES]; /* U_R, U_W; 0 = unmapped */
	uint8_t mem[UPAGES][PAGE];
};

/* A thread's block as thread.h lays it out: the object, then its trap frame at the top. */
struct fthread {
	union {
		struct thread t;
		uint8_t below_frame[THREAD_BLOCK_SIZE - sizeof(struct trap_frame)];
	};
	struct trap_frame f; /* thread_frame(&t) */
	vaddr_t desc;        /* its descriptor */
	unsigned blocks;     /* sched_block calls */
	unsigned wakes;      /* sched_wake calls that woke it */
	unsigned buries;     /* sched_bury calls */
};

#define NTASKS   3
#define NTHREADS 4
static struct task task[NTASKS];
static struct fthread th[NTHREADS];

/* The client task and thread, the server task with two threads, a second client. */
static struct task *const ta = &task[0];
static struct task *const tb = &task[1];
static struct task *const tc = &task[2];
static struct fthread *const cli = &th[0];
static struct fthread *const srv = &th[1];
static struct fthread *const srv2 = &th[2];
static struct fthread *const cli2 = &th[3];

/* The endpoint under test and a second one, to pass around. */
static struct endpoint *ep, *ep2;
static mica_handle_t hb;       /* tb: ep, SEND RECV COPY */
static mica_handle_t ha;       /* ta: ep, SEND COPY, badge BADGE_A */
static mica_handle_t ha_recv;  /* ta: ep, RECV only */
static mica_handle_t ha_x;     /* ta: ep2, SEND RECV COPY */
static mica_handle_t ha_xnc;   /* ta: ep2, SEND (no COPY) */
static mica_handle_t ha_as;    /* ta: its own address space (not an endpoint) */
static mica_handle_t ha_th;    /* ta: the client thread (not an endpoint) */
static mica_handle_t hc;       /* tc: ep, SEND, badge BADGE_C */
static mica_handle_t ha_close; /* ta: a handle closed in setup */

static struct thread *current;
static unsigned spurious_wakes; /* sched_wake on a thread that was not blocked */

static struct fthread *fth(struct thread *t)
{
	return (struct fthread *)t;
}

static struct task *task_of_root(paddr_t root)
{
	for (int k = 0; k < NTASKS; k++)
		if (task[k].as.root == root)
			return &task[k];
	fail_msg("user memory of an unknown address space 0x%lx", (unsigned long)root);
	return NULL;
}

/* The test's view of user byte va of task k (which must be inside its pages). */
static uint8_t *umem(struct task *k, vaddr_t va)
{
	assert_true(va >= UBASE && va < UBASE + UPAGES * PAGE);
	return &k->mem[(va - UBASE) / PAGE][(va - UBASE) % PAGE];
}

static struct task *task_of(struct fthread *t)
{
	return (struct task *)t->t.as;
}

/* t's descriptor, in its task's memory. */
static struct mica_ipc_extra *desc(struct fthread *t)
{
	return (struct mica_ipc_extra *)umem(task_of(t), t->desc);
}

/* ---- fakes: scheduler ---- */

struct thread *sched_current(void)
{
	assert_non_null(current);
	return current;
}

void sched_block(void)
{
	current->state = THREAD_BLOCKED;
	current->ipc_result = BLOCKED;
	fth(current)->blocks++;
}

/*
 * The fast path's direct switch: the current thread blocks and `next`
 * runs, which here means it is woken. handoff_ok says whether the fast
 * path may use it (else it wakes and blocks).
 */
static bool handoff_ok = true;
static unsigned handoffs;

bool sched_ipc_handoff(struct thread *next)
{
	if (!handoff_ok)
		return false;
	handoffs++;
	sched_wake(next);
	sched_block();
	return true;
}

void sched_preempt(void)
{
}

void sched_wake(struct thread *t)
{
	if (t->state != THREAD_BLOCKED) {
		spurious_wakes++;
		return;
	}
	t->state = THREAD_RUNNABLE;
	fth(t)->wakes++;
}

void sched_bury(struct thread *t)
{
	t->state = THREAD_DEAD;
	fth(t)->buries++;
}

void sched_reap(void)
{
}

void sched_yield(void)
{
}

/* ---- fakes: user memory, page by page ---- */

static int ucopy(paddr_t root, vaddr_t uva, void *kbuf, size_t n, bool to_user)
{
	struct task *k = task_of_root(root);
	uint8_t *p = kbuf;

	while (n > 0) {
		if (uva < UBASE || uva >= UBASE + UPAGES * PAGE)
			return MICA_EFAULT;
		size_t i = (uva - UBASE) / PAGE, off = (uva - UBASE) % PAGE;
		size_t chunk = MIN(n, PAGE - off);
		unsigned need = to_user ? U_W : U_R;

		if ((k->perm[i] & need) != need)
			return MICA_EFAULT;
		if (p && to_user)
			memcpy(&k->mem[i][off], p, chunk);
		else if (p)
			memcpy(p, &k->mem[i][off], chunk);
		if (p)
			p += chunk;
		uva += chunk;
		n -= chunk;
	}
	return MICA_OK;
}

int usercopy_from_root(paddr_t root, void *dst, vaddr_t usrc, size_t n)
{
	return ucopy(root, usrc, dst, n, false);
}

int usercopy_to_root(paddr_t root, vaddr_t udst, const void *src, size_t n)
{
	return ucopy(root, udst, (void *)src, n, true);
}

int usercopy_check(paddr_t root, vaddr_t uva, size_t n, bool write)
{
	return ucopy(root, uva, NULL, n, write);
}

int usercopy_from(void *dst, vaddr_t usrc, size_t n)
{
	return ucopy(sched_current()->as->root, usrc, dst, n, false);
}

/* The cached forms (one IPC operation's translation cache): the same checks, no cache. */
void usercopy_cache_init(struct usercopy_cache *c)
{
	c->valid = 0;
}

/* The page-table generation (pt.c): these fakes keep no translation, so it never moves. */
uint64_t pt_generation = 1;

/* A view keeps nothing here: every access is checked against the pages' rights afresh. */
void *usercopy_view_fill(struct usercopy_view *v, struct usercopy_cache *c, paddr_t root,
                         vaddr_t uva, size_t n, bool write)
{
	v->gen = 0;
	return usercopy_ptr_cached(c, root, uva, n, write);
}

/* In place: the range within one page, mapped with the rights asked. */
void *usercopy_ptr_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n, bool write)
{
	struct task *k = task_of_root(root);
	unsigned need = write ? U_W : U_R;

	(void)c;
	if (n == 0 || uva < UBASE || uva >= UBASE + UPAGES * PAGE ||
	    (uva - UBASE) % PAGE + n > PAGE)
		return NULL;
	size_t i = (uva - UBASE) / PAGE, off = (uva - UBASE) % PAGE;
	if ((k->perm[i] & need) != need)
		return NULL;
	return &k->mem[i][off];
}

int usercopy_from_cached(struct usercopy_cache *c, paddr_t root, void *dst, vaddr_t usrc, size_t n)
{
	(void)c;
	return ucopy(root, usrc, dst, n, false);
}

int usercopy_to_cached(struct usercopy_cache *c, paddr_t root, vaddr_t udst, const void *src,
                       size_t n)
{
	(void)c;
	return ucopy(root, udst, (void *)src, n, true);
}

int usercopy_check_cached(struct usercopy_cache *c, paddr_t root, vaddr_t uva, size_t n, bool write)
{
	(void)c;
	return ucopy(root, uva, NULL, n, write);
}

/* Straight from one task's memory to another's: both ranges checked whole first. */
int usercopy_between(struct usercopy_cache *c, paddr_t droot, vaddr_t dst, paddr_t sroot,
                     vaddr_t src, size_t n)
{
	uint8_t *tmp = malloc(n ? n : 1);
	int rc = MICA_EFAULT;

	(void)c;
	if (ucopy(sroot, src, NULL, n, false) == MICA_OK &&
	    ucopy(droot, dst, NULL, n, true) == MICA_OK) {
		(void)ucopy(sroot, src, tmp, n, false);
		rc = ucopy(droot, dst, tmp, n, true);
	}
	free(tmp);
	return rc;
}

int usercopy_to(vaddr_t udst, const void *src, size_t n)
{
	return ucopy(sched_current()->as->root, udst, (void *)src, n, true);
}

/* The FS base the kernel last set (ctx.c): the running thread's IPC buffer. */
static uint64_t fs_base;

void ctx_fs_base_set(uint64_t base)
{
	fs_base = base;
}

/* ---- fakes: what syscall.c and kobj.c reach that these tests never use ---- */

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fail_msg("kernel panic");
	abort();
}

void aspace_release(struct aspace *as)
{
	(void)as;
	fail_msg("a test address space was released");
}

void thread_release(struct thread *t)
{
	(void)t;
	fail_msg("a test thread was released");
}

void serial_write(const char *s, size_t n)
{
	(void)s;
	(void)n;
}

void thread_exit(int64_t code)
{
	(void)code;
	fail_msg("thread_exit");
	abort();
}

void thread_end(struct thread *t, unsigned reason, int64_t code, uint64_t addr, const char *why)
{
	(void)t;
	(void)reason;
	(void)code;
	(void)addr;
	(void)why;
	fail_msg("thread_end");
}

int thread_create_user(struct aspace *as, vaddr_t entry, vaddr_t stack, uint64_t arg, unsigned prio,
                       const struct thread_links *links, struct thread **out)
{
	(void)as;
	(void)entry;
	(void)stack;
	(void)arg;
	(void)prio;
	(void)links;
	(void)out;
	fail_msg("thread_create_user");
	return MICA_ENOMEM;
}

#define NO_MEM_CALL(name)                                                                          \
	int64_t name(const struct syscall_args *s)                                                 \
	{                                                                                          \
		(void)s;                                                                           \
		fail_msg(#name);                                                                   \
		return MICA_ENOSYS;                                                                \
	}
NO_MEM_CALL(mem_aspace_create)
NO_MEM_CALL(mem_aspace_destroy)
NO_MEM_CALL(mem_map)
NO_MEM_CALL(mem_unmap)
NO_MEM_CALL(mem_grant)
NO_MEM_CALL(mem_donate)
NO_MEM_CALL(mem_stats_call)
#undef NO_MEM_CALL

/* ---- making system calls ---- */

/* syscall.c's entry, called from entry.asm: no header declares it. */
void syscall_dispatch(struct trap_frame *f);

/* Thread t makes system call nr with RDI = rdi, other registers as they are; returns RAX. */
static int64_t sys(struct fthread *t, uint64_t nr, uint64_t rdi)
{
	assert_int_equal(t->t.state, THREAD_RUNNABLE); /* only a running thread calls */
	current = &t->t;
	t->f.rax = nr;
	t->f.rdi = rdi;
	syscall_dispatch(&t->f);
	current = NULL;
	return (int64_t)t->f.rax;
}

/* Thread t's handle_mint(h, mask, 0): an unbadged copy of h with rights & mask. */
static mica_handle_t mint(struct fthread *t, mica_handle_t h, uint32_t mask)
{
	t->f.rsi = mask;
	t->f.rdx = 0;
	return (mica_handle_t)sys(t, MICA_SYS_HANDLE_MINT, (uint64_t)h);
}

/* The message registers, as include/mica/ipc.h orders them: label, then words 0-7. */
static uint64_t *word_reg(struct trap_frame *f, int i)
{
	uint64_t *const regs[MICA_MSG_WORDS] = {&f->rdx, &f->r10, &f->r8,  &f->r9,
	                                        &f->r12, &f->r13, &f->r14, &f->r15};
	return regs[i];
}

static uint64_t word(uint64_t seed, int i)
{
	return seed * 0x100 + (uint64_t)i + 1;
}

/* Put a message in t's registers: the label, words from seed; RBX its descriptor or 0. */
static void msg_put(struct fthread *t, uint64_t label, uint64_t seed, bool with_desc)
{
	t->f.rsi = label;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		*word_reg(&t->f, i) = word(seed, i);
	t->f.rbx = with_desc ? t->desc : 0;
}

/* t's registers hold the message msg_put(label, seed) made, and RDI the badge. */
static void msg_expect(struct fthread *t, uint64_t label, uint64_t seed, uint64_t badge)
{
	assert_int_equal(t->f.rsi, label);
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		assert_int_equal(*word_reg(&t->f, i), word(seed, i));
	assert_int_equal(t->f.rdi, badge);
}

/* A descriptor that sends and receives nothing, its output fields not yet written. */
static void desc_clear(struct fthread *t)
{
	*desc(t) = (struct mica_ipc_extra){.send_handle = MICA_HANDLE_NONE,
	                                   .send_xfer = MICA_XFER_COPY,
	                                   .recv_len = LEN_UNSET,
	                                   .recv_handle = HANDLE_UNSET};
}

/* Fill n bytes of task k's memory at va with a pattern made from seed. */
static void pattern_put(struct task *k, vaddr_t va, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		*umem(k, va + i) = (uint8_t)(seed + i * 7);
}

static void pattern_expect(struct task *k, vaddr_t va, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(*umem(k, va + i), (uint8_t)(seed + i * 7));
}

static void fill_expect(struct task *k, vaddr_t va, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(*umem(k, va + i), FILL);
}

/* t called and blocked in the kernel. */
static void expect_blocked(struct fthread *t, int64_t rax)
{
	assert_int_equal(rax, BLOCKED);
	assert_int_equal(t->t.state, THREAD_BLOCKED);
}

/* t, blocked before, was woken with `result`. */
static void expect_woken(struct fthread *t, int64_t result)
{
	assert_int_equal(t->t.state, THREAD_RUNNABLE);
	assert_int_equal(t->t.ipc_result, result);
	assert_int_equal(t->t.ipc_state, IPC_NONE);
	assert_null(t->t.ipc_ep);
}

static unsigned queue_len(struct thread *q)
{
	unsigned n = 0;

	for (; q; q = q->ipc_next)
		n++;
	return n;
}

/* srv waits to receive on ep (with or without its descriptor). */
static void srv_waits(struct fthread *s, bool with_desc)
{
	msg_put(s, 0, 0, with_desc);
	expect_blocked(s, sys(s, MICA_SYS_IPC_RECV, (uint64_t)hb));
	assert_ptr_equal(ep->receivers_tail, &s->t);
}

/* ---- "nothing changed" ---- */

static struct {
	struct task task[NTASKS];
	struct fthread th[NTHREADS];
	struct endpoint ep, ep2;
	bool frame_used[NFRAMES];
	uint64_t objects;
} snap, now;

static void snap_fill(void)
{
	memcpy(now.task, task, sizeof(task));
	memcpy(now.th, th, sizeof(th));
	now.ep = *ep;
	now.ep2 = *ep2;
	memcpy(now.frame_used, frame_used, sizeof(frame_used));
	now.objects = kobj_count();
}

static void snap_take(void)
{
	snap_fill();
	snap = now;
}

/*
 * Nothing changed since snap_take but `caller`'s RAX: queues, handle
 * tables, threads (registers, IPC state, wake-ups), user memory, objects.
 */
static void snap_expect_same(struct fthread *caller)
{
	snap_fill();
	now.th[caller - th].f.rax = snap.th[caller - th].f.rax;
	assert_memory_equal(&now.ep, &snap.ep, sizeof(snap.ep));
	assert_memory_equal(&now.ep2, &snap.ep2, sizeof(snap.ep2));
	for (int k = 0; k < NTASKS; k++) {
		assert_int_equal(now.task[k].as.handles.count, snap.task[k].as.handles.count);
		assert_memory_equal(now.task[k].slot, snap.task[k].slot, sizeof(snap.task[k].slot));
		assert_memory_equal(now.task[k].mem, snap.task[k].mem, sizeof(snap.task[k].mem));
		assert_memory_equal(&now.task[k], &snap.task[k], sizeof(snap.task[k]));
	}
	for (int i = 0; i < NTHREADS; i++)
		assert_memory_equal(&now.th[i], &snap.th[i], sizeof(snap.th[i]));
	assert_memory_equal(now.frame_used, snap.frame_used, sizeof(snap.frame_used));
	assert_int_equal(now.objects, snap.objects);
}

/* The call is refused with `want` and changes nothing but the caller's RAX. */
static void expect_refused(struct fthread *t, uint64_t nr, uint64_t rdi, int64_t want)
{
	t->f.rdi = rdi; /* the call's own argument: not a change */
	snap_take();
	assert_int_equal(sys(t, nr, rdi), want);
	snap_expect_same(t);
}

/* ---- fixture ---- */

static mica_handle_t give(struct task *k, struct kobj *o, uint32_t rights, uint64_t badge)
{
	mica_handle_t h;

	assert_int_equal(handle_alloc(&k->as.handles, o, rights, badge, &h), MICA_OK);
	return h;
}

static struct endpoint *endpoint_of(struct task *k, mica_handle_t h)
{
	return (struct endpoint *)k->slot[h].obj;
}

static int group_setup(void **state)
{
	(void)state;
	ram = aligned_alloc(PAGE, NFRAMES * PAGE);
	assert_non_null(ram);
	host_phys_base = ram;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(ram);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(ram, 0xCC, NFRAMES * PAGE);
	memset(frame_used, 0, sizeof(frame_used));
	memset(task, 0, sizeof(task));
	memset(th, 0, sizeof(th));
	spurious_wakes = 0;
	handoffs = 0;
	handoff_ok = true;
	current = NULL;
	for (int k = 0; k < NTASKS; k++) {
		kobj_init(&task[k].as.obj, MICA_OBJ_ASPACE);
		task[k].as.root = (paddr_t)(k + 1) << 30; /* a key for the fake user memory */
		task[k].as.id = (uint32_t)k + 1;
		handle_table_init(&task[k].as.handles, task[k].slot, NSLOTS);
		for (int p = 0; p < UPAGES; p++)
			task[k].perm[p] = U_RW;
		task[k].perm[(U_RO - UBASE) / PAGE] = U_R;
		memset(task[k].mem, FILL, sizeof(task[k].mem));
	}
	struct task *const owner[NTHREADS] = {ta, tb, tb, tc};
	for (int i = 0; i < NTHREADS; i++) {
		kobj_init(&th[i].t.obj, MICA_OBJ_THREAD);
		th[i].t.id = (uint32_t)i + 1;
		th[i].t.as = &owner[i]->as;
		th[i].t.state = THREAD_RUNNABLE;
		th[i].desc = U_DESC + (uint64_t)i * 128; /* one page, a slice each */
		desc_clear(&th[i]);
	}
	objects0 = kobj_count();
	/* The endpoints, made by the real system call. */
	hb = (mica_handle_t)sys(srv, MICA_SYS_ENDPOINT_CREATE, 0);
	assert_true(hb >= 0);
	ep = endpoint_of(tb, hb);
	ha_x = (mica_handle_t)sys(cli, MICA_SYS_ENDPOINT_CREATE, 0);
	assert_true(ha_x >= 0);
	ep2 = endpoint_of(ta, ha_x);
	ha = give(ta, &ep->obj, MICA_RIGHT_SEND | MICA_RIGHT_COPY, BADGE_A);
	ha_recv = give(ta, &ep->obj, MICA_RIGHT_RECV, 0);
	ha_xnc = give(ta, &ep2->obj, MICA_RIGHT_SEND, 0);
	ha_as = give(ta, &ta->as.obj, MICA_RIGHTS_ALL, 0);
	ha_th = give(ta, &cli->t.obj, MICA_RIGHTS_ALL, 0);
	ha_close = give(ta, &ep->obj, MICA_RIGHTS_ALL, 0);
	assert_int_equal(handle_close(&ta->as.handles, ha_close), MICA_OK);
	hc = give(tc, &ep->obj, MICA_RIGHT_SEND, BADGE_C);
	/* ta has room for two more handles. */
	assert_int_equal(ta->as.handles.count, NSLOTS - 2);
	assert_int_equal(endpoints_live(), 2);
	assert_int_equal(frames_used(), 1); /* both in one slab (slab.c) */
	return 0;
}

/* Close every handle: both endpoints must go, and nobody was woken twice. */
static int teardown(void **state)
{
	(void)state;
	for (int k = 0; k < NTASKS; k++)
		handle_table_clear(&task[k].as.handles);
	assert_int_equal(frames_used(), 0);
	assert_int_equal(spurious_wakes, 0);
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(th[i].t.deadline, 0); /* nobody left in the timer queue */
	return 0;
}

/* ---- the message: registers ---- */

/* recv first, then send: label and 8 words land in the receiver's registers, RDI the badge. */
static void test_recv_then_send_copies_registers(void **state)
{
	(void)state;
	srv_waits(srv, false);
	assert_ptr_equal(ep->receivers, &srv->t);
	assert_int_equal(srv->t.ipc_state, IPC_RECEIVING);

	msg_put(cli, LABEL, 1, false);
	cli->f.rdi = (uint64_t)ha;
	const struct trap_frame before = cli->f;
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);

	expect_woken(srv, MICA_OK);
	assert_int_equal(srv->wakes, 1);
	msg_expect(srv, LABEL, 1, BADGE_A);
	assert_null(ep->receivers);
	assert_null(ep->receivers_tail);
	assert_null(ep->senders);
	/* The sender's registers are its own, unchanged but for RAX. */
	assert_int_equal(cli->blocks, 0);
	assert_int_equal(cli->f.rdi, before.rdi);
	assert_int_equal(cli->f.rsi, before.rsi);
	assert_memory_equal(&cli->f.r15, &before.r15, offsetof(struct trap_frame, rax));
}

/* send first, then recv: the sender waits, the receiver takes the message at once. */
static void test_send_then_recv(void **state)
{
	(void)state;
	msg_put(cli, LABEL, 2, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	assert_ptr_equal(ep->senders, &cli->t);
	assert_int_equal(cli->t.ipc_state, IPC_SENDING);

	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 2, BADGE_A);
	expect_woken(cli, MICA_OK);
	assert_null(ep->senders);
	assert_null(ep->senders_tail);
	assert_int_equal(srv->blocks, 0);
}

/* Senders are served in the order they came, each seen with its own badge. */
static void test_senders_fifo_with_badges(void **state)
{
	(void)state;
	msg_put(cli, LABEL, 3, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	msg_put(cli2, LABEL + 1, 4, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	assert_int_equal(queue_len(ep->senders), 2);

	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 3, BADGE_A);
	expect_woken(cli, MICA_OK);
	assert_int_equal(cli2->t.state, THREAD_BLOCKED);

	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL + 1, 4, BADGE_C);
	expect_woken(cli2, MICA_OK);
	assert_null(ep->senders);
}

/* The biggest label a user may send passes; the kernel's own are refused. */
static void test_kernel_labels_refused(void **state)
{
	(void)state;
	srv_waits(srv, false);
	const uint64_t refused[] = {MICA_LABEL_KERNEL, MICA_LABEL_FAULT, MICA_LABEL_EXIT, ~0ULL};
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		msg_put(cli, refused[i], 5, false);
		expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
		expect_refused(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha, MICA_EINVAL);
		expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EINVAL);
	}
	msg_put(cli, MICA_LABEL_KERNEL - 1, 5, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	msg_expect(srv, MICA_LABEL_KERNEL - 1, 5, BADGE_A);
}

/* ---- the message: buffer ---- */

/* The buffer arrives whole when it fits; recv_len is its length; nothing past it is touched. */
static void test_buffer_copied(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = MICA_MSG_BUF_MAX;
	srv_waits(srv, true);

	pattern_put(ta, U_SEND, 300, 9);
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 300;
	msg_put(cli, LABEL, 6, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);

	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 6, BADGE_A);
	pattern_expect(tb, U_RECV, 300, 9);
	fill_expect(tb, U_RECV + 300, 2 * PAGE - 300);
	assert_int_equal(desc(srv)->recv_len, 300);
	assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
	/* The rest of the receiver's descriptor is as it left it. */
	assert_int_equal(desc(srv)->recv_buf, U_RECV);
	assert_int_equal(desc(srv)->recv_cap, MICA_MSG_BUF_MAX);
	/* The sender's descriptor is only read. */
	assert_int_equal(desc(cli)->recv_len, LEN_UNSET);
	assert_int_equal(desc(cli)->recv_handle, HANDLE_UNSET);
}

/* A buffer bigger than recv_cap is cut there; recv_len still says how much was sent. */
static void test_buffer_cut_at_recv_cap(void **state)
{
	(void)state;
	/* The sender first this time, with a full-size buffer across a page boundary. */
	pattern_put(ta, U_SEND + 100, MICA_MSG_BUF_MAX, 11);
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND + 100;
	desc(cli)->send_len = MICA_MSG_BUF_MAX;
	msg_put(cli, LABEL, 7, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));

	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV + PAGE - 10; /* across a page boundary too */
	desc(srv)->recv_cap = 1000;
	msg_put(srv, 0, 0, true);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);

	expect_woken(cli, MICA_OK);
	pattern_expect(tb, U_RECV + PAGE - 10, 1000, 11);
	fill_expect(tb, U_RECV, PAGE - 10);
	fill_expect(tb, U_RECV + PAGE - 10 + 1000, PAGE + 10 - 1000);
	assert_int_equal(desc(srv)->recv_len, MICA_MSG_BUF_MAX);
	assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
}

/* recv_cap 0: no byte arrives, recv_len still reports the sender's length. */
static void test_buffer_recv_cap_zero(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 0;
	srv_waits(srv, true);
	pattern_put(ta, U_SEND, 64, 3);
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 64;
	msg_put(cli, LABEL, 8, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	fill_expect(tb, U_RECV, 2 * PAGE);
	assert_int_equal(desc(srv)->recv_len, 64);
}

/* A sender without a descriptor: the receiver hears recv_len 0 and no handle. */
static void test_sender_without_descriptor(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 100;
	srv_waits(srv, true);
	msg_put(cli, LABEL, 9, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	msg_expect(srv, LABEL, 9, BADGE_A);
	assert_int_equal(desc(srv)->recv_len, 0);
	assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
	fill_expect(tb, U_RECV, 2 * PAGE);
}

/*
 * A receiver without a descriptor gets the registers and nothing else: no
 * byte written anywhere in its memory, no handle in its table, and the
 * sender keeps the handle it offered, copied or moved.
 */
static void test_receiver_without_descriptor_gets_registers_only(void **state)
{
	(void)state;
	const uint32_t xfers[] = {MICA_XFER_COPY, MICA_XFER_MOVE};

	for (size_t i = 0; i < ARRAY_SIZE(xfers); i++) {
		srv_waits(srv, false);
		pattern_put(ta, U_SEND, 50, 1);
		desc_clear(cli);
		desc(cli)->send_buf = U_SEND;
		desc(cli)->send_len = 50;
		desc(cli)->send_handle = ha_x;
		desc(cli)->send_xfer = xfers[i];
		msg_put(cli, LABEL, 10, true);
		const struct handle held = ta->slot[ha_x];
		const uint32_t refs = ep2->obj.refs;
		uint8_t before[UPAGES][PAGE];
		memcpy(before, tb->mem, sizeof(before));

		assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
		expect_woken(srv, MICA_OK);
		msg_expect(srv, LABEL, 10, BADGE_A);
		assert_memory_equal(tb->mem, before, sizeof(before));
		assert_int_equal(tb->as.handles.count, 1);
		assert_memory_equal(&ta->slot[ha_x], &held, sizeof(held));
		assert_int_equal(ep2->obj.refs, refs);
	}
}

/* ---- the message: handle ---- */

/* COPY: the receiver gets a new handle with the same rights and badge; the sender keeps its own. */
static void test_handle_copy(void **state)
{
	(void)state;
	desc_clear(srv);
	srv_waits(srv, true);
	desc_clear(cli);
	desc(cli)->send_handle = ha;
	desc(cli)->send_xfer = MICA_XFER_COPY;
	msg_put(cli, LABEL, 11, true);
	const uint32_t refs = ep->obj.refs;
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);

	const mica_handle_t got = desc(srv)->recv_handle;
	assert_true(got >= 0 && got < NSLOTS && got != hb);
	assert_ptr_equal(tb->slot[got].obj, &ep->obj);
	assert_int_equal(tb->slot[got].rights, MICA_RIGHT_SEND | MICA_RIGHT_COPY);
	assert_int_equal(tb->slot[got].badge, BADGE_A);
	assert_int_equal(tb->as.handles.count, 2);
	/* Still the sender's. */
	assert_ptr_equal(ta->slot[ha].obj, &ep->obj);
	assert_int_equal(ta->slot[ha].rights, MICA_RIGHT_SEND | MICA_RIGHT_COPY);
	assert_int_equal(ep->obj.refs, refs + 1);
	assert_int_equal(desc(srv)->recv_len, 0);
}

/* MOVE: the handle leaves the sender's table for the receiver's, rights and badge intact. */
static void test_handle_move(void **state)
{
	(void)state;
	desc_clear(srv);
	srv_waits(srv, true);
	desc_clear(cli);
	desc(cli)->send_handle = ha_xnc; /* moving needs no right */
	desc(cli)->send_xfer = MICA_XFER_MOVE;
	msg_put(cli, LABEL, 12, true);
	const uint32_t refs = ep2->obj.refs, count = ta->as.handles.count;
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);

	const mica_handle_t got = desc(srv)->recv_handle;
	assert_true(got >= 0 && got < NSLOTS);
	assert_ptr_equal(tb->slot[got].obj, &ep2->obj);
	assert_int_equal(tb->slot[got].rights, MICA_RIGHT_SEND);
	assert_null(ta->slot[ha_xnc].obj);
	assert_int_equal(ta->as.handles.count, count - 1);
	assert_int_equal(ep2->obj.refs, refs);
	/* Gone from the sender: it can no longer name it. */
	desc_clear(cli);
	msg_put(cli, LABEL, 12, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha_xnc), MICA_EBADH);
}

/* COPY needs MICA_RIGHT_COPY on the handle passed; the refusal changes nothing. */
static void test_handle_copy_needs_copy_right(void **state)
{
	(void)state;
	desc_clear(srv);
	srv_waits(srv, true);
	desc_clear(cli);
	desc(cli)->send_handle = ha_xnc;
	desc(cli)->send_xfer = MICA_XFER_COPY;
	msg_put(cli, LABEL, 13, true);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_ERIGHTS);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_ERIGHTS);
	assert_ptr_equal(ep->receivers, &srv->t); /* still waiting */
}

/* A full receiving table: the message arrives without the handle, which the sender keeps. */
static void test_handle_receiver_table_full(void **state)
{
	(void)state;
	/* The server's table: fill the slots left. */
	while (tb->as.handles.count < NSLOTS)
		(void)give(tb, &ep2->obj, MICA_RIGHT_SEND, 0);
	const uint32_t xfers[] = {MICA_XFER_COPY, MICA_XFER_MOVE};
	for (size_t i = 0; i < ARRAY_SIZE(xfers); i++) {
		desc_clear(srv);
		srv_waits(srv, true);
		desc_clear(cli);
		desc(cli)->send_handle = ha_x;
		desc(cli)->send_xfer = xfers[i];
		msg_put(cli, LABEL, 14, true);
		const struct handle held = ta->slot[ha_x];
		const uint32_t refs = ep2->obj.refs;
		assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
		expect_woken(srv, MICA_OK);
		msg_expect(srv, LABEL, 14, BADGE_A);
		assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
		assert_int_equal(desc(srv)->recv_len, 0);
		assert_memory_equal(&ta->slot[ha_x], &held, sizeof(held));
		assert_int_equal(ep2->obj.refs, refs);
	}
}

/* ---- the sender's descriptor errors: refused, nothing queued or delivered ---- */

/* Send the client's message on ha by send, try_send and call: each refused with `want`. */
static void expect_send_refused(int64_t want)
{
	msg_put(cli, LABEL, 15, true);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, want);
	expect_refused(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha, want);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, want);
}

/* With a receiver waiting, and with nobody: the same refusals, nothing changed. */
static void expect_send_refused_both_ways(int64_t want)
{
	expect_send_refused(want);
	srv_waits(srv, true);
	expect_send_refused(want);
}

static void test_send_len_over_max(void **state)
{
	(void)state;
	desc_clear(srv);
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = MICA_MSG_BUF_MAX + 1;
	expect_send_refused_both_ways(MICA_EINVAL);
	desc(cli)->send_len = UINT32_MAX;
	expect_send_refused(MICA_EINVAL);
	/* The largest is fine. */
	desc(cli)->send_len = MICA_MSG_BUF_MAX;
	msg_put(cli, LABEL, 15, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	assert_int_equal(desc(srv)->recv_len, MICA_MSG_BUF_MAX);
}

static void test_send_buffer_unreadable(void **state)
{
	(void)state;
	desc_clear(srv);
	desc_clear(cli);
	desc(cli)->send_len = 16;
	/* Unmapped. */
	desc(cli)->send_buf = UBASE + UPAGES * PAGE;
	expect_send_refused_both_ways(MICA_EFAULT);
	/* The last bytes run into an unmapped page. */
	desc(cli)->send_buf = UBASE + UPAGES * PAGE - 8;
	expect_send_refused(MICA_EFAULT);
	/* Below and above user memory. */
	desc(cli)->send_buf = 0;
	expect_send_refused(MICA_EFAULT);
	desc(cli)->send_buf = 0xFFFF800000000000ULL;
	expect_send_refused(MICA_EFAULT);
	/* A page unmapped under a buffer that was fine. */
	desc(cli)->send_buf = U_SEND + PAGE - 8;
	ta->perm[2] = 0;
	expect_send_refused(MICA_EFAULT);
	ta->perm[2] = U_RW;
	/* Read-only is readable enough. */
	pattern_put(ta, U_RO, 16, 5);
	ta->perm[5] = U_R;
	desc(cli)->send_buf = U_RO;
	msg_put(cli, LABEL, 16, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	assert_int_equal(desc(srv)->recv_len, 16);
}

static void test_send_descriptor_unreadable(void **state)
{
	(void)state;
	desc_clear(srv);
	ta->perm[0] = 0;
	expect_send_refused_both_ways(MICA_EFAULT);
	/* A descriptor straddling into an unmapped page. */
	ta->perm[0] = U_RW;
	ta->perm[1] = 0;
	cli->desc = U_DESC + PAGE - 8;
	expect_send_refused(MICA_EFAULT);
}

static void test_bad_xfer_mode(void **state)
{
	(void)state;
	desc_clear(srv);
	desc_clear(cli);
	desc(cli)->send_handle = ha_x;
	desc(cli)->send_xfer = 2;
	expect_send_refused_both_ways(MICA_EINVAL);
	desc(cli)->send_xfer = UINT32_MAX;
	expect_send_refused(MICA_EINVAL);
}

static void test_bad_handle_to_pass(void **state)
{
	(void)state;
	const int32_t bad[] = {NSLOTS - 1, NSLOTS, 4242, INT32_MAX, -2, INT32_MIN};

	desc_clear(srv);
	desc_clear(cli);
	desc(cli)->send_xfer = MICA_XFER_MOVE;
	desc(cli)->send_handle = ha_close;
	expect_send_refused_both_ways(MICA_EBADH);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_null(ta->slot[NSLOTS - 1].obj);
		desc(cli)->send_handle = bad[i];
		desc(cli)->send_xfer = MICA_XFER_MOVE;
		expect_send_refused(MICA_EBADH);
		desc(cli)->send_xfer = MICA_XFER_COPY;
		expect_send_refused(MICA_EBADH);
	}
}

/* A call's descriptor also receives the reply: it must be writable, its buffer too. */
static void test_call_receive_part_checked(void **state)
{
	(void)state;
	srv_waits(srv, true);
	/* A read-only descriptor may send, but not call. */
	cli->desc = U_RO;
	*desc(cli) = (struct mica_ipc_extra){.send_handle = MICA_HANDLE_NONE};
	msg_put(cli, LABEL, 17, true);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EFAULT);
	cli->desc = U_DESC;
	desc_clear(cli);
	desc(cli)->recv_buf = U_RO;
	desc(cli)->recv_cap = 8;
	msg_put(cli, LABEL, 17, true);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EFAULT);
	desc(cli)->recv_buf = U_RECV;
	desc(cli)->recv_cap = MICA_MSG_BUF_MAX + 1;
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EINVAL);
	/* A plain send does not read the receive part. */
	cli->desc = U_RO;
	msg_put(cli, LABEL, 17, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
}

/* ---- the receiver's descriptor errors ---- */

static void expect_recv_refused(struct fthread *t, int64_t want)
{
	msg_put(t, 0, 0, true);
	expect_refused(t, MICA_SYS_IPC_RECV, (uint64_t)hb, want);
	expect_refused(t, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb, want);
	expect_refused(t, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, want);
}

/* A receiver whose descriptor it cannot be told the result in is refused. */
static void test_receiver_descriptor_not_writable(void **state)
{
	(void)state;
	/* A read-only descriptor. */
	srv->desc = U_RO;
	*desc(srv) = (struct mica_ipc_extra){.send_handle = MICA_HANDLE_NONE};
	expect_recv_refused(srv, MICA_EFAULT);
	/* With a sender waiting, too: it stays queued, its message untouched. */
	desc_clear(cli);
	msg_put(cli, LABEL, 18, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	expect_recv_refused(srv, MICA_EFAULT);
	assert_ptr_equal(ep->senders, &cli->t);
	/* Unmapped. */
	srv->desc = U_DESC;
	desc_clear(srv);
	tb->perm[0] = 0;
	expect_recv_refused(srv, MICA_EFAULT);
	/* Its last bytes on a read-only page. */
	tb->perm[0] = U_RW;
	tb->perm[1] = U_R;
	srv->desc = U_DESC + PAGE - sizeof(struct mica_ipc_extra) + 4;
	const struct mica_ipc_extra x = {.send_handle = MICA_HANDLE_NONE};
	for (size_t i = 0; i < sizeof(x); i++)
		*umem(tb, srv->desc + i) = ((const uint8_t *)&x)[i];
	expect_recv_refused(srv, MICA_EFAULT);
}

static void test_receive_buffer_checked(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_cap = 16;
	desc(srv)->recv_buf = U_RO;
	expect_recv_refused(srv, MICA_EFAULT);
	desc(srv)->recv_buf = UBASE + UPAGES * PAGE;
	expect_recv_refused(srv, MICA_EFAULT);
	desc(srv)->recv_buf = U_RECV + 2 * PAGE - 8; /* into the read-only page */
	expect_recv_refused(srv, MICA_EFAULT);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = MICA_MSG_BUF_MAX + 1;
	expect_recv_refused(srv, MICA_EINVAL);
}

/* ---- the endpoint handle ---- */

static void test_bad_endpoint_handle(void **state)
{
	(void)state;
	const uint64_t forged[] = {
	    NSLOTS - 1,                   /* free */
	    NSLOTS,                       /* past the table */
	    4242,                         /* far past it */
	    (uint64_t)(int64_t)-5,        /* negative */
	    (uint64_t)MICA_HANDLE_NONE,   /* none */
	    (1ULL << 32) | (uint64_t)ha,  /* not an int32: must not be cut to ha */
	    ~0ULL << 32 | (uint64_t)ha,   /* likewise */
	    (uint64_t)INT32_MAX + 1 + ha, /* likewise */
	};
	const uint64_t calls[] = {MICA_SYS_IPC_SEND,     MICA_SYS_IPC_TRY_SEND,
	                          MICA_SYS_IPC_CALL,     MICA_SYS_IPC_RECV,
	                          MICA_SYS_IPC_TRY_RECV, MICA_SYS_IPC_REPLY_RECV};

	/* A receiver waiting: a send that got through would be delivered, a receive queued. */
	srv_waits(srv, false);
	desc_clear(cli);
	for (size_t c = 0; c < ARRAY_SIZE(calls); c++) {
		msg_put(cli, LABEL, 19, false);
		for (size_t i = 0; i < ARRAY_SIZE(forged); i++)
			expect_refused(cli, calls[c], forged[i], MICA_EBADH);
		/* Closed, and naming objects of other types. */
		expect_refused(cli, calls[c], (uint64_t)ha_close, MICA_EBADH);
		expect_refused(cli, calls[c], (uint64_t)ha_as, MICA_EBADH);
		expect_refused(cli, calls[c], (uint64_t)ha_th, MICA_EBADH);
	}
}

static void test_endpoint_rights(void **state)
{
	(void)state;
	srv_waits(srv, false);
	msg_put(cli, LABEL, 20, false);
	/* Sending needs SEND. */
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha_recv, MICA_ERIGHTS);
	expect_refused(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha_recv, MICA_ERIGHTS);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha_recv, MICA_ERIGHTS);
	/* Receiving needs RECV. */
	expect_refused(cli, MICA_SYS_IPC_RECV, (uint64_t)ha, MICA_ERIGHTS);
	expect_refused(cli, MICA_SYS_IPC_TRY_RECV, (uint64_t)ha, MICA_ERIGHTS);
	expect_refused(cli, MICA_SYS_IPC_REPLY_RECV, (uint64_t)ha, MICA_ERIGHTS);
}

/* ---- try forms ---- */

static void test_try_with_nobody_waiting(void **state)
{
	(void)state;
	desc_clear(cli);
	desc_clear(srv);
	msg_put(cli, LABEL, 21, true);
	expect_refused(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha, MICA_EAGAIN);
	msg_put(srv, 0, 0, true);
	expect_refused(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb, MICA_EAGAIN);
	/* A partner of the wrong kind does not count: a receiver for a receiver... */
	srv_waits(srv, true);
	expect_refused(srv2, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb, MICA_EAGAIN);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha), MICA_OK);
	/* ...nor a sender for a sender. */
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	msg_put(cli2, LABEL, 22, false);
	expect_refused(cli2, MICA_SYS_IPC_TRY_SEND, (uint64_t)hc, MICA_EAGAIN);
}

static void test_try_with_partner_waiting(void **state)
{
	(void)state;
	srv_waits(srv, false);
	msg_put(cli, LABEL, 23, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 23, BADGE_A);

	msg_put(cli, LABEL, 24, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 24, BADGE_A);
	expect_woken(cli, MICA_OK);
}

/* ---- the endpoint closes ---- */

/* The last handle closed: every waiter, on both sides, hears MICA_EPEER; the endpoint goes. */
static void test_endpoint_closed_wakes_waiters(void **state)
{
	(void)state;
	srv_waits(srv, false);
	srv_waits(srv2, false);
	/* Closing handles while one is left changes nothing for the waiters. */
	assert_int_equal(sys(cli, MICA_SYS_HANDLE_CLOSE, (uint64_t)ha), MICA_OK);
	assert_int_equal(sys(cli, MICA_SYS_HANDLE_CLOSE, (uint64_t)ha_recv), MICA_OK);
	assert_int_equal(sys(cli2, MICA_SYS_HANDLE_CLOSE, (uint64_t)hc), MICA_OK);
	assert_int_equal(srv->t.state, THREAD_BLOCKED);
	assert_int_equal(endpoints_live(), 2);
	/* The last one. */
	assert_int_equal(sys(cli2, MICA_SYS_IPC_TRY_SEND, (uint64_t)hc), MICA_EBADH);
	assert_int_equal(handle_close(&tb->as.handles, hb), MICA_OK);
	expect_woken(srv, MICA_EPEER);
	expect_woken(srv2, MICA_EPEER);
	assert_int_equal(endpoints_live(), 1);
}

static void test_endpoint_closed_wakes_senders(void **state)
{
	(void)state;
	msg_put(cli, LABEL, 25, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	msg_put(cli2, LABEL, 26, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	handle_table_clear(&tb->as.handles);
	handle_table_clear(&tc->as.handles);
	assert_int_equal(cli->t.state, THREAD_BLOCKED);
	assert_int_equal(cli2->t.state, THREAD_BLOCKED);
	handle_table_clear(&ta->as.handles); /* the last handles to both endpoints */
	expect_woken(cli, MICA_EPEER);
	expect_woken(cli2, MICA_EPEER);
	assert_int_equal(frames_used(), 0);
}

/*
 * An endpoint a thread still names (as pager or supervisor) outlives its
 * handles, but closes with the last one: waiters hear MICA_EPEER then, and
 * a later exit notice to it is dropped at once.
 */
static void test_endpoint_closed_while_held_by_a_thread(void **state)
{
	(void)state;
	endpoint_hold(ep);
	srv_waits(srv, false);
	handle_table_clear(&ta->as.handles);
	handle_table_clear(&tc->as.handles);
	assert_false(ep->closed);
	handle_table_clear(&tb->as.handles);
	assert_true(ep->closed);
	expect_woken(srv, MICA_EPEER);
	assert_int_equal(endpoints_live(), 1); /* still held */
	cli2->t.state = THREAD_ZOMBIE;
	ipc_notify(&cli2->t, ep, 1);
	assert_int_equal(cli2->buries, 1);
	assert_null(ep->senders);
	endpoint_drop(ep);
	assert_int_equal(frames_used(), 0);
}

/*
 * The endpoint dies with its last receive handle, though send handles
 * (and so the object) remain: a queued caller and a queued sender hear
 * MICA_EPEER, and so does every later send, call or try_send at once.
 */
static void test_endpoint_dies_with_last_receive_handle(void **state)
{
	(void)state;
	msg_put(cli, LABEL, 70, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	msg_put(cli2, LABEL, 71, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	/* A send-only copy made from the receive handle does not count as a receiver. */
	const mica_handle_t hsend = mint(srv, hb, MICA_RIGHT_SEND);
	assert_true(hsend >= 0);
	assert_int_equal(ep->obj.recv_handles, 2);
	assert_int_equal(handle_close(&ta->as.handles, ha_recv), MICA_OK);
	assert_int_equal(cli->t.state, THREAD_BLOCKED);
	assert_int_equal(cli2->t.state, THREAD_BLOCKED);
	assert_false(ep->closed);
	/* The last receive handle: both waiters hear it; the object lives on. */
	assert_int_equal(sys(srv, MICA_SYS_HANDLE_CLOSE, (uint64_t)hb), MICA_OK);
	assert_true(ep->closed);
	assert_int_equal(ep->obj.recv_handles, 0);
	expect_woken(cli, MICA_EPEER);
	expect_woken(cli2, MICA_EPEER);
	assert_int_equal(endpoints_live(), 2);
	/* Later sends of every kind fail at once, from any send handle. */
	msg_put(cli2, LABEL, 72, false);
	assert_int_equal(sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc), MICA_EPEER);
	assert_int_equal(sys(cli2, MICA_SYS_IPC_TRY_SEND, (uint64_t)hc), MICA_EPEER);
	msg_put(cli, LABEL, 73, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha), MICA_EPEER);
	msg_put(srv, LABEL, 74, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_CALL, (uint64_t)hsend), MICA_EPEER);
	assert_null(ep->senders);
	assert_null(ep->receivers);
	/* The last handle of any kind frees it. */
	assert_int_equal(sys(srv, MICA_SYS_HANDLE_CLOSE, (uint64_t)hsend), MICA_OK);
	assert_int_equal(sys(cli, MICA_SYS_HANDLE_CLOSE, (uint64_t)ha), MICA_OK);
	assert_int_equal(endpoints_live(), 2);
	assert_int_equal(sys(cli2, MICA_SYS_HANDLE_CLOSE, (uint64_t)hc), MICA_OK);
	assert_int_equal(endpoints_live(), 1);
}

/*
 * A thread blocked in receive when its task's last receive handle is
 * closed hears MICA_EPEER; moving a receive handle to another task, or
 * copying it, keeps the endpoint alive.
 */
static void test_endpoint_dies_under_a_receiver(void **state)
{
	(void)state;
	srv_waits(srv, false);
	assert_int_equal(sys(cli, MICA_SYS_HANDLE_CLOSE, (uint64_t)ha_recv), MICA_OK);
	/* A copy with the receive right, then the original closed: still alive. */
	const mica_handle_t hcopy = mint(srv2, hb, MICA_RIGHT_RECV | MICA_RIGHT_COPY);
	assert_true(hcopy >= 0);
	assert_int_equal(sys(srv2, MICA_SYS_HANDLE_CLOSE, (uint64_t)hb), MICA_OK);
	assert_int_equal(srv->t.state, THREAD_BLOCKED);
	/* Moved to another table: still one receiver. */
	mica_handle_t moved;
	assert_int_equal(handle_move(&tb->as.handles, hcopy, &tc->as.handles, &moved), MICA_OK);
	assert_int_equal(ep->obj.recv_handles, 1);
	assert_false(ep->closed);
	assert_int_equal(srv->t.state, THREAD_BLOCKED);
	/* Closed there: the receiver blocked on it hears it. */
	assert_int_equal(handle_close(&tc->as.handles, moved), MICA_OK);
	expect_woken(srv, MICA_EPEER);
	assert_true(ep->closed);
}

/* ---- call and reply ---- */

/* The whole round: call, receive, reply_recv; the reply carries no badge. */
static void test_call_and_reply_recv(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 64;
	srv_waits(srv, true);

	desc_clear(cli);
	desc(cli)->recv_buf = U_RECV;
	desc(cli)->recv_cap = 64;
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 10;
	pattern_put(ta, U_SEND, 10, 2);
	msg_put(cli, LABEL, 27, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	/* The server has the call; the caller waits for its reply. */
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 27, BADGE_A);
	pattern_expect(tb, U_RECV, 10, 2);
	assert_int_equal(cli->t.ipc_state, IPC_AWAIT_REPLY);
	assert_ptr_equal(cli->t.replier, &srv->t);
	assert_ptr_equal(srv->t.reply_to, &cli->t);

	/* The reply, with a buffer and a handle; then the server waits again. */
	const mica_handle_t give_back = give(tb, &ep2->obj, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0);
	desc(srv)->send_buf = U_RECV;
	desc(srv)->send_len = 10;
	desc(srv)->send_handle = give_back;
	desc(srv)->send_xfer = MICA_XFER_MOVE;
	desc(srv)->recv_len = LEN_UNSET;
	msg_put(srv, LABEL + 7, 28, true);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL + 7, 28, 0);
	pattern_expect(ta, U_RECV, 10, 2);
	assert_int_equal(desc(cli)->recv_len, 10);
	const mica_handle_t got = desc(cli)->recv_handle;
	assert_true(got >= 0 && got < NSLOTS);
	assert_ptr_equal(ta->slot[got].obj, &ep2->obj);
	assert_null(tb->slot[give_back].obj);
	assert_null(srv->t.reply_to);
	assert_null(cli->t.replier);
	assert_ptr_equal(ep->receivers, &srv->t);
}

/* A caller that comes while the server waits: delivered at once, the caller waits for the reply. */
static void test_call_to_waiting_server_then_reply(void **state)
{
	(void)state;
	msg_put(cli, LABEL, 29, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	assert_ptr_equal(ep->senders, &cli->t);
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 29, BADGE_A);
	assert_int_equal(cli->t.state, THREAD_BLOCKED); /* not woken: awaits the reply */
	assert_int_equal(cli->wakes, 0);
	assert_ptr_equal(srv->t.reply_to, &cli->t);

	/* The reply goes out; a second caller waiting is received at once. */
	msg_put(cli2, LABEL, 30, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	msg_put(srv, LABEL + 1, 31, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb), MICA_OK);
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL + 1, 31, 0);
	msg_expect(srv, LABEL, 30, BADGE_C);
	expect_woken(cli2, MICA_OK);
	assert_null(srv->t.reply_to);
}

/*
 * The fast path (fastpath.c): a registers-only call to a server waiting
 * without a descriptor, and a registers-only reply with nobody queued,
 * switch straight to the partner; the results are the general path's.
 */
static void fast_round_trip(unsigned want_handoffs)
{
	srv_waits(srv, false);
	msg_put(cli, LABEL, 40, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 40, BADGE_A);
	assert_ptr_equal(srv->t.reply_to, &cli->t);
	assert_ptr_equal(cli->t.replier, &srv->t);
	assert_int_equal(cli->t.ipc_state, IPC_AWAIT_REPLY);
	assert_null(ep->receivers);

	msg_put(srv, LABEL + 1, 41, false);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL + 1, 41, 0); /* a reply carries no badge */
	assert_null(cli->t.replier);
	assert_null(srv->t.reply_to);
	assert_ptr_equal(ep->receivers, &srv->t); /* waiting for the next call */
	assert_int_equal(srv->t.ipc_state, IPC_RECEIVING);
	assert_int_equal(handoffs, want_handoffs);
	assert_int_equal(spurious_wakes, 0);

	/* The next call finds it there. */
	msg_put(cli, LABEL, 42, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 42, BADGE_A);
}

static void test_fast_path_round_trip(void **state)
{
	(void)state;
	fast_round_trip(2);
}

/* When the partner may not run at once (priorities), it is woken and the caller blocks. */
static void test_fast_path_without_handoff(void **state)
{
	(void)state;
	handoff_ok = false;
	fast_round_trip(0);
}

/*
 * Simple descriptors (no timeout, no handle) take the fast path (a
 * handoff), which writes their outputs as the general path would; a kernel
 * label is refused by whichever path.
 */
static void test_fast_path_descriptors(void **state)
{
	(void)state;
	/* The server waits with a descriptor: the fast path writes its outputs. */
	desc_clear(srv);
	srv_waits(srv, true);
	msg_put(cli, LABEL, 43, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 43, BADGE_A);
	assert_int_equal(desc(srv)->recv_len, 0);
	assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
	assert_int_equal(handoffs, 1);
	/* The caller waits with a descriptor: its outputs are written on the reply. */
	msg_put(srv, LABEL, 44, false);
	desc_clear(cli);
	cli->f.rbx = cli->desc; /* as if it had called with one */
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL, 44, 0);
	assert_int_equal(desc(cli)->recv_len, 0);
	assert_int_equal(handoffs, 2);
	/* A kernel label is refused, by whichever path. */
	msg_put(cli, MICA_LABEL_KERNEL, 45, false);
	cli->t.state = THREAD_RUNNABLE;
	assert_int_equal(sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha), MICA_EINVAL);
	assert_ptr_equal(ep->receivers, &srv->t);
	assert_int_equal(handoffs, 2);
}

/* A descriptor that passes a handle, or a waiting partner with a deadline: the general path. */
static void test_fast_path_not_for_handles_or_deadlines(void **state)
{
	(void)state;
	/* The caller passes a handle: the general path (no handoff) moves it. */
	desc_clear(srv);
	srv_waits(srv, true);
	desc_clear(cli);
	msg_put(cli, LABEL, 46, true);
	desc(cli)->send_handle = (int32_t)ha;
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	assert_int_not_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
	assert_int_equal(handoffs, 0);
	/* The server replies, then waits with a timeout: a call must cancel its timer. */
	msg_put(srv, LABEL, 47, true);
	desc(srv)->flags = MICA_IPC_TIMEOUT;
	desc(srv)->timeout_ns = MICA_NS_PER_S;
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	assert_true(srv->t.deadline != 0);
	msg_put(cli, LABEL, 48, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	assert_int_equal(srv->t.deadline, 0); /* the general path's wake cancelled it */
	assert_int_equal(handoffs, 0);
}

/* reply_recv with nobody to answer just receives. */
static void test_reply_recv_without_caller(void **state)
{
	(void)state;
	msg_put(srv, LABEL, 32, false);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	assert_ptr_equal(ep->receivers, &srv->t);
	msg_put(cli, LABEL, 33, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	msg_expect(srv, LABEL, 33, BADGE_A);
}

/* srv took a call from cli and owes the reply. */
static void srv_owes_cli(void)
{
	srv_waits(srv, false);
	msg_put(cli, LABEL, 34, false);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	assert_ptr_equal(srv->t.reply_to, &cli->t);
}

/* Everything is checked before the reply goes out: a refusal leaves the caller waiting. */
static void test_reply_recv_checks_before_replying(void **state)
{
	(void)state;
	srv_owes_cli();
	desc_clear(srv);
	msg_put(srv, LABEL, 35, true);
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)ha_close, MICA_EBADH);
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, 4242, MICA_EBADH);
	/* The reply's own descriptor. */
	desc(srv)->send_buf = U_SEND;
	desc(srv)->send_len = MICA_MSG_BUF_MAX + 1;
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EINVAL);
	desc(srv)->send_buf = UBASE + UPAGES * PAGE;
	desc(srv)->send_len = 1;
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EFAULT);
	desc_clear(srv);
	desc(srv)->send_handle = 4242;
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EBADH);
	desc(srv)->send_handle = hb;
	desc(srv)->send_xfer = 9;
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EINVAL);
	/* A kernel label in the reply. */
	desc_clear(srv);
	msg_put(srv, MICA_LABEL_FAULT, 35, true);
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EINVAL);
	/* Still owed: a good reply gets through. */
	msg_put(srv, LABEL, 35, true);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL, 35, 0);
}

/* A caller that died before its reply: the server hears MICA_EPEER once, then goes on. */
static void test_dead_caller_epeer_once(void **state)
{
	(void)state;
	srv_owes_cli();
	ipc_detach(&cli->t);
	cli->t.state = THREAD_DEAD;
	assert_null(srv->t.reply_to);

	msg_put(cli2, LABEL, 36, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	msg_put(srv, LABEL, 37, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb), MICA_EPEER);
	/* Without receiving: the waiting sender is still there. */
	assert_ptr_equal(ep->senders, &cli2->t);
	assert_int_equal(srv->f.rsi, LABEL);
	/* Only once: the next reply_recv receives. */
	assert_int_equal(sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 36, BADGE_C);
	expect_woken(cli2, MICA_OK);
	assert_int_equal(cli->wakes, 0);
}

/* A server that receives again without replying abandons its caller. */
static void test_receive_again_abandons_caller(void **state)
{
	(void)state;
	srv_owes_cli();
	msg_put(srv, 0, 0, false);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_EPEER);
	assert_null(srv->t.reply_to);
	assert_null(cli->t.replier);
}

/* Likewise when the new message was already waiting: the caller owed hears MICA_EPEER. */
static void test_receive_queued_abandons_caller(void **state)
{
	(void)state;
	srv_owes_cli();
	msg_put(cli2, LABEL, 45, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 45, BADGE_C);
	expect_woken(cli2, MICA_OK);
	expect_woken(cli, MICA_EPEER);
	assert_null(srv->t.reply_to);
	assert_null(cli->t.replier);
}

/* A try_recv that finds nothing keeps the caller owed (no receive happened). */
static void test_failed_try_recv_keeps_caller(void **state)
{
	(void)state;
	srv_owes_cli();
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb), MICA_EAGAIN);
	assert_int_equal(cli->t.state, THREAD_BLOCKED);
	assert_ptr_equal(srv->t.reply_to, &cli->t);
}

/* A server that dies before replying: the caller hears MICA_EPEER. */
static void test_dead_server_wakes_caller(void **state)
{
	(void)state;
	srv_owes_cli();
	ipc_detach(&srv->t);
	expect_woken(cli, MICA_EPEER);
	assert_null(cli->t.replier);
}

/* A waiter that dies leaves its queue, and only it. */
static void test_dead_waiter_leaves_queue(void **state)
{
	(void)state;
	srv_waits(srv, false);
	srv_waits(srv2, false);
	ipc_detach(&srv->t);
	srv->t.state = THREAD_DEAD;
	assert_ptr_equal(ep->receivers, &srv2->t);
	assert_ptr_equal(ep->receivers_tail, &srv2->t);
	msg_put(cli, LABEL, 38, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	msg_expect(srv2, LABEL, 38, BADGE_A);
	assert_int_equal(srv->wakes, 0);
}

/* ---- what changes while a side waits ---- */

/* A queued sender whose buffer went away hears MICA_EFAULT; the receiver takes the next. */
static void test_queued_sender_buffer_went_away(void **state)
{
	(void)state;
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 10;
	msg_put(cli, LABEL, 39, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	msg_put(cli2, LABEL, 40, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	ta->perm[1] = 0;

	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 64;
	msg_put(srv, 0, 0, true);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	expect_woken(cli, MICA_EFAULT);
	expect_woken(cli2, MICA_OK);
	msg_expect(srv, LABEL, 40, BADGE_C);
	assert_int_equal(desc(srv)->recv_len, 0);
	fill_expect(tb, U_RECV, 64);
}

/*
 * A queued receiver whose descriptor became read-only gets the registers
 * only: no handle may arrive unseen, so the sender keeps it.
 */
static void test_receiver_descriptor_lost_while_waiting(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 64;
	srv_waits(srv, true);
	tb->perm[0] = U_R;

	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 10;
	desc(cli)->send_handle = ha_x;
	desc(cli)->send_xfer = MICA_XFER_MOVE;
	msg_put(cli, LABEL, 41, true);
	const struct handle held = ta->slot[ha_x];
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 41, BADGE_A);
	assert_memory_equal(&ta->slot[ha_x], &held, sizeof(held));
	assert_int_equal(tb->as.handles.count, 1);
	assert_int_equal(desc(srv)->recv_len, LEN_UNSET);
	fill_expect(tb, U_RECV, 64);
}

/* A queued receiver whose buffer went away: the message arrives, recv_len 0, the handle too. */
static void test_receive_buffer_lost_while_waiting(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 64;
	srv_waits(srv, true);
	tb->perm[3] = U_R;

	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = 10;
	msg_put(cli, LABEL, 42, true);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	msg_expect(srv, LABEL, 42, BADGE_A);
	assert_int_equal(desc(srv)->recv_len, 0);
	fill_expect(tb, U_RECV, 64);
}

/* ---- the kernel's own messages ---- */

/* An exit notice: registers from the kernel, kernel label and all, nothing else. */
static void test_exit_notice_delivered(void **state)
{
	(void)state;
	desc_clear(srv);
	desc(srv)->recv_buf = U_RECV;
	desc(srv)->recv_cap = 64;
	srv_waits(srv, true);
	cli2->t.state = THREAD_ZOMBIE;
	cli2->t.kmsg.label = MICA_LABEL_EXIT;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		cli2->t.kmsg.w[i] = word(43, i);
	ipc_notify(&cli2->t, ep, 0x5u);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, MICA_LABEL_EXIT, 43, 0x5u);
	assert_int_equal(desc(srv)->recv_len, 0);
	assert_int_equal(desc(srv)->recv_handle, MICA_HANDLE_NONE);
	fill_expect(tb, U_RECV, 64);
	assert_int_equal(cli2->buries, 1);
}

/* Nobody listening yet: the zombie waits with its notice until a receiver comes. */
static void test_exit_notice_waits_for_receiver(void **state)
{
	(void)state;
	cli2->t.state = THREAD_ZOMBIE;
	cli2->t.kmsg.label = MICA_LABEL_EXIT;
	for (int i = 0; i < MICA_MSG_WORDS; i++)
		cli2->t.kmsg.w[i] = word(44, i);
	ipc_notify(&cli2->t, ep, 0x6u);
	assert_int_equal(cli2->buries, 0);
	assert_ptr_equal(ep->senders, &cli2->t);
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, MICA_LABEL_EXIT, 44, 0x6u);
	assert_int_equal(cli2->buries, 1);
	assert_int_equal(cli2->t.state, THREAD_DEAD);
}

/* ---- timeouts and sleep (timer.c): the fake PIT ticks every 10 ms ---- */

#define MS MICA_NS_PER_MS

uint64_t pit_period_ns(void)
{
	return 10 * MS;
}

static void tick(unsigned n)
{
	while (n--)
		timer_tick();
}

/* t's descriptor sends and receives nothing and bounds the wait by ns. */
static void desc_timeout(struct fthread *t, uint64_t ns)
{
	desc_clear(t);
	desc(t)->flags = MICA_IPC_TIMEOUT;
	desc(t)->timeout_ns = ns;
}

/*
 * A timed receive nobody answers: 30 ms is 3 ticks plus the one under
 * way, so the 4th tick wakes it, with MICA_ETIMEDOUT, out of the queue; a
 * later send finds nobody.
 */
static void test_timeout_recv_expires(void **state)
{
	(void)state;
	desc_timeout(srv, 30 * MS);
	srv_waits(srv, true);
	tick(3);
	assert_int_equal(srv->t.state, THREAD_BLOCKED);
	assert_int_equal(srv->wakes, 0);
	tick(1);
	expect_woken(srv, MICA_ETIMEDOUT);
	assert_int_equal(srv->wakes, 1);
	assert_null(ep->receivers);
	assert_null(ep->receivers_tail);
	assert_int_equal(desc(srv)->recv_len, LEN_UNSET); /* nothing received */
	msg_put(cli, LABEL, 50, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha), MICA_EAGAIN);
}

/* A timed-out receiver at either end of the queue leaves exactly: the other gets the message. */
static void test_timeout_leaves_queue_exactly(void **state)
{
	(void)state;
	for (int timed_first = 0; timed_first < 2; timed_first++) {
		struct fthread *timed = timed_first ? srv : srv2, *other = timed_first ? srv2 : srv;

		desc_timeout(timed, 10 * MS);
		if (timed_first) {
			srv_waits(timed, true);
			srv_waits(other, false);
		} else {
			srv_waits(other, false);
			srv_waits(timed, true);
		}
		tick(2);
		expect_woken(timed, MICA_ETIMEDOUT);
		assert_ptr_equal(ep->receivers, &other->t);
		assert_ptr_equal(ep->receivers_tail, &other->t);
		assert_null(other->t.ipc_next);
		msg_put(cli, LABEL, 51, false);
		assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
		expect_woken(other, MICA_OK);
		msg_expect(other, LABEL, 51, BADGE_A);
		assert_null(ep->receivers);
	}
}

/* A message before the deadline: received, the timer cancelled (later ticks wake nobody). */
static void test_timeout_message_in_time(void **state)
{
	(void)state;
	desc_timeout(srv, 30 * MS);
	srv_waits(srv, true);
	tick(3);
	msg_put(cli, LABEL, 52, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 52, BADGE_A);
	assert_int_equal(srv->t.deadline, 0);
	tick(10);
	assert_int_equal(srv->wakes, 1);
	assert_int_equal(srv->t.ipc_result, MICA_OK);
}

/*
 * A message at the deadline's tick: the kernel is not preemptible, so one
 * comes first. The expiry first: the sender finds nobody. The message
 * first: it is delivered and the tick does nothing.
 */
static void test_timeout_at_the_deadline(void **state)
{
	(void)state;
	desc_timeout(srv, 10 * MS);
	srv_waits(srv, true);
	tick(1);
	assert_int_equal(srv->t.state, THREAD_BLOCKED);
	tick(1);
	msg_put(cli, LABEL, 53, false);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha), MICA_EAGAIN);
	expect_woken(srv, MICA_ETIMEDOUT);

	srv->t.state = THREAD_RUNNABLE;
	desc_timeout(srv, 10 * MS);
	srv_waits(srv, true);
	tick(1);
	assert_int_equal(sys(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha), MICA_OK);
	tick(1);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 53, BADGE_A);
	assert_int_equal(srv->wakes, 2);
}

/* Timeout 0 polls: MICA_ETIMEDOUT at once, changing nothing; a waiting partner is taken. */
static void test_timeout_zero_polls(void **state)
{
	(void)state;
	desc_timeout(srv, 0);
	msg_put(srv, 0, 0, true);
	expect_refused(srv, MICA_SYS_IPC_RECV, (uint64_t)hb, MICA_ETIMEDOUT);
	desc_timeout(cli, 0);
	msg_put(cli, LABEL, 54, true);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_ETIMEDOUT);
	/* reply_recv: nothing owed, nothing there. */
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_ETIMEDOUT);
	/* A sender waits: the poll takes it. */
	msg_put(cli2, LABEL, 55, false);
	expect_blocked(cli2, sys(cli2, MICA_SYS_IPC_SEND, (uint64_t)hc));
	assert_int_equal(sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb), MICA_OK);
	msg_expect(srv, LABEL, 55, BADGE_C);
	expect_woken(cli2, MICA_OK);
	assert_int_equal(srv->blocks, 0);
}

/* Bad timeouts: MICA_EINVAL, nothing changed. */
static void test_timeout_bad_arguments(void **state)
{
	(void)state;
	desc_timeout(srv, MICA_TIMEOUT_MAX + 1);
	msg_put(srv, 0, 0, true);
	expect_refused(srv, MICA_SYS_IPC_RECV, (uint64_t)hb, MICA_EINVAL);
	expect_refused(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb, MICA_EINVAL);
	expect_refused(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb, MICA_EINVAL);
	desc_timeout(cli, ~0ULL);
	msg_put(cli, LABEL, 56, true);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EINVAL);
	/* A call cannot poll: its reply needs a wait. */
	desc_timeout(cli, 0);
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EINVAL);
	/* Unknown flags, with or without the timeout one. */
	desc_timeout(cli, 10 * MS);
	desc(cli)->flags = MICA_IPC_TIMEOUT | 2;
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
	desc(cli)->flags = 1ULL << 63;
	expect_refused(cli, MICA_SYS_IPC_TRY_SEND, (uint64_t)ha, MICA_EINVAL);
	/* sleep. */
	expect_refused(cli, MICA_SYS_SLEEP, MICA_TIMEOUT_MAX + 1, MICA_EINVAL);
	/* The largest is fine. */
	desc_timeout(srv, MICA_TIMEOUT_MAX);
	msg_put(srv, 0, 0, true);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb));
	ipc_detach(&srv->t);
}

/* A timed send nobody takes: MICA_ETIMEDOUT, out of the senders' queue. */
static void test_timeout_send_expires(void **state)
{
	(void)state;
	desc_timeout(cli, 20 * MS);
	msg_put(cli, LABEL, 57, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha));
	assert_ptr_equal(ep->senders, &cli->t);
	tick(3);
	expect_woken(cli, MICA_ETIMEDOUT);
	assert_null(ep->senders);
	assert_null(ep->senders_tail);
	msg_put(srv, 0, 0, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_TRY_RECV, (uint64_t)hb), MICA_EAGAIN);
}

/*
 * A timed call taken by a server that does not answer in time: the caller
 * gives up, and the server learns at its reply, with MICA_EPEER and
 * without receiving, that nobody waits.
 */
static void test_timeout_call_awaiting_reply(void **state)
{
	(void)state;
	srv_waits(srv, false);
	desc_timeout(cli, 20 * MS);
	msg_put(cli, LABEL, 58, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	assert_int_equal(cli->t.ipc_state, IPC_AWAIT_REPLY);
	tick(2);
	assert_int_equal(cli->t.state, THREAD_BLOCKED);
	tick(1);
	expect_woken(cli, MICA_ETIMEDOUT);
	assert_null(cli->t.replier);
	assert_null(srv->t.reply_to);
	msg_put(srv, LABEL, 59, false);
	assert_int_equal(sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb), MICA_EPEER);
	assert_int_equal(cli->wakes, 1);
	msg_expect(cli, LABEL, 58, (uint64_t)ha); /* its registers: still its own message */
	/* A reply in time cancels the timer. */
	cli->t.state = THREAD_RUNNABLE;
	srv_waits(srv, false);
	msg_put(cli, LABEL, 60, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	msg_put(srv, LABEL, 61, false);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, LABEL, 61, 0);
	tick(5);
	assert_int_equal(cli->wakes, 2);
}

/* The endpoint closes under a timed receive: MICA_EPEER, the timer gone with the wait. */
static void test_timeout_endpoint_closed(void **state)
{
	(void)state;
	desc_timeout(srv, 30 * MS);
	srv_waits(srv, true);
	for (int k = 0; k < NTASKS; k++)
		handle_table_clear(&task[k].as.handles);
	expect_woken(srv, MICA_EPEER);
	assert_int_equal(srv->t.deadline, 0);
	tick(5);
	assert_int_equal(srv->wakes, 1);
}

/* A thread that ends while it waits with a deadline leaves the timer queue. */
static void test_timeout_thread_ends(void **state)
{
	(void)state;
	desc_timeout(srv, 30 * MS);
	srv_waits(srv, true);
	ipc_detach(&srv->t);
	srv->t.state = THREAD_DEAD;
	assert_int_equal(srv->t.deadline, 0);
	assert_null(ep->receivers);
	tick(5);
	assert_int_equal(srv->wakes, 0);
}

/* Deadlines in order: a later-armed, earlier deadline fires first; sleep ends with MICA_OK. */
static void test_timer_order_and_sleep(void **state)
{
	(void)state;
	uint64_t t0 = (uint64_t)sys(cli2, MICA_SYS_CLOCK, 0);

	desc_timeout(srv, 50 * MS); /* due at the 6th tick */
	srv_waits(srv, true);
	expect_blocked(cli2, sys(cli2, MICA_SYS_SLEEP, 25 * MS)); /* the 4th */
	desc_timeout(srv2, 10 * MS);                              /* the 2nd */
	srv_waits(srv2, true);
	tick(2);
	expect_woken(srv2, MICA_ETIMEDOUT);
	assert_int_equal(srv->wakes + cli2->wakes, 0);
	tick(2);
	expect_woken(cli2, MICA_OK);
	assert_int_equal(srv->wakes, 0);
	tick(2);
	expect_woken(srv, MICA_ETIMEDOUT);
	/* The clock: 6 ticks of 10 ms. */
	assert_int_equal((uint64_t)sys(cli2, MICA_SYS_CLOCK, 0) - t0, 60 * MS);
	/* sleep(0) returns at once. */
	assert_int_equal(sys(cli2, MICA_SYS_SLEEP, 0), MICA_OK);
	assert_int_equal(cli2->blocks, 1);
}

/* ---- the IPC buffer (ipcbuf.c; RBX = MICA_IPC_BUFFER) ---- */

/* t's IPC buffer, registered at page va of its task (its own call), as the test sees it. */
static struct mica_ipc_buffer *ipcbuf_at(struct fthread *t, vaddr_t va)
{
	assert_int_equal(sys(t, MICA_SYS_IPC_BUFFER_SET, va), MICA_OK);
	assert_int_equal(fs_base, va);
	struct mica_ipc_buffer *b = (struct mica_ipc_buffer *)umem(task_of(t), va);
	assert_int_equal(b->self, va);
	b->send_len = 0;
	b->send_handle = MICA_HANDLE_NONE;
	b->send_xfer = MICA_XFER_COPY;
	b->recv_len = LEN_UNSET;
	b->recv_handle = HANDLE_UNSET;
	b->flags = 0;
	b->timeout_ns = 0;
	return b;
}

/* Put a message in t's registers with its IPC buffer as the descriptor. */
static void msg_put_ipcbuf(struct fthread *t, uint64_t label, uint64_t seed)
{
	msg_put(t, label, seed, false);
	t->f.rbx = MICA_IPC_BUFFER;
}

#define DATA_OFF MICA_IPC_BUFFER_HEAD

/* Both sides through their IPC buffers: the data arrives, recv_len and recv_handle set. */
static void test_ipcbuf_both_sides(void **state)
{
	(void)state;
	struct mica_ipc_buffer *sb = ipcbuf_at(srv, U_RECV);
	msg_put_ipcbuf(srv, 0, 0);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb));

	struct mica_ipc_buffer *cb = ipcbuf_at(cli, U_SEND);
	pattern_put(ta, U_SEND + DATA_OFF, 300, 21);
	cb->send_len = 300;
	msg_put_ipcbuf(cli, LABEL, 9);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 9, BADGE_A);
	pattern_expect(tb, U_RECV + DATA_OFF, 300, 21);
	fill_expect(tb, U_RECV + DATA_OFF + 300, MICA_IPC_BUFFER_DATA - 300);
	fill_expect(tb, U_RECV + PAGE, PAGE); /* nothing past the page */
	assert_int_equal(sb->recv_len, 300);
	assert_int_equal(sb->recv_handle, MICA_HANDLE_NONE);
	/* The sender's head is only read. */
	assert_int_equal(cb->recv_len, LEN_UNSET);
}

/* A descriptor to an IPC buffer and back: cut at the buffer's data, never past its page. */
static void test_ipcbuf_and_descriptors_mix(void **state)
{
	(void)state;
	struct mica_ipc_buffer *sb = ipcbuf_at(srv, U_RECV);
	msg_put_ipcbuf(srv, 0, 0);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb));

	pattern_put(ta, U_SEND, MICA_MSG_BUF_MAX, 5);
	desc_clear(cli);
	desc(cli)->send_buf = U_SEND;
	desc(cli)->send_len = MICA_MSG_BUF_MAX;
	desc(cli)->recv_buf = U_SEND + PAGE;
	desc(cli)->recv_cap = MICA_MSG_BUF_MAX;
	msg_put(cli, LABEL, 10, true);
	expect_blocked(cli, sys(cli, MICA_SYS_IPC_CALL, (uint64_t)ha));
	expect_woken(srv, MICA_OK);
	pattern_expect(tb, U_RECV + DATA_OFF, MICA_IPC_BUFFER_DATA, 5);
	fill_expect(tb, U_RECV + PAGE, PAGE);
	assert_int_equal(sb->recv_len, MICA_MSG_BUF_MAX); /* more than it holds: cut */

	/* The reply from the buffer to the caller's descriptor. */
	pattern_put(tb, U_RECV + DATA_OFF, 100, 77);
	sb->send_len = 100;
	msg_put_ipcbuf(srv, 0, 11);
	srv->t.state = THREAD_RUNNABLE;
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_REPLY_RECV, (uint64_t)hb));
	expect_woken(cli, MICA_OK);
	msg_expect(cli, 0, 11, 0);
	pattern_expect(ta, U_SEND + PAGE, 100, 77);
	assert_int_equal(desc(cli)->recv_len, 100);
}

/* The errors of the buffer's use: none registered, a length past its data, its page gone. */
static void test_ipcbuf_errors(void **state)
{
	(void)state;
	srv_waits(srv, false);
	/* No buffer registered. */
	msg_put_ipcbuf(cli, LABEL, 12);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
	/* send_len past the data (within MICA_MSG_BUF_MAX, so a descriptor could send it). */
	struct mica_ipc_buffer *cb = ipcbuf_at(cli, U_SEND);
	cb->send_len = MICA_IPC_BUFFER_DATA + 1;
	msg_put_ipcbuf(cli, LABEL, 12);
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
	/* A flag it does not know, as a descriptor's. */
	cb->send_len = 8;
	cb->flags = 2;
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EINVAL);
	cb->flags = 0;
	/* The page unmapped, then read-only: MICA_EFAULT, nothing written. */
	ta->perm[(U_SEND - UBASE) / PAGE] = 0;
	expect_refused(cli, MICA_SYS_IPC_SEND, (uint64_t)ha, MICA_EFAULT);
	ta->perm[(U_SEND - UBASE) / PAGE] = U_R;
	expect_refused(cli, MICA_SYS_IPC_CALL, (uint64_t)ha, MICA_EFAULT);
	/* Writable again: it works. */
	ta->perm[(U_SEND - UBASE) / PAGE] = U_RW;
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 12, BADGE_A);
	/* Registration's own errors: none changes the buffer. */
	assert_int_equal(sys(cli, MICA_SYS_IPC_BUFFER_SET, U_SEND + 1), MICA_EALIGN);
	assert_int_equal(sys(cli, MICA_SYS_IPC_BUFFER_SET, 0x1000), MICA_ERANGE);
	assert_int_equal(sys(cli, MICA_SYS_IPC_BUFFER_SET, U_RO), MICA_EFAULT);
	assert_int_equal(sys(cli, MICA_SYS_IPC_BUFFER_SET, UBASE + UPAGES * PAGE), MICA_EFAULT);
	assert_int_equal(cli->t.ipcbuf, U_SEND);
	assert_int_equal(sys(cli, MICA_SYS_IPC_BUFFER_SET, 0), MICA_OK);
	assert_int_equal(cli->t.ipcbuf, 0);
	assert_int_equal(fs_base, 0);
}

/* A receiver whose buffer went while it waited gets the registers only; the sender is fine. */
static void test_ipcbuf_lost_while_waiting(void **state)
{
	(void)state;
	struct mica_ipc_buffer *sb = ipcbuf_at(srv, U_RECV);
	msg_put_ipcbuf(srv, 0, 0);
	expect_blocked(srv, sys(srv, MICA_SYS_IPC_RECV, (uint64_t)hb));
	tb->perm[(U_RECV - UBASE) / PAGE] = U_R; /* a sibling made it read-only */

	struct mica_ipc_buffer *cb = ipcbuf_at(cli, U_SEND);
	cb->send_len = 64;
	msg_put_ipcbuf(cli, LABEL, 13);
	assert_int_equal(sys(cli, MICA_SYS_IPC_SEND, (uint64_t)ha), MICA_OK);
	expect_woken(srv, MICA_OK);
	msg_expect(srv, LABEL, 13, BADGE_A);
	assert_int_equal(sb->recv_len, LEN_UNSET);
	fill_expect(tb, U_RECV + DATA_OFF, 64);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_recv_then_send_copies_registers),
	    T(test_send_then_recv),
	    T(test_senders_fifo_with_badges),
	    T(test_kernel_labels_refused),
	    T(test_buffer_copied),
	    T(test_ipcbuf_both_sides),
	    T(test_ipcbuf_and_descriptors_mix),
	    T(test_ipcbuf_errors),
	    T(test_ipcbuf_lost_while_waiting),
	    T(test_buffer_cut_at_recv_cap),
	    T(test_buffer_recv_cap_zero),
	    T(test_sender_without_descriptor),
	    T(test_receiver_without_descriptor_gets_registers_only),
	    T(test_handle_copy),
	    T(test_handle_move),
	    T(test_handle_copy_needs_copy_right),
	    T(test_handle_receiver_table_full),
	    T(test_send_len_over_max),
	    T(test_send_buffer_unreadable),
	    T(test_send_descriptor_unreadable),
	    T(test_bad_xfer_mode),
	    T(test_bad_handle_to_pass),
	    T(test_call_receive_part_checked),
	    T(test_receiver_descriptor_not_writable),
	    T(test_receive_buffer_checked),
	    T(test_bad_endpoint_handle),
	    T(test_endpoint_rights),
	    T(test_try_with_nobody_waiting),
	    T(test_try_with_partner_waiting),
	    T(test_endpoint_closed_wakes_waiters),
	    T(test_endpoint_closed_wakes_senders),
	    T(test_endpoint_closed_while_held_by_a_thread),
	    T(test_endpoint_dies_with_last_receive_handle),
	    T(test_endpoint_dies_under_a_receiver),
	    T(test_call_and_reply_recv),
	    T(test_call_to_waiting_server_then_reply),
	    T(test_fast_path_round_trip),
	    T(test_fast_path_without_handoff),
	    T(test_fast_path_descriptors),
	    T(test_fast_path_not_for_handles_or_deadlines),
	    T(test_reply_recv_without_caller),
	    T(test_reply_recv_checks_before_replying),
	    T(test_dead_caller_epeer_once),
	    T(test_receive_again_abandons_caller),
	    T(test_receive_queued_abandons_caller),
	    T(test_failed_try_recv_keeps_caller),
	    T(test_dead_server_wakes_caller),
	    T(test_dead_waiter_leaves_queue),
	    T(test_queued_sender_buffer_went_away),
	    T(test_receiver_descriptor_lost_while_waiting),
	    T(test_receive_buffer_lost_while_waiting),
	    T(test_exit_notice_delivered),
	    T(test_exit_notice_waits_for_receiver),
	    T(test_timeout_recv_expires),
	    T(test_timeout_leaves_queue_exactly),
	    T(test_timeout_message_in_time),
	    T(test_timeout_at_the_deadline),
	    T(test_timeout_zero_polls),
	    T(test_timeout_bad_arguments),
	    T(test_timeout_send_expires),
	    T(test_timeout_call_awaiting_reply),
	    T(test_timeout_endpoint_closed),
	    T(test_timeout_thread_ends),
	    T(test_timer_order_and_sleep),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
