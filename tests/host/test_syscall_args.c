/*
 * Host unit tests for the system calls' argument checks: the memory calls
 * of kernel/mem.c (map, unmap, grant, donate, aspace_create and _destroy,
 * mem_stats) and the generic ones of kernel/syscall.c (unknown numbers,
 * handle values outside int32). Calls go through the real syscall_dispatch
 * into the real mem.c, pool.c, aspace.c, handle.c, kobj.c, usercopy.c,
 * pt.c and frame.c, over simulated RAM; the thread and IPC code is faked.
 * Every refusal is checked to change nothing: mappings, counts, handles.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mica/bootinfo.h>
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/layout.h>
#include <mica/memory.h>
#include <mica/syscall.h>
#include "aspace.h"
#include "cpu.h"
#include "fakes.h"
#include "frame.h"
#include "ipc.h"
#include "ipcbuf.h"
#include "kobj.h"
#include "kprintf.h"
#include "mem.h"
#include "memmap.h"
#include "panic.h"
#include "phys.h"
#include "pool.h"
#include "pt.h"
#include "usercopy.h"
#include "sched.h"
#include "serial.h"
#include "syscall.h"
#include "thread.h"
#include "vm.h"

#define MiB      (1ULL << 20)
#define PAGE     MICA_PAGE_SIZE
#define RAM_SIZE (64 * MiB)
#define RESERVE  1024 /* frames the kernel keeps; the rest is the pool */
#define MAXP     MICA_MAP_MAX_PAGES

/* Page-table entry bits, as the hardware defines them. */
#define E_P    (1ULL << 0)
#define E_PS   (1ULL << 7)
#define E_ADDR 0x000FFFFFFFFFF000ULL

#define R   MICA_MAP_READ
#define W   MICA_MAP_WRITE
#define X   MICA_MAP_EXEC
#define RW  (R | W)
#define MEM MICA_RIGHT_MEMORY

/*
 * The caller's own user memory, mapped in setup: two writable pages (for
 * reports and statistics), one read-only page after them, nothing after
 * that. The tests map their own pages from VA and WA.
 */
#define U_IO   0x20000000ULL
#define U_RO   (U_IO + 2 * PAGE)
#define U_NONE (U_IO + 3 * PAGE)
#define VA     0x40000000ULL
#define WA     0x50000000ULL
#define KADDR  0xFFFF800000001000ULL /* a kernel-half address */
#define NONCAN 0x0000800000000000ULL /* the first non-canonical address */

static uint8_t *ram;
static struct memmap map;
static void *meta;
static paddr_t kroot;
static paddr_t pool_lo, pool_hi; /* the pool: one run of frames at the top of RAM */

/* The calling thread, its address space and a second one (the target). */
static struct thread cur;
static struct aspace *self, *tgt;
static struct kobj ep_obj;    /* an endpoint object, for wrong-type handles */
static mica_handle_t h_self;  /* self: MEMORY MANAGE COPY */
static mica_handle_t h_tgt;   /* tgt: MEMORY MANAGE COPY */
static mica_handle_t h_nomem; /* tgt: MANAGE COPY, no MEMORY */
static mica_handle_t h_thr;   /* the calling thread */
static mica_handle_t h_ep;    /* the endpoint */
static mica_handle_t h_gone;  /* closed in setup */

/* What every test starts from, and must end with. */
static struct mica_mem_stats base;

/* Pool frame i (frames 0-2 hold the caller's own pages). */
static paddr_t F(uint64_t i)
{
	return pool_lo + i * PAGE;
}

/* ---- fakes ---- */

struct thread *sched_current(void)
{
	return &cur;
}

void sched_reap(void)
{
}

void sched_yield(void)
{
}

paddr_t vm_kernel_root(void)
{
	return kroot;
}

/* The FS base the kernel last set (ctx.c): the IPC buffer's address. */
static uint64_t fs_base;

void ctx_fs_base_set(uint64_t base)
{
	fs_base = base;
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fail_msg("kernel panic");
	abort();
}

/* Bytes debug_write sent to the serial line. */
static char serial_out[MICA_DEBUG_WRITE_MAX + 1];
static size_t serial_len;

void serial_write(const char *s, size_t n)
{
	assert_true(serial_len + n <= sizeof(serial_out));
	memcpy(serial_out + serial_len, s, n);
	serial_len += n;
}

void thread_end(struct thread *t, unsigned reason, int64_t code, uint64_t addr, const char *why)
{
	(void)t;
	(void)reason;
	(void)code;
	(void)addr;
	(void)why;
	fail_msg("thread_end: no address space here has threads");
}

void thread_exit(int64_t code)
{
	(void)code;
	fail_msg("thread_exit");
	abort();
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

void thread_release(struct thread *t)
{
	(void)t;
	fail_msg("the test thread was released");
}

void endpoint_release(struct endpoint *e)
{
	(void)e;
	fail_msg("the test endpoint was released");
}

void endpoint_unreferenced(struct endpoint *e)
{
	(void)e;
}

int endpoint_create(struct endpoint **out)
{
	(void)out;
	fail_msg("endpoint_create");
	return MICA_ENOMEM;
}

int64_t ipc_send(const struct syscall_args *s, bool block, bool call)
{
	(void)s;
	(void)block;
	(void)call;
	fail_msg("ipc_send");
	return MICA_ENOSYS;
}

int64_t ipc_recv(const struct syscall_args *s, bool block)
{
	(void)s;
	(void)block;
	fail_msg("ipc_recv");
	return MICA_ENOSYS;
}

int64_t ipc_reply_recv(const struct syscall_args *s)
{
	(void)s;
	fail_msg("ipc_reply_recv");
	return MICA_ENOSYS;
}

int64_t ipc_sleep(uint64_t ns)
{
	(void)ns;
	fail_msg("ipc_sleep");
	return MICA_ENOSYS;
}

uint64_t timer_clock_ns(void)
{
	fail_msg("timer_clock_ns");
	return 0;
}

bool fastpath_call(const struct syscall_args *s, int64_t *ret)
{
	(void)s;
	(void)ret;
	fail_msg("fastpath_call");
	return false;
}

bool fastpath_reply_recv(const struct syscall_args *s, int64_t *ret)
{
	(void)s;
	(void)ret;
	fail_msg("fastpath_reply_recv");
	return false;
}

void sched_preempt(void)
{
}

/* ---- system calls, registers as include/mica/syscall.h orders them ---- */

/* syscall.c's entry, called from entry.asm: no header declares it. */
void syscall_dispatch(struct trap_frame *f);

static int64_t sys6(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                    uint64_t a5)
{
	struct trap_frame f;

	memset(&f, 0, sizeof(f));
	f.rax = nr;
	f.rdi = a0;
	f.rsi = a1;
	f.rdx = a2;
	f.r10 = a3;
	f.r8 = a4;
	f.r9 = a5;
	syscall_dispatch(&f);
	return (int64_t)f.rax;
}

static int64_t map_(uint64_t h, uint64_t va, uint64_t pa, uint64_t n, uint64_t rights)
{
	return sys6(MICA_SYS_MAP, h, va, pa, n, rights, 0);
}

static int64_t unmap_(uint64_t h, uint64_t va, uint64_t n, uint64_t out)
{
	return sys6(MICA_SYS_UNMAP, h, va, n, out, 0, 0);
}

static int64_t grant_(uint64_t src, uint64_t sva, uint64_t dst, uint64_t dva, uint64_t n)
{
	return sys6(MICA_SYS_GRANT, src, sva, dst, dva, n, 0);
}

static int64_t donate_(uint64_t h, uint64_t pa, uint64_t n)
{
	return sys6(MICA_SYS_DONATE, h, pa, n, 0, 0, 0);
}

static int64_t create_(uint64_t h)
{
	return sys6(MICA_SYS_ASPACE_CREATE, h, 0, 0, 0, 0, 0);
}

static int64_t destroy_(uint64_t h, uint64_t out, uint64_t cap)
{
	return sys6(MICA_SYS_ASPACE_DESTROY, h, out, cap, 0, 0, 0);
}

static int64_t stats_(uint64_t out)
{
	return sys6(MICA_SYS_MEM_STATS, out, 0, 0, 0, 0, 0);
}

static struct mica_mem_stats stats(void)
{
	struct mica_mem_stats st;

	mem_stats(&st);
	return st;
}

/* The translation of va in as: the frame, or ~0 if unmapped; *flags its PT_* flags. */
static paddr_t lookup(struct aspace *as, vaddr_t va, unsigned *flags)
{
	paddr_t pa;
	unsigned f;

	if (pt_translate(as->root, va, &pa, &f) != MICA_OK)
		return ~0ULL;
	if (flags)
		*flags = f;
	return pa;
}

/* The caller's report buffer, as the test sees it. */
static uint64_t *io(void)
{
	return phys_to_virt(F(0));
}

/* ---- "nothing changed" ---- */

/* Every present entry of the user half of root, tables and leaves, hashed with its place. */
static void digest(paddr_t table, int lvl, vaddr_t va, uint64_t *n, uint64_t *h)
{
	const uint64_t *t = phys_to_virt(table);
	unsigned top = lvl == 4 ? 256 : 512;

	for (unsigned i = 0; i < top; i++) {
		vaddr_t v = va | ((uint64_t)i << (MICA_PAGE_SHIFT + 9 * (lvl - 1)));

		if (!(t[i] & E_P))
			continue;
		(*n)++;
		*h = (*h ^ v ^ t[i] ^ (uint64_t)lvl) * 0x100000001B3ULL;
		if (lvl > 1 && !(t[i] & E_PS))
			digest(t[i] & E_ADDR, lvl - 1, v, n, h);
	}
}

struct snap {
	struct mica_mem_stats st;
	uint64_t nfree;
	uint64_t entries[2], hash[2];       /* self's and tgt's user-half tables */
	uint8_t object[2][MICA_PAGE_SIZE];  /* self's and tgt's frames: object and handle slots */
	uint8_t report[3 * MICA_PAGE_SIZE]; /* the caller's own pages */
	struct mica_mem_stats user_stats;
	uint64_t invlpgs, cr3_writes;
};
static struct snap before, after;

static void snap_fill(struct snap *s)
{
	struct aspace *as[2] = {self, tgt};

	memset(s, 0, sizeof(*s));
	s->st = stats();
	s->nfree = frame_free_count();
	for (int i = 0; i < 2; i++) {
		digest(as[i]->root, 4, 0, &s->entries[i], &s->hash[i]);
		memcpy(s->object[i], as[i], MICA_PAGE_SIZE);
	}
	memcpy(s->report, phys_to_virt(F(0)), sizeof(s->report));
	s->invlpgs = fake_cpu.invlpgs;
	s->cr3_writes = fake_cpu.cr3_writes;
}

static void snap_take(void)
{
	snap_fill(&before);
}

static void snap_expect_same(void)
{
	snap_fill(&after);
	assert_memory_equal(&after.st, &before.st, sizeof(before.st));
	assert_int_equal(after.nfree, before.nfree);
	assert_int_equal(after.entries[0], before.entries[0]);
	assert_int_equal(after.entries[1], before.entries[1]);
	assert_int_equal(after.hash[0], before.hash[0]);
	assert_int_equal(after.hash[1], before.hash[1]);
	assert_memory_equal(after.object, before.object, sizeof(before.object));
	assert_memory_equal(after.report, before.report, sizeof(before.report));
	assert_int_equal(after.invlpgs, before.invlpgs);
	assert_int_equal(after.cr3_writes, before.cr3_writes);
}

/* A call refused with `want` that changed nothing. */
#define REFUSED(want, call)                                                                        \
	do {                                                                                       \
		snap_take();                                                                       \
		assert_int_equal((call), (want));                                                  \
		snap_expect_same();                                                                \
	} while (0)

/* ---- fixture ---- */

static mica_handle_t give(struct aspace *as, struct kobj *o, uint32_t rights)
{
	mica_handle_t h;

	assert_int_equal(handle_alloc(&as->handles, o, rights, 0, &h), MICA_OK);
	return h;
}

static int group_setup(void **state)
{
	(void)state;
	ram = aligned_alloc(PAGE, RAM_SIZE);
	assert_non_null(ram);
	memset(ram, 0xCC, RAM_SIZE);
	host_phys_base = ram;
	memmap_reset(&map);
	assert_int_equal(memmap_add(&map, 1 * MiB, RAM_SIZE - 1 * MiB, MEMMAP_AVAILABLE), MICA_OK);
	assert_int_equal(memmap_compute(&map), MICA_OK);
	size_t bytes = frame_meta_bytes(&map);
	meta = malloc(bytes);
	assert_non_null(meta);
	frame_init(&map, meta, bytes);
	assert_int_equal(frame_alloc(&kroot), MICA_OK);
	memset(phys_to_virt(kroot), 0, PAGE);
	/* Kernel-half slots, as boot makes them: every address space shares them. */
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_DIRECT_MAP_BASE), MICA_OK);
	assert_int_equal(pt_kernel_slot_create(kroot, MICA_KERNEL_VBASE), MICA_OK);
	pool_init(&map, RESERVE);

	struct mica_bootinfo_range r[2];
	uint64_t nfree;
	assert_int_equal(pool_ranges(r, 2, &nfree), 1);
	pool_lo = r[0].start;
	pool_hi = r[0].start + r[0].npages * PAGE;
	assert_int_equal(pool_hi, RAM_SIZE);
	assert_int_equal(frame_free_count(), RESERVE);
	assert_int_equal(pt_table_count(), 2);
	base = stats();
	assert_int_equal(base.pool_total, r[0].npages);
	assert_int_equal(base.mappings, 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	free(meta);
	free(ram);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	memset(&cur, 0, sizeof(cur));
	cur.obj = (struct kobj){.type = MICA_OBJ_THREAD, .refs = 1};
	ep_obj = (struct kobj){.type = MICA_OBJ_ENDPOINT, .refs = 1};
	serial_len = 0;
	assert_int_equal(aspace_create(&self), MICA_OK);
	cur.as = self;
	fake_cpu_reset(self->root, CR4_PGE);
	h_self = give(self, &self->obj, MEM | MICA_RIGHT_MANAGE | MICA_RIGHT_COPY);
	assert_int_equal(aspace_create(&tgt), MICA_OK);
	h_tgt = give(self, &tgt->obj, MEM | MICA_RIGHT_MANAGE | MICA_RIGHT_COPY);
	h_nomem = give(self, &tgt->obj, MICA_RIGHT_MANAGE | MICA_RIGHT_COPY);
	kobj_unref(&tgt->obj); /* the handles hold it */
	h_thr = give(self, &cur.obj, MICA_RIGHTS_ALL);
	h_ep = give(self, &ep_obj, MICA_RIGHT_SEND | MICA_RIGHT_RECV | MICA_RIGHT_COPY);
	h_gone = give(self, &ep_obj, MICA_RIGHTS_ALL);
	assert_int_equal(handle_close(&self->handles, h_gone), MICA_OK);
	/* The caller's own pages, by the real call. */
	assert_int_equal(map_(h_self, U_IO, F(0), 2, RW), MICA_OK);
	assert_int_equal(map_(h_self, U_RO, F(2), 1, R), MICA_OK);
	memset(phys_to_virt(F(0)), 0xAB, 3 * PAGE);
	fake_cpu_clear_log();
	return 0;
}

/* Everything released: the counts are back where the group started. */
static int teardown(void **state)
{
	(void)state;
	handle_table_clear(&self->handles);
	kobj_unref(&self->obj);
	struct mica_mem_stats st = stats();
	assert_int_equal(st.mappings, 0);
	assert_int_equal(st.pool_mapped, 0);
	assert_int_equal(st.page_tables, base.page_tables);
	assert_int_equal(st.objects, base.objects);
	assert_int_equal(st.reserve_total - st.reserve_free,
	                 base.reserve_total - base.reserve_free);
	assert_int_equal(cur.obj.refs, 1);
	assert_int_equal(ep_obj.refs, 1);
	return 0;
}

/* ---- handles, for every memory call ---- */

/* Handle values that name no address space the caller may use. */
static const uint64_t bad_handles[] = {
    4242,                    /* never given */
    (uint64_t)(int64_t)-1,   /* MICA_HANDLE_NONE */
    (uint64_t)(int64_t)-100, /* negative */
};

/* Handle value h with bits above int32 set, way i of three: it must not be cut back to h. */
static uint64_t widened(mica_handle_t h, int i)
{
	const uint64_t v[] = {
	    (1ULL << 32) | (uint64_t)h,
	    (~0ULL << 32) | (uint64_t)h,
	    (uint64_t)INT32_MAX + 1 + (uint64_t)h,
	};
	return v[i];
}

/*
 * Call `which` (0-5) with handle h in handle position `pos`. With h_tgt,
 * made in this order from the state test_memory_calls_check_handles sets up,
 * each succeeds.
 */
static int64_t call_with(int which, int pos, uint64_t h)
{
	switch (which) {
	case 0:
		return map_(h, WA + 5 * PAGE, F(8), 1, R);
	case 1:
		return unmap_(h, VA, 1, U_IO);
	case 2:
		return pos == 0 ? grant_(h, VA + PAGE, h_self, WA, 1)
		                : grant_(h_self, WA + PAGE, h, WA + 2 * PAGE, 1);
	case 3:
		return donate_(h, F(4000), 1);
	case 4:
		return create_(h);
	default:
		return destroy_(h, U_IO, 4);
	}
}

/* Every memory call refuses forged, closed, wrong-type and wide handles, and one without MEMORY. */
static void test_memory_calls_check_handles(void **state)
{
	(void)state;
	/* What the calls below need to succeed with a good handle. */
	assert_int_equal(map_(h_tgt, VA, F(8), 2, R), MICA_OK);
	assert_int_equal(map_(h_self, WA + PAGE, F(10), 1, R), MICA_OK);
	const struct {
		int which, pos;
	} c[] = {{0, 0}, {1, 0}, {2, 0}, {2, 1}, {3, 0}, {4, 0}, {5, 0}};

	for (size_t k = 0; k < ARRAY_SIZE(c); k++) {
		for (size_t i = 0; i < ARRAY_SIZE(bad_handles); i++)
			REFUSED(MICA_EBADH, call_with(c[k].which, c[k].pos, bad_handles[i]));
		for (int i = 0; i < 3; i++)
			REFUSED(MICA_EBADH, call_with(c[k].which, c[k].pos, widened(h_tgt, i)));
		REFUSED(MICA_EBADH, call_with(c[k].which, c[k].pos, (uint64_t)h_gone));
		REFUSED(MICA_EBADH, call_with(c[k].which, c[k].pos, (uint64_t)h_thr));
		REFUSED(MICA_EBADH, call_with(c[k].which, c[k].pos, (uint64_t)h_ep));
		REFUSED(MICA_ERIGHTS, call_with(c[k].which, c[k].pos, (uint64_t)h_nomem));
	}
	/* The same arguments with the right handle go through. */
	assert_int_equal(call_with(0, 0, (uint64_t)h_tgt), MICA_OK);
	assert_int_equal(lookup(tgt, WA + 5 * PAGE, NULL), F(8));
	assert_int_equal(call_with(1, 0, (uint64_t)h_tgt), 1);
	assert_int_equal(io()[0], F(8));
	assert_int_equal(call_with(2, 0, (uint64_t)h_tgt), MICA_OK);
	assert_int_equal(lookup(self, WA, NULL), F(9));
	assert_int_equal(call_with(2, 1, (uint64_t)h_tgt), MICA_OK);
	assert_int_equal(lookup(tgt, WA + 2 * PAGE, NULL), F(10));
	assert_int_equal(call_with(3, 0, (uint64_t)h_tgt), MICA_OK);
	assert_true(call_with(4, 0, (uint64_t)h_tgt) >= 0);
	assert_int_equal(call_with(5, 0, (uint64_t)h_tgt), 2);
	assert_int_equal(io()[0], F(10));
	assert_int_equal(io()[1], F(8));
}

/* A destroyed address space: memory calls on it get MICA_EPEER. */
static void test_dead_address_space(void **state)
{
	(void)state;
	assert_int_equal(map_(h_self, VA, F(8), 1, RW), MICA_OK);
	assert_int_equal(destroy_(h_tgt, U_IO, 4), 0);
	assert_true(tgt->dead);
	REFUSED(MICA_EPEER, map_(h_tgt, WA, F(9), 1, R));
	REFUSED(MICA_EPEER, unmap_(h_tgt, WA, 1, 0));
	REFUSED(MICA_EPEER, grant_(h_self, VA, h_tgt, WA, 1));
	REFUSED(MICA_EPEER, grant_(h_tgt, WA, h_self, WA, 1));
	REFUSED(MICA_EPEER, donate_(h_tgt, F(4001), 1));
	REFUSED(MICA_EPEER, create_(h_tgt));
	/* Destroy again: nothing left to report. */
	assert_int_equal(destroy_(h_tgt, U_IO, 4), 0);
}

/* ---- map ---- */

static void test_map_maps_and_counts(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();
	unsigned f;

	assert_int_equal(map_(h_tgt, VA, F(8), 3, RW), MICA_OK);
	struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.mappings, s0.mappings + 3);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped + 3);
	assert_int_equal(s1.page_tables, s0.page_tables + 3); /* a PDPT, a PD, a PT */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lookup(tgt, VA + (uint64_t)i * PAGE, &f), F(8 + (uint64_t)i));
		assert_int_equal(f, PT_USER | PT_WRITE);
	}
	/* The same frames again, elsewhere: shared, counted per mapping. */
	assert_int_equal(map_(h_self, VA, F(8), 3, R | X), MICA_OK);
	s1 = stats();
	assert_int_equal(s1.mappings, s0.mappings + 6);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped + 3);
	assert_int_equal(lookup(self, VA + 2 * PAGE, &f), F(10));
	assert_int_equal(f, PT_USER | PT_EXEC);
	assert_int_equal(map_(h_self, WA, F(8), 1, R), MICA_OK);
	assert_int_equal(lookup(self, WA, &f), F(8));
	assert_int_equal(f, PT_USER);
}

static void test_map_page_count(void **state)
{
	(void)state;
	const uint64_t bad[] = {0, MAXP + 1, 1ULL << 32, (1ULL << 32) + 1, ~0ULL};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		REFUSED(MICA_EINVAL, map_(h_tgt, VA, F(8), bad[i], R));
	/* The most one call takes. */
	assert_int_equal(map_(h_tgt, VA, F(8), MAXP, R), MICA_OK);
	assert_int_equal(stats().mappings, 3 + MAXP);
	assert_int_equal(unmap_(h_tgt, VA, MAXP, 0), MAXP);
}

static void test_map_rights(void **state)
{
	(void)state;
	const uint64_t bad[] = {
	    0, W, X, W | X, R | 8, R | 1u << 31, R | 1ULL << 32, R | 1ULL << 63, RW | 0x10};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		REFUSED(MICA_EINVAL, map_(h_tgt, VA, F(8), 1, bad[i]));
	/* Writable and executable together. */
	REFUSED(MICA_EPERM, map_(h_tgt, VA, F(8), 1, R | W | X));
	assert_int_equal(map_(h_tgt, VA, F(8), 1, R | X), MICA_OK);
}

static void test_map_alignment(void **state)
{
	(void)state;
	REFUSED(MICA_EALIGN, map_(h_tgt, VA + 1, F(8), 1, R));
	REFUSED(MICA_EALIGN, map_(h_tgt, VA + PAGE / 2, F(8), 1, R));
	REFUSED(MICA_EALIGN, map_(h_tgt, VA + PAGE - 1, F(8), 1, R));
	REFUSED(MICA_EALIGN, map_(h_tgt, VA, F(8) + 1, 1, R));
	REFUSED(MICA_EALIGN, map_(h_tgt, VA, F(8) + PAGE / 2, 1, R));
}

/* Only the user half: not the kernel half, not non-canonical, not below MICA_USER_BASE. */
static void test_map_addresses(void **state)
{
	(void)state;
	const uint64_t bad[] = {
	    KADDR,
	    MICA_KERNEL_HALF,
	    MICA_DIRECT_MAP_BASE + F(8),
	    MICA_KERNEL_VBASE,
	    0xFFFFFFFFFFFFF000ULL,
	    NONCAN,
	    0x8000000000000000ULL,
	    0x0000FFFFFFFFF000ULL,
	    MICA_USER_TOP, /* the last page below 2^47 is not user space either */
	    0,
	    PAGE,
	    MICA_USER_BASE - PAGE,
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		REFUSED(MICA_ERANGE, map_(h_tgt, bad[i], F(8), 1, R));
		REFUSED(MICA_ERANGE, map_(h_tgt, bad[i], F(8), 2, R));
	}
	assert_int_equal(map_(h_tgt, MICA_USER_BASE, F(8), 1, R), MICA_OK);
}

/* A range that starts in the user half but runs past its top. */
static void test_map_top_of_user_half(void **state)
{
	(void)state;
	const uint64_t last = MICA_USER_TOP - PAGE;

	REFUSED(MICA_ERANGE, map_(h_tgt, last, F(8), 2, R));
	REFUSED(MICA_ERANGE, map_(h_tgt, last - PAGE, F(8), 3, R));
	REFUSED(MICA_ERANGE, map_(h_tgt, MICA_USER_TOP - 100 * PAGE, F(8), MAXP, R));
	/* Wrapping around the top of the address space. */
	REFUSED(MICA_ERANGE, map_(h_tgt, 0xFFFFFFFFFFFFF000ULL - PAGE, F(8), 4, R));
	/* The very last user pages are fine. */
	assert_int_equal(map_(h_tgt, last - PAGE, F(8), 2, R), MICA_OK);
	assert_int_equal(lookup(tgt, last, NULL), F(9));
	assert_int_equal(unmap_(h_tgt, last - PAGE, 2, 0), 2);
	REFUSED(MICA_ERANGE, unmap_(h_tgt, last, 2, 0));
}

/* Only the pool's frames: not the reserve, not low memory, not past RAM, not a run leaving it. */
static void test_map_frames_outside_pool(void **state)
{
	(void)state;
	const struct {
		uint64_t pa, n;
	} bad[] = {
	    {0, 1},
	    {0x9F000, 1},                  /* low memory */
	    {kroot, 1},                    /* the kernel's own tables */
	    {self->root, 1},               /* an address space's root */
	    {virt_to_phys(tgt), 1},        /* a kernel object */
	    {pool_lo - PAGE, 1},           /* the reserve, just below the pool */
	    {pool_lo - PAGE, 2},           /* ... running into the pool */
	    {pool_hi - PAGE, 2},           /* the last pool frame and past the end of RAM */
	    {pool_hi, 1},                  /* past the end of RAM */
	    {1ULL << 40, 1},               /* far past it */
	    {0xFFFFFFFFFFFFF000ULL, 1},    /* the last frame there could be */
	    {0xFFFFFFFFFFFFF000ULL, MAXP}, /* ... and a count that wraps */
	    {pool_hi - 10 * PAGE, MAXP},   /* a run that leaves RAM */
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		REFUSED(MICA_EFRAME, map_(h_tgt, VA, bad[i].pa, bad[i].n, R));
	assert_int_equal(map_(h_tgt, VA, pool_hi - PAGE, 1, R), MICA_OK);
	assert_int_equal(map_(h_tgt, WA, pool_lo, 1, R), MICA_OK);
}

/* Never over an existing mapping, not even in part. */
static void test_map_over_existing(void **state)
{
	(void)state;
	assert_int_equal(map_(h_tgt, VA, F(8), 2, RW), MICA_OK);
	REFUSED(MICA_EEXIST, map_(h_tgt, VA, F(8), 1, RW));
	REFUSED(MICA_EEXIST, map_(h_tgt, VA, F(20), 2, R));
	REFUSED(MICA_EEXIST, map_(h_tgt, VA - PAGE, F(20), 2, R));
	REFUSED(MICA_EEXIST, map_(h_tgt, VA + PAGE, F(20), 2, R));
	REFUSED(MICA_EEXIST, map_(h_tgt, VA - 5 * PAGE, F(20), 10, R));
	assert_int_equal(lookup(tgt, VA - PAGE, NULL), ~0ULL);
	assert_int_equal(lookup(tgt, VA + 2 * PAGE, NULL), ~0ULL);
	assert_int_equal(lookup(tgt, VA, NULL), F(8));
	/* The caller's own pages likewise. */
	REFUSED(MICA_EEXIST, map_(h_self, U_RO, F(20), 1, RW));
}

/* A frame may be mapped MICA_MAP_MAX_SHARERS times at most. */
static void test_map_max_sharers(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < MICA_MAP_MAX_SHARERS; i++)
		assert_int_equal(map_(h_tgt, VA + i * PAGE, F(30), 1, R), MICA_OK);
	REFUSED(MICA_EBUSY, map_(h_tgt, WA, F(30), 1, R));
	REFUSED(MICA_EBUSY, map_(h_tgt, WA, F(29), 2, R));
	REFUSED(MICA_EBUSY, donate_(h_tgt, F(30), 1));
	assert_int_equal(unmap_(h_tgt, VA, 1, 0), 1);
	assert_int_equal(map_(h_tgt, WA, F(30), 1, R), MICA_OK);
}

/* No frame left in the reserve for a page table: refused before anything is mapped. */
static void test_reserve_exhausted(void **state)
{
	(void)state;
	assert_int_equal(map_(h_self, VA, F(8), 1, RW), MICA_OK);
	uint64_t n_held = frame_free_count();
	paddr_t *held = malloc(n_held * sizeof(*held));
	assert_non_null(held);
	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_alloc(&held[i]), MICA_OK);

	REFUSED(MICA_ENOMEM, map_(h_tgt, VA, F(20), 1, R));
	REFUSED(MICA_ENOMEM, grant_(h_self, VA, h_tgt, WA, 1));
	REFUSED(MICA_ENOMEM, create_(h_self));
	/* One frame: the object gets it, its root does not; given back. */
	assert_int_equal(frame_free(held[--n_held], 1), MICA_OK);
	REFUSED(MICA_ENOMEM, create_(h_self));
	/* Where the tables exist, no new frame is needed. */
	assert_int_equal(map_(h_self, VA + PAGE, F(21), 1, R), MICA_OK);
	assert_int_equal(grant_(h_self, VA + PAGE, h_self, VA + 2 * PAGE, 1), MICA_OK);

	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_free(held[i], 1), MICA_OK);
	free(held);
}

/* ---- what the kernel keeps per frame: states and shared counts (pool.c) ---- */

/* Frames the kernel took for itself (page tables, objects, donated frames) are never mapped. */
static void test_map_kernel_frames(void **state)
{
	(void)state;
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, self->root, 1, R));          /* a root table */
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, kroot, 1, R));               /* the kernel's root */
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, virt_to_phys(self), 1, R));  /* an object */
	REFUSED(MICA_EFRAME, map_(h_self, VA, virt_to_phys(tgt), 1, RW)); /* another */
	assert_int_equal(donate_(h_self, F(4100), 1), MICA_OK);
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, F(4100), 1, R));
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, F(4099), 2, R));
}

/* Counts up and down: 2 mappings need no entry, 3 and more one; it goes back at 2. */
static void test_shared_counts(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();

	assert_int_equal(map_(h_self, VA, F(40), 1, R), MICA_OK);
	assert_int_equal(map_(h_tgt, VA, F(40), 1, R), MICA_OK);
	assert_int_equal(pool_shared(), 0);
	assert_int_equal(stats().frame_meta, s0.frame_meta);
	REFUSED(MICA_EBUSY, donate_(h_self, F(40), 1));
	/* A third refused by the page tables: the table made for its count goes back. */
	REFUSED(MICA_EEXIST, map_(h_tgt, VA, F(40), 1, R));
	REFUSED(MICA_EEXIST, map_(h_tgt, VA - PAGE, F(39), 2, R));
	/* The third takes an entry, in a table from the reserve (counted in frame_meta). */
	for (uint64_t i = 0; i < 3; i++)
		assert_int_equal(map_(h_tgt, WA + i * PAGE, F(40), 1, R), MICA_OK);
	struct mica_mem_stats s1 = stats();
	assert_int_equal(pool_shared(), 1);
	assert_int_equal(s1.frame_meta, s0.frame_meta + PAGE);
	assert_int_equal(s1.reserve_free + (s1.page_tables - s0.page_tables), s0.reserve_free - 1);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped + 1);
	assert_int_equal(s1.mappings, s0.mappings + 5);
	/* Down: 4, 3 keep the entry; 2 drops it and the table; 1; 0. */
	assert_int_equal(unmap_(h_tgt, WA + 2 * PAGE, 1, 0), 1);
	assert_int_equal(unmap_(h_tgt, WA + PAGE, 1, 0), 1);
	assert_int_equal(pool_shared(), 1);
	assert_int_equal(unmap_(h_tgt, WA, 1, 0), 1);
	assert_int_equal(pool_shared(), 0);
	s1 = stats();
	assert_int_equal(s1.frame_meta, s0.frame_meta);
	assert_int_equal(s1.reserve_free + (s1.page_tables - s0.page_tables), s0.reserve_free);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped + 1);
	assert_int_equal(unmap_(h_tgt, VA, 1, 0), 1);
	REFUSED(MICA_EBUSY, donate_(h_self, F(40), 1));
	assert_int_equal(unmap_(h_self, VA, 1, 0), 1);
	s1 = stats();
	assert_int_equal(s1.pool_mapped, s0.pool_mapped);
	assert_int_equal(s1.mappings, s0.mappings);
}

/* The table grows (rehashing every count) and empties back into the reserve. */
static void test_shared_counts_grow(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();
	const uint64_t a = 300, b = 100; /* 300 fit one page (384 entries), 400 do not */

	/* F(100) four times: its count (4) must survive the rehash. */
	assert_int_equal(map_(h_self, VA, F(100), a, R), MICA_OK);
	assert_int_equal(map_(h_tgt, VA, F(100), a, R), MICA_OK);
	assert_int_equal(map_(h_tgt, WA, F(100), a, R), MICA_OK);
	assert_int_equal(map_(h_tgt, WA + 2 * MICA_LARGE_PAGE_SIZE, F(100), 1, R), MICA_OK);
	assert_int_equal(pool_shared(), a);
	assert_int_equal(stats().frame_meta, s0.frame_meta + PAGE);
	assert_int_equal(map_(h_self, VA + a * PAGE, F(100 + a), b, R), MICA_OK);
	assert_int_equal(map_(h_tgt, VA + a * PAGE, F(100 + a), b, R), MICA_OK);
	assert_int_equal(map_(h_tgt, WA + a * PAGE, F(100 + a), b, R), MICA_OK);
	assert_int_equal(pool_shared(), a + b);
	assert_int_equal(stats().frame_meta, s0.frame_meta + 2 * PAGE);
	assert_int_equal(stats().mappings, s0.mappings + 3 * (a + b) + 1);
	/* F(100) still counts 4: one unmap leaves it shared 3 times, with its entry. */
	assert_int_equal(unmap_(h_tgt, WA + 2 * MICA_LARGE_PAGE_SIZE, 1, 0), 1);
	assert_int_equal(pool_shared(), a + b);
	assert_int_equal(unmap_(h_tgt, WA, a + b, 0), (int64_t)(a + b));
	assert_int_equal(pool_shared(), 0);
	assert_int_equal(stats().frame_meta, s0.frame_meta);
	assert_int_equal(unmap_(h_tgt, VA, a + b, 0), (int64_t)(a + b));
	assert_int_equal(unmap_(h_self, VA, a + b, 0), (int64_t)(a + b));
	const struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.reserve_free, s0.reserve_free);
	assert_int_equal(s1.mappings, s0.mappings);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped);
}

/* No reserve frame for the table: the third mapping is refused, nothing changes. */
static void test_shared_counts_no_reserve(void **state)
{
	(void)state;
	assert_int_equal(map_(h_self, VA, F(40), 1, R), MICA_OK);
	assert_int_equal(map_(h_tgt, VA, F(40), 1, R), MICA_OK);
	assert_int_equal(map_(h_tgt, VA + PAGE, F(41), 1, R), MICA_OK); /* the table is there */
	uint64_t n_held = frame_free_count();
	paddr_t *held = malloc(n_held * sizeof(*held));
	assert_non_null(held);
	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_alloc(&held[i]), MICA_OK);
	REFUSED(MICA_ENOMEM, map_(h_tgt, VA + 2 * PAGE, F(40), 1, R));
	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_free(held[i], 1), MICA_OK);
	free(held);
	assert_int_equal(map_(h_tgt, VA + 2 * PAGE, F(40), 1, R), MICA_OK);
	assert_int_equal(pool_shared(), 1);
}

/* ---- 2 MiB pages (MICA_MAP_LARGE) ---- */

#define LG  MICA_MAP_LARGE
#define LP  MICA_MAP_LARGE_PAGES
#define LSZ MICA_LARGE_PAGE_SIZE

static void test_map_large(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();
	const paddr_t pa = pool_hi - 2 * LSZ;
	unsigned f = 0;

	assert_int_equal(map_(h_self, VA, pa, 2 * LP, RW | LG), MICA_OK);
	assert_int_equal(lookup(self, VA + 5 * PAGE, &f), pa + 5 * PAGE);
	assert_true(f & PT_LARGE);
	assert_true(f & PT_WRITE);
	assert_int_equal(lookup(self, VA + LSZ + 7 * PAGE, &f), pa + LSZ + 7 * PAGE);
	assert_true(f & PT_LARGE);
	struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.pool_mapped, s0.pool_mapped + 2 * LP);
	assert_int_equal(s1.mappings, s0.mappings + 2 * LP);
	assert_int_equal(s1.page_tables, s0.page_tables + 1); /* one directory, no page table */
	/* Shared with a 4 KiB mapping elsewhere: counted exactly. */
	assert_int_equal(map_(h_tgt, WA, pa + 3 * PAGE, 1, R), MICA_OK);
	assert_int_equal(stats().pool_mapped, s0.pool_mapped + 2 * LP);
	/* Only whole: not a page of it, not a range cutting one. */
	REFUSED(MICA_EBUSY, unmap_(h_self, VA, 1, 0));
	REFUSED(MICA_EBUSY, unmap_(h_self, VA + PAGE, LP, 0));
	REFUSED(MICA_EBUSY, unmap_(h_self, VA, LP + 1, 0));
	REFUSED(MICA_EBUSY, grant_(h_self, VA, h_tgt, WA + LSZ, 1));
	REFUSED(MICA_EBUSY, donate_(h_self, pa + 16 * PAGE, 16));
	/* Unmapped whole, each frame reported. */
	assert_int_equal(unmap_(h_self, VA, LP, U_IO), LP);
	assert_int_equal(io()[0], pa);
	assert_int_equal(io()[LP - 1], pa + (LP - 1) * PAGE);
	assert_int_equal(lookup(self, VA, NULL), ~0ULL);
	assert_int_equal(unmap_(h_self, VA + LSZ, LP, 0), LP);
	assert_int_equal(unmap_(h_tgt, WA, 1, 0), 1);
	s1 = stats();
	assert_int_equal(s1.pool_mapped, s0.pool_mapped);
	assert_int_equal(s1.mappings, s0.mappings);
	assert_int_equal(s1.page_tables, s0.page_tables);
}

static void test_map_large_checks(void **state)
{
	(void)state;
	const paddr_t pa = pool_hi - LSZ;

	/* 2 MiB-aligned virtual and physical addresses. */
	REFUSED(MICA_EALIGN, map_(h_self, VA + PAGE, pa, LP, RW | LG));
	REFUSED(MICA_EALIGN, map_(h_self, VA + LSZ / 2, pa, LP, RW | LG));
	REFUSED(MICA_EALIGN, map_(h_self, VA, pa - PAGE, LP, RW | LG));
	/* Whole 2 MiB pages, in the caller's own address space. */
	REFUSED(MICA_EINVAL, map_(h_self, VA, pa, LP - 1, RW | LG));
	REFUSED(MICA_EINVAL, map_(h_self, VA, pa - LSZ, LP + 1, RW | LG));
	REFUSED(MICA_EINVAL, map_(h_tgt, VA, pa, LP, RW | LG));
	/* Rights as for 4 KiB pages. */
	REFUSED(MICA_EPERM, map_(h_self, VA, pa, LP, RW | X | LG));
	REFUSED(MICA_EINVAL, map_(h_self, VA, pa, LP, W | LG));
	/* Every frame the pool's: not the 2 MiB holding the reserve's top, not past RAM. */
	REFUSED(MICA_EFRAME, map_(h_self, VA, ALIGN_DOWN(pool_lo - PAGE, LSZ), LP, RW | LG));
	REFUSED(MICA_EFRAME, map_(h_self, VA, pool_hi, LP, RW | LG));
	/* One frame given to the kernel spoils its 2 MiB. */
	assert_int_equal(donate_(h_self, pool_hi - 3 * LSZ + 7 * PAGE, 1), MICA_OK);
	REFUSED(MICA_EFRAME, map_(h_self, VA, pool_hi - 3 * LSZ, LP, RW | LG));
	/* Over a mapping: a 4 KiB page inside, or the same 2 MiB twice. */
	assert_int_equal(map_(h_self, VA + 9 * PAGE, F(8), 1, R), MICA_OK);
	REFUSED(MICA_EEXIST, map_(h_self, VA, pa, LP, RW | LG));
	assert_int_equal(unmap_(h_self, VA + 9 * PAGE, 1, 0), 1);
	assert_int_equal(map_(h_self, VA, pa, LP, R | LG), MICA_OK);
	REFUSED(MICA_EEXIST, map_(h_self, VA, pa, LP, R | LG));
	REFUSED(MICA_EEXIST, map_(h_self, VA + 5 * PAGE, F(8), 1, R));
	/* The same frames again elsewhere: shared, as 4 KiB frames are. */
	assert_int_equal(map_(h_self, VA + LSZ, pa, LP, R | LG), MICA_OK);
	assert_int_equal(unmap_(h_self, VA + LSZ, LP, 0), LP);
	assert_int_equal(unmap_(h_self, VA, LP, 0), LP);
}

/* Destroy takes a 2 MiB page whole: refused while cap is smaller, reported when it fits. */
static void test_aspace_destroy_large(void **state)
{
	(void)state;
	const paddr_t pa = pool_hi - LSZ;

	/* Only its owner maps one (the call refuses others): as the owner would. */
	assert_int_equal(pt_map(tgt->root, VA, pa, LP, PT_USER | PT_WRITE | PT_LARGE), MICA_OK);
	pool_ref(pa, LP);
	assert_int_equal(map_(h_tgt, VA - PAGE, F(8), 1, R), MICA_OK);
	assert_int_equal(destroy_(h_tgt, U_IO, 16), 1);
	assert_int_equal(io()[0], F(8));
	assert_int_equal(destroy_(h_tgt, U_IO, 16), MICA_EBUSY);
	assert_int_equal(destroy_(h_tgt, U_IO, MAXP), LP);
	assert_int_equal(io()[0], pa);
	assert_int_equal(io()[LP - 1], pa + (LP - 1) * PAGE);
	assert_int_equal(destroy_(h_tgt, U_IO, MAXP), 0);
	assert_int_equal(stats().mappings, 3);
}

/* ---- unmap ---- */

static void test_unmap_unmaps_and_reports(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();

	assert_int_equal(map_(h_tgt, VA, F(8), 3, RW), MICA_OK);
	assert_int_equal(unmap_(h_tgt, VA, 3, U_IO + 8), 3);
	assert_int_equal(io()[0], 0xABABABABABABABABULL); /* only where asked */
	for (int i = 0; i < 3; i++)
		assert_int_equal(io()[1 + i], F(8 + (uint64_t)i));
	assert_int_equal(lookup(tgt, VA, NULL), ~0ULL);
	const struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.mappings, s0.mappings);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped);
	assert_int_equal(s1.page_tables, s0.page_tables);
	/* Without a report. */
	assert_int_equal(map_(h_tgt, VA, F(8), 1, RW), MICA_OK);
	assert_int_equal(unmap_(h_tgt, VA, 1, 0), 1);
}

static void test_unmap_checks(void **state)
{
	(void)state;
	assert_int_equal(map_(h_tgt, VA, F(8), 2, RW), MICA_OK);
	/* Counts. */
	REFUSED(MICA_EINVAL, unmap_(h_tgt, VA, 0, U_IO));
	REFUSED(MICA_EINVAL, unmap_(h_tgt, VA, MAXP + 1, 0));
	REFUSED(MICA_EINVAL, unmap_(h_tgt, VA, (1ULL << 32) + 1, 0));
	/* Addresses. */
	REFUSED(MICA_EALIGN, unmap_(h_tgt, VA + 8, 1, U_IO));
	REFUSED(MICA_ERANGE, unmap_(h_tgt, KADDR, 1, U_IO));
	REFUSED(MICA_ERANGE, unmap_(h_tgt, NONCAN, 1, U_IO));
	REFUSED(MICA_ERANGE, unmap_(h_tgt, 0, 1, U_IO));
	REFUSED(MICA_ERANGE, unmap_(h_tgt, MICA_USER_BASE - PAGE, 2, U_IO));
	REFUSED(MICA_ERANGE, unmap_(h_tgt, MICA_USER_TOP - PAGE, MAXP, 0));
	/* Every page must be mapped: nothing is unmapped if one is not. */
	REFUSED(MICA_ENOENT, unmap_(h_tgt, VA, 3, U_IO));
	REFUSED(MICA_ENOENT, unmap_(h_tgt, VA - PAGE, 2, U_IO));
	REFUSED(MICA_ENOENT, unmap_(h_tgt, WA, 1, 0));
	/* The report must be writable, all of it. */
	REFUSED(MICA_EFAULT, unmap_(h_tgt, VA, 1, U_RO));
	REFUSED(MICA_EFAULT, unmap_(h_tgt, VA, 1, U_NONE));
	REFUSED(MICA_EFAULT, unmap_(h_tgt, VA, 1, KADDR));
	REFUSED(MICA_EFAULT, unmap_(h_tgt, VA, 1, 8));
	REFUSED(MICA_EFAULT, unmap_(h_tgt, VA, 2, U_RO - 8));
	assert_int_equal(unmap_(h_tgt, VA, 1, U_RO - 8), 1);
	assert_int_equal(io()[PAGE / 4 - 1], F(8));
}

/* The report may not lie in the pages being unmapped (it would vanish with them). */
static void test_unmap_report_inside_range(void **state)
{
	(void)state;
	assert_int_equal(map_(h_self, VA - PAGE, F(8), 4, RW), MICA_OK);
	REFUSED(MICA_EINVAL, unmap_(h_self, VA, 1, VA));
	REFUSED(MICA_EINVAL, unmap_(h_self, VA, 1, VA + PAGE - 8));
	REFUSED(MICA_EINVAL, unmap_(h_self, VA, 2, VA - 8)); /* its second word */
	REFUSED(MICA_EINVAL, unmap_(h_self, VA, 2, VA + PAGE));
	/* Just beside the range is fine. */
	assert_int_equal(unmap_(h_self, VA, 1, VA - 8), 1);
	assert_int_equal(*(uint64_t *)((uint8_t *)phys_to_virt(F(8)) + PAGE - 8), F(9));
	assert_int_equal(unmap_(h_self, VA + PAGE, 1, VA + 2 * PAGE), 1);
	assert_int_equal(*(uint64_t *)phys_to_virt(F(11)), F(10));
}

/* ---- grant ---- */

static void test_grant_moves_mappings(void **state)
{
	(void)state;
	unsigned f;

	assert_int_equal(map_(h_self, VA, F(8), 2, RW), MICA_OK);
	assert_int_equal(map_(h_self, VA + 2 * PAGE, F(10), 1, R | X), MICA_OK);
	const struct mica_mem_stats s0 = stats();
	assert_int_equal(grant_(h_self, VA, h_tgt, WA, 3), MICA_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lookup(self, VA + (uint64_t)i * PAGE, NULL), ~0ULL);
		assert_int_equal(lookup(tgt, WA + (uint64_t)i * PAGE, &f), F(8 + (uint64_t)i));
		assert_int_equal(f, i < 2 ? (PT_USER | PT_WRITE) : (PT_USER | PT_EXEC));
	}
	const struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.mappings, s0.mappings);
	assert_int_equal(s1.pool_mapped, s0.pool_mapped);
}

static void test_grant_checks(void **state)
{
	(void)state;
	assert_int_equal(map_(h_self, VA, F(8), 2, RW), MICA_OK);
	assert_int_equal(map_(h_tgt, WA + PAGE, F(20), 1, R), MICA_OK);
	/* Counts. */
	REFUSED(MICA_EINVAL, grant_(h_self, VA, h_tgt, VA, 0));
	REFUSED(MICA_EINVAL, grant_(h_self, VA, h_tgt, VA, MAXP + 1));
	REFUSED(MICA_EINVAL, grant_(h_self, VA, h_tgt, VA, (1ULL << 32) + 1));
	/* Source addresses. */
	REFUSED(MICA_EALIGN, grant_(h_self, VA + 8, h_tgt, VA, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, KADDR, h_tgt, VA, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, NONCAN, h_tgt, VA, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, 0, h_tgt, VA, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, MICA_USER_TOP - PAGE, h_tgt, VA, 2));
	/* Destination addresses. */
	REFUSED(MICA_EALIGN, grant_(h_self, VA, h_tgt, VA + 8, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, VA, h_tgt, KADDR, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, VA, h_tgt, MICA_KERNEL_VBASE, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, VA, h_tgt, NONCAN, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, VA, h_tgt, 0, 1));
	REFUSED(MICA_ERANGE, grant_(h_self, VA, h_tgt, MICA_USER_TOP - PAGE, 2));
	/* Every source page mapped, every destination page free. */
	REFUSED(MICA_ENOENT, grant_(h_self, VA, h_tgt, VA, 3));
	REFUSED(MICA_ENOENT, grant_(h_self, VA - PAGE, h_tgt, VA, 2));
	REFUSED(MICA_EEXIST, grant_(h_self, VA, h_tgt, WA + PAGE, 1));
	REFUSED(MICA_EEXIST, grant_(h_self, VA, h_tgt, WA, 2));
	REFUSED(MICA_EEXIST, grant_(h_self, VA, h_self, VA, 2));
	REFUSED(MICA_EEXIST, grant_(h_self, VA, h_self, VA + PAGE, 2));
	/* And then it works. */
	assert_int_equal(grant_(h_self, VA, h_tgt, WA - PAGE, 2), MICA_OK);
	assert_int_equal(lookup(tgt, WA, NULL), F(9));
}

/* ---- donate ---- */

static void test_donate_gives_frames_to_the_reserve(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();

	assert_int_equal(donate_(h_self, F(5000), 4), MICA_OK);
	const struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.pool_total, s0.pool_total - 4);
	assert_int_equal(s1.reserve_total, s0.reserve_total + 4);
	assert_int_equal(s1.reserve_free, s0.reserve_free + 4);
	/* No longer the pool's: neither mapped nor donated again. */
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, F(5000), 1, R));
	REFUSED(MICA_EFRAME, map_(h_tgt, VA, F(4999), 2, R));
	REFUSED(MICA_EFRAME, donate_(h_self, F(5003), 1));
	REFUSED(MICA_EFRAME, donate_(h_self, F(4990), MAXP));
}

static void test_donate_checks(void **state)
{
	(void)state;
	assert_int_equal(map_(h_tgt, VA, F(6010), 1, R), MICA_OK);
	REFUSED(MICA_EINVAL, donate_(h_self, F(6000), 0));
	REFUSED(MICA_EINVAL, donate_(h_self, F(6000), MAXP + 1));
	REFUSED(MICA_EINVAL, donate_(h_self, F(6000), (1ULL << 32) + 1));
	REFUSED(MICA_EALIGN, donate_(h_self, F(6000) + 8, 1));
	REFUSED(MICA_EFRAME, donate_(h_self, kroot, 1));
	REFUSED(MICA_EFRAME, donate_(h_self, 0, 1));
	REFUSED(MICA_EFRAME, donate_(h_self, pool_lo - PAGE, 2));
	REFUSED(MICA_EFRAME, donate_(h_self, pool_hi - PAGE, 2));
	REFUSED(MICA_EFRAME, donate_(h_self, pool_hi, 1));
	REFUSED(MICA_EFRAME, donate_(h_self, 0xFFFFFFFFFFFFF000ULL, MAXP));
	/* Still mapped, alone or at the end of a run: nothing donated. */
	REFUSED(MICA_EBUSY, donate_(h_self, F(6010), 1));
	REFUSED(MICA_EBUSY, donate_(h_self, F(6000), 11));
	REFUSED(MICA_EBUSY, donate_(h_self, F(0), 1)); /* the caller's own page */
	assert_int_equal(donate_(h_self, F(6000), 10), MICA_OK);
}

/* ---- address spaces ---- */

static void test_aspace_create(void **state)
{
	(void)state;
	const struct mica_mem_stats s0 = stats();
	const int64_t h = create_(h_self);

	assert_true(h >= 0);
	const struct handle *slot = &self->handles.slot[h];
	assert_int_equal(slot->obj->type, MICA_OBJ_ASPACE);
	assert_int_equal(slot->rights, MEM | MICA_RIGHT_MANAGE | MICA_RIGHT_COPY);
	assert_int_equal(slot->badge, 0);
	assert_int_equal(slot->obj->refs, 1);
	const struct mica_mem_stats s1 = stats();
	assert_int_equal(s1.objects, s0.objects + 1);
	assert_int_equal(s1.page_tables, s0.page_tables + 1);
	/* Made by a handle to another address space with MEMORY: fine too. */
	assert_true(create_(h_tgt) >= 0);
	/* The new one is empty and usable. */
	assert_int_equal(map_((uint64_t)h, VA, F(8), 1, R), MICA_OK);
}

/*
 * The fixed slots full: the table grows by a reserve page (and its
 * directory) for the new handle, or, with no frame for them, the create is
 * refused and nothing changes; closing the handle gives every frame back.
 */
static void test_aspace_create_table_full(void **state)
{
	(void)state;
	mica_handle_t h;

	while (self->handles.count < self->handles.cap)
		assert_int_equal(handle_copy(&self->handles, h_ep, &self->handles, ~0u, &h),
		                 MICA_OK);
	uint32_t full = self->handles.cap;
	uint64_t n_held = frame_free_count();
	paddr_t *held = malloc(n_held * sizeof(*held));
	assert_non_null(held);
	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_alloc(&held[i]), MICA_OK);
	REFUSED(MICA_ENOMEM, create_(h_self));
	for (uint64_t i = 0; i < n_held; i++)
		assert_int_equal(frame_free(held[i], 1), MICA_OK);
	free(held);

	uint64_t before = frame_free_count();
	int64_t r = create_(h_self);
	assert_int_equal(r,
	                 (int64_t)full); /* the lowest free value: the first past the fixed slots */
	assert_int_equal(self->handles.frames, 2);
	assert_int_equal(handle_close(&self->handles, (mica_handle_t)r), MICA_OK);
	assert_int_equal(self->handles.frames, 0);
	assert_int_equal(frame_free_count(), before);
}

static void test_aspace_destroy_reports_in_steps(void **state)
{
	(void)state;
	assert_int_equal(map_(h_tgt, VA, F(8), 3, RW), MICA_OK);
	assert_int_equal(map_(h_tgt, WA, F(20), 2, R), MICA_OK);
	(void)give(tgt, &ep_obj, MICA_RIGHT_SEND);
	assert_int_equal(ep_obj.refs, 3);

	assert_int_equal(destroy_(h_tgt, U_IO, 2), 2);
	assert_true(tgt->dead);
	assert_int_equal(tgt->handles.count, 0);
	assert_int_equal(ep_obj.refs, 2);
	assert_int_equal(io()[0], F(8));
	assert_int_equal(io()[1], F(9));
	assert_int_equal(destroy_(h_tgt, U_IO, 2), 2);
	assert_int_equal(io()[0], F(10));
	assert_int_equal(io()[1], F(20));
	assert_int_equal(destroy_(h_tgt, U_IO + 8, 16), 1);
	assert_int_equal(io()[1], F(21));
	assert_int_equal(destroy_(h_tgt, U_IO, 1), 0);
	assert_int_equal(stats().mappings, 3);
}

static void test_aspace_destroy_checks(void **state)
{
	(void)state;
	assert_int_equal(map_(h_tgt, VA, F(8), 2, RW), MICA_OK);
	(void)give(tgt, &ep_obj, MICA_RIGHT_SEND);
	/* The step size. */
	REFUSED(MICA_EINVAL, destroy_(h_tgt, U_IO, 0));
	REFUSED(MICA_EINVAL, destroy_(h_tgt, U_IO, MAXP + 1));
	REFUSED(MICA_EINVAL, destroy_(h_tgt, U_IO, (1ULL << 32) + 1));
	/* Not the caller's own. */
	REFUSED(MICA_EINVAL, destroy_(h_self, U_IO, 4));
	/* The report: present and writable for cap frames. */
	REFUSED(MICA_EFAULT, destroy_(h_tgt, 0, 4));
	REFUSED(MICA_EFAULT, destroy_(h_tgt, U_RO, 4));
	REFUSED(MICA_EFAULT, destroy_(h_tgt, U_NONE, 4));
	REFUSED(MICA_EFAULT, destroy_(h_tgt, KADDR, 4));
	REFUSED(MICA_EFAULT, destroy_(h_tgt, U_RO - 8, 2));
	REFUSED(MICA_EFAULT, destroy_(h_tgt, U_IO + 8, MAXP)); /* into the read-only page */
	assert_false(tgt->dead);
	assert_int_equal(tgt->handles.count, 1);
	/* The full MAXP frames fit in the two writable pages exactly. */
	assert_int_equal(destroy_(h_tgt, U_IO, MAXP), 2);
}

/* ---- mem_stats ---- */

static void test_mem_stats(void **state)
{
	(void)state;
	assert_int_equal(stats_(U_IO + 16), MICA_OK);
	struct mica_mem_stats got, want = stats();
	memcpy(&got, (uint8_t *)io() + 16, sizeof(got));
	assert_memory_equal(&got, &want, sizeof(want));
	assert_int_equal(got.mappings, 3);
	assert_int_equal(got.pool_mapped, 3);
	assert_int_equal(got.objects, base.objects + 2);
	assert_int_equal(got.pool_total + got.reserve_total, base.pool_total + base.reserve_total);
	assert_int_equal(io()[0], 0xABABABABABABABABULL);

	REFUSED(MICA_EFAULT, stats_(0));
	REFUSED(MICA_EFAULT, stats_(U_RO));
	REFUSED(MICA_EFAULT, stats_(U_NONE));
	REFUSED(MICA_EFAULT, stats_(KADDR));
	REFUSED(MICA_EFAULT, stats_(NONCAN - 8));
}

/*
 * A buffer whose first bytes are writable and the rest not: refused, and
 * (the rule every handler keeps) nothing written: usercopy_to checks a
 * range that crosses a page boundary whole before it writes.
 */
static void test_mem_stats_refusal_writes_nothing(void **state)
{
	(void)state;
	snap_take();
	assert_int_equal(stats_(U_RO - 8), MICA_EFAULT);
	snap_fill(&after);
	assert_memory_equal(&after.st, &before.st, sizeof(before.st));
	assert_memory_equal(after.report, before.report, sizeof(before.report));
	snap_expect_same();
}

/* ---- generic checks of syscall.c ---- */

/* Numbers past the table, however large, are MICA_ENOSYS and run nothing. */
static void test_unknown_numbers(void **state)
{
	(void)state;
	const uint64_t bad[] = {MICA_SYS_COUNT,
	                        MICA_SYS_COUNT + 1,
	                        255,
	                        (1ULL << 32) | MICA_SYS_MAP, /* must not be cut to map */
	                        (1ULL << 63) | MICA_SYS_MAP,
	                        ~0ULL,
	                        (uint64_t)(int64_t)-MICA_SYS_MAP};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		REFUSED(MICA_ENOSYS, sys6(bad[i], h_tgt, VA, F(8), 1, R, 0));
	/* The same arguments as map do map. */
	assert_int_equal(sys6(MICA_SYS_MAP, h_tgt, VA, F(8), 1, R, 0), MICA_OK);
}

/* A handle argument outside int32 names nothing, even if its low half is a handle. */
static void test_handle_values_outside_int32(void **state)
{
	(void)state;
	const uint32_t count = self->handles.count;

	for (int i = 0; i < 3; i++) {
		REFUSED(MICA_EBADH, sys6(MICA_SYS_HANDLE_CLOSE, widened(h_ep, i), 0, 0, 0, 0, 0));
		REFUSED(MICA_EBADH,
		        sys6(MICA_SYS_HANDLE_MINT, widened(h_ep, i), MICA_RIGHTS_ALL, 0, 0, 0, 0));
	}
	REFUSED(MICA_EBADH, sys6(MICA_SYS_HANDLE_CLOSE, (uint64_t)INT32_MAX, 0, 0, 0, 0, 0));
	REFUSED(MICA_EBADH,
	        sys6(MICA_SYS_HANDLE_CLOSE, (uint64_t)(int64_t)INT32_MIN, 0, 0, 0, 0, 0));
	assert_int_equal(self->handles.count, count);
	assert_int_equal(sys6(MICA_SYS_HANDLE_CLOSE, (uint64_t)h_ep, 0, 0, 0, 0, 0), MICA_OK);
	assert_int_equal(self->handles.count, count - 1);
}

/*
 * The copy routine walks the page tables itself (usercopy.c walk, pt_translate
 * unrolled): it finds the same bytes and refuses the same accesses, for
 * 4 KiB pages and a 2 MiB one.
 */
static void test_usercopy_walk(void **state)
{
	const vaddr_t big = 0x40000000ULL;
	const uint64_t large = MICA_LARGE_PAGE_SIZE;
	paddr_t pa = (pool_hi - 4 * MiB) & ~(large - 1);
	const size_t offs[] = {0, 0x1234, large - 64};
	uint8_t buf[64], want[64];

	(void)state;
	assert_int_equal(pt_map(self->root, big, pa, large / PAGE, PT_USER | PT_LARGE), MICA_OK);
	assert_int_equal(lookup(self, big + 0x1234, NULL), pa + 0x1234);
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		for (size_t j = 0; j < sizeof(want); j++)
			want[j] = (uint8_t)(i * 31 + j);
		memcpy((uint8_t *)phys_to_virt(pa) + offs[i], want, sizeof(want));
		memset(buf, 0, sizeof(buf));
		assert_int_equal(usercopy_from_root(self->root, buf, big + offs[i], sizeof(buf)),
		                 MICA_OK);
		assert_memory_equal(buf, want, sizeof(buf));
	}
	/* Read-only: no write, not even a check for one. */
	assert_int_equal(usercopy_to_root(self->root, big + 8, buf, 8), MICA_EFAULT);
	assert_int_equal(usercopy_check(self->root, big, 64, true), MICA_EFAULT);
	/* The 4 KiB pages of setup: U_IO writable, U_RO readable only, U_NONE unmapped. */
	assert_int_equal(usercopy_to_root(self->root, U_IO + 100, "xyz", 3), MICA_OK);
	assert_memory_equal((uint8_t *)phys_to_virt(F(0)) + 100, "xyz", 3);
	assert_int_equal(usercopy_from_root(self->root, buf, U_RO, 8), MICA_OK);
	assert_int_equal(usercopy_to_root(self->root, U_RO, buf, 1), MICA_EFAULT);
	assert_int_equal(usercopy_from_root(self->root, buf, U_NONE, 1), MICA_EFAULT);
	/* Past the large page, and after it is gone: nothing there. */
	assert_int_equal(usercopy_from_root(self->root, buf, big + large, 8), MICA_EFAULT);
	assert_int_equal(pt_unmap(self->root, big, large / PAGE, NULL, NULL), MICA_OK);
	assert_int_equal(usercopy_from_root(self->root, buf, big, 8), MICA_EFAULT);
}

/* debug_write: a bounded length, every byte readable. */
static void test_debug_write(void **state)
{
	(void)state;
	memcpy(io(), "hello", 5);
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_IO, 5, 0, 0, 0, 0), 5);
	assert_int_equal(serial_len, 5);
	assert_memory_equal(serial_out, "hello", 5);
	serial_len = 0;
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_IO, MICA_DEBUG_WRITE_MAX + 1, 0, 0, 0, 0),
	                 MICA_EINVAL);
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_IO, 1ULL << 32, 0, 0, 0, 0), MICA_EINVAL);
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_NONE, 1, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, KADDR, 1, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(serial_len, 0);
	/* A read-only buffer is readable; one running into an unmapped page is not. */
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_RO, 16, 0, 0, 0, 0), 16);
	serial_len = 0;
	assert_int_equal(sys6(MICA_SYS_DEBUG_WRITE, U_NONE - 300, 316, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(serial_len, 0); /* refused before a byte went out */
}

/* entry.asm calls syscall_table[nr] for every nr below MICA_SYS_COUNT without a NULL test. */
static void test_table_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < MICA_SYS_COUNT; i++)
		assert_non_null(syscall_table[i]);
}

/*
 * ipc_buffer_set (ipcbuf.c) over the real page tables: a whole user page
 * mapped writable, or refused with nothing changed; the kernel's view of
 * the page is found again after an unmap (pt_generation), so a page that
 * went, or came back read-only, is never written, and a new frame there
 * is the buffer from then on.
 */
static void test_ipc_buffer_set(void **state)
{
	struct usercopy_cache uc;

	(void)state;
	usercopy_cache_init(&uc);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, U_IO + 8, 0, 0, 0, 0, 0), MICA_EALIGN);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, 0x1000, 0, 0, 0, 0, 0), MICA_ERANGE);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, KADDR, 0, 0, 0, 0, 0), MICA_ERANGE);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, NONCAN, 0, 0, 0, 0, 0), MICA_ERANGE);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, U_RO, 0, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, U_NONE, 0, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(cur.ipcbuf, 0);
	assert_null(ipcbuf_get(&cur, &uc));

	/* A page of its own: registered, `self` written, the FS base set. */
	assert_int_equal(map_(h_self, VA, F(10), 1, RW), MICA_OK);
	fs_base = 0;
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, VA, 0, 0, 0, 0, 0), MICA_OK);
	assert_int_equal(cur.ipcbuf, VA);
	assert_int_equal(fs_base, VA);
	assert_int_equal(*(uint64_t *)phys_to_virt(F(10)), VA);
	assert_ptr_equal(ipcbuf_get(&cur, &uc), phys_to_virt(F(10)));
	assert_ptr_equal(ipcbuf_kept(&cur), phys_to_virt(F(10)));
	/* A refusal keeps it. */
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, U_RO, 0, 0, 0, 0, 0), MICA_EFAULT);
	assert_int_equal(cur.ipcbuf, VA);
	assert_int_equal(fs_base, VA);

	/* Unmapped: not reached any more (the kept view is stale at once). */
	assert_int_equal(unmap_(h_self, VA, 1, 0), 1);
	assert_null(ipcbuf_kept(&cur));
	usercopy_cache_sync(&uc);
	assert_null(ipcbuf_get(&cur, &uc));
	/* Read-only there now: not a buffer the kernel may write. */
	assert_int_equal(map_(h_self, VA, F(11), 1, R), MICA_OK);
	assert_null(ipcbuf_get(&cur, &uc));
	assert_int_equal(unmap_(h_self, VA, 1, 0), 1);
	/* Another frame, writable: that is the buffer now. */
	assert_int_equal(map_(h_self, VA, F(12), 1, RW), MICA_OK);
	usercopy_cache_sync(&uc);
	assert_ptr_equal(ipcbuf_get(&cur, &uc), phys_to_virt(F(12)));

	/* 0: none; the base back to 0. */
	assert_int_equal(sys6(MICA_SYS_IPC_BUFFER_SET, 0, 0, 0, 0, 0, 0), MICA_OK);
	assert_int_equal(cur.ipcbuf, 0);
	assert_int_equal(fs_base, 0);
	assert_null(ipcbuf_get(&cur, &uc));
	assert_null(ipcbuf_kept(&cur));
	assert_int_equal(unmap_(h_self, VA, 1, 0), 1);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_table_full),
	    T(test_memory_calls_check_handles),
	    T(test_dead_address_space),
	    T(test_map_maps_and_counts),
	    T(test_map_page_count),
	    T(test_map_rights),
	    T(test_map_alignment),
	    T(test_map_addresses),
	    T(test_map_top_of_user_half),
	    T(test_map_frames_outside_pool),
	    T(test_map_over_existing),
	    T(test_map_max_sharers),
	    T(test_reserve_exhausted),
	    T(test_map_kernel_frames),
	    T(test_shared_counts),
	    T(test_shared_counts_grow),
	    T(test_shared_counts_no_reserve),
	    T(test_map_large),
	    T(test_map_large_checks),
	    T(test_aspace_destroy_large),
	    T(test_unmap_unmaps_and_reports),
	    T(test_unmap_checks),
	    T(test_unmap_report_inside_range),
	    T(test_grant_moves_mappings),
	    T(test_grant_checks),
	    T(test_donate_gives_frames_to_the_reserve),
	    T(test_donate_checks),
	    T(test_aspace_create),
	    T(test_aspace_create_table_full),
	    T(test_aspace_destroy_reports_in_steps),
	    T(test_aspace_destroy_checks),
	    T(test_mem_stats),
	    T(test_mem_stats_refusal_writes_nothing),
	    T(test_unknown_numbers),
	    T(test_handle_values_outside_int32),
	    T(test_debug_write),
	    T(test_ipc_buffer_set),
	    T(test_usercopy_walk),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
