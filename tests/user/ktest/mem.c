/*
 * The kernel's memory interface: the boot info, map, unmap, grant,
 * address-space create and destroy, donate, the reserve running out, and
 * the statistics, each call's success and every documented error. Each
 * test checks that the kernel's counts are back where they started.
 */
#include "ktest.h"
#include "remote.h"

#define VA  0x10000000UL /* free in ktest's address space */
#define VA2 0x10100000UL
#define FAR 0x10000000000UL /* 1 TiB: far from everything, for the reserve test */

static int stats_equal(const struct mica_mem_stats *a, const struct mica_mem_stats *b)
{
	return a->reserve_total == b->reserve_total && a->reserve_free == b->reserve_free &&
	       a->pool_total == b->pool_total && a->pool_mapped == b->pool_mapped &&
	       a->mappings == b->mappings && a->page_tables == b->page_tables &&
	       a->objects == b->objects && a->frame_meta == b->frame_meta;
}

static struct mica_mem_stats stats(void)
{
	struct mica_mem_stats st = {0};

	mica_mem_stats(&st);
	return st;
}

static int streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void test_bootinfo(void)
{
	const struct mica_bootinfo *bi = bootinfo;
	struct mica_mem_stats st = stats();
	uint64_t sum = 0;

	if (bi->magic != MICA_BOOTINFO_MAGIC || bi->version != MICA_BOOTINFO_VERSION ||
	    bi->size != sizeof(*bi))
		return result("mem.bootinfo", "bad header, version", bi->version);
	if (bi->nmodules < 1 || !streq(bi->module[0].name, "ktest.elf") ||
	    !(bi->module[0].flags & MICA_MODULE_IN_POOL))
		return result("mem.bootinfo", "module list wrong, count", bi->nmodules);
	for (uint32_t i = 0; i < bi->nranges; i++) {
		if (bi->range[i].start % MICA_PAGE_SIZE || !bi->range[i].npages ||
		    (i && bi->range[i].start <= bi->range[i - 1].start))
			return result("mem.bootinfo", "bad range", i);
		sum += bi->range[i].npages;
	}
	if (!bi->nranges || sum != bi->pool_free || bi->pool_free >= bi->pool_total)
		return result("mem.bootinfo", "range sum wrong", (long)sum);
	if (st.pool_total != bi->pool_total || st.reserve_free == 0)
		return result("mem.bootinfo", "stats disagree: pool", (long)st.pool_total);
	/* The per-frame metadata: some, and held in the kernel's reserve (any layout). */
	if (st.frame_meta == 0 || st.frame_meta > st.reserve_total * MICA_PAGE_SIZE)
		return result("mem.bootinfo", "frame_meta implausible", (long)st.frame_meta);
	/* Frame 0 (low memory) is not the pool's. */
	long r = mica_map(self_as, VA, 0, 1, MICA_MAP_READ);
	if (r != MICA_EFRAME)
		return result("mem.bootinfo", "frame 0 gave", r);
	result("mem.bootinfo", 0, 0);
}

static void test_map_unmap(void)
{
	struct mica_mem_stats before = stats(), mid;
	uint64_t f = frame_take(4), out[4];
	volatile uint64_t *p = (volatile uint64_t *)VA, *q = (volatile uint64_t *)VA2;
	long r;

	if ((r = mica_map(self_as, VA, f, 4, MICA_MAP_READ | MICA_MAP_WRITE)) != 0)
		return result("mem.map_unmap", "map gave", r);
	for (int i = 0; i < 4; i++)
		p[i * 512] = 0xabc0 + (uint64_t)i;
	/* The same frames again, read-only elsewhere: shared. */
	if ((r = mica_map(self_as, VA2, f, 4, MICA_MAP_READ)) != 0)
		return result("mem.map_unmap", "second map gave", r);
	for (int i = 0; i < 4; i++)
		if (q[i * 512] != 0xabc0 + (uint64_t)i)
			return result("mem.map_unmap", "alias reads wrong at page", i);
	mid = stats();
	if (mid.pool_mapped != before.pool_mapped + 4 || mid.mappings != before.mappings + 8)
		return result("mem.map_unmap", "counts after map: mappings", (long)mid.mappings);
	if ((r = mica_unmap(self_as, VA2, 4, out)) != 4)
		return result("mem.map_unmap", "unmap gave", r);
	for (int i = 0; i < 4; i++)
		if (out[i] != f + (uint64_t)i * MICA_PAGE_SIZE)
			return result("mem.map_unmap", "reported frame wrong at", i);
	if ((r = mica_unmap(self_as, VA, 4, 0)) != 4)
		return result("mem.map_unmap", "second unmap gave", r);
	mid = stats();
	if (!stats_equal(&mid, &before))
		return result("mem.map_unmap", "counts not back: tables", (long)mid.page_tables);
	result("mem.map_unmap", 0, 0);
}

static void test_map_errors(void)
{
	struct mica_mem_stats before = stats(), after;
	uint64_t f = frame_take(2);
	long weak = mica_handle_mint(self_as, MICA_RIGHTS_ALL & ~MICA_RIGHT_MEMORY, 0);
	long e = mica_endpoint_create();
	const unsigned rw = MICA_MAP_READ | MICA_MAP_WRITE;
	long r;

#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("mem.map_errors", what, r);
	EXPECT("forged handle", mica_map(999, VA, f, 1, rw), MICA_EBADH);
	EXPECT("endpoint handle", mica_map((mica_handle_t)e, VA, f, 1, rw), MICA_EBADH);
	EXPECT("no MEMORY right", mica_map((mica_handle_t)weak, VA, f, 1, rw), MICA_ERIGHTS);
	EXPECT("zero pages", mica_map(self_as, VA, f, 0, rw), MICA_EINVAL);
	EXPECT("too many pages", mica_map(self_as, VA, f, MICA_MAP_MAX_PAGES + 1, rw), MICA_EINVAL);
	EXPECT("no READ", mica_map(self_as, VA, f, 1, MICA_MAP_WRITE), MICA_EINVAL);
	EXPECT("unknown right", mica_map(self_as, VA, f, 1, MICA_MAP_READ | 8), MICA_EINVAL);
	EXPECT("write and execute",
	       mica_map(self_as, VA, f, 1, MICA_MAP_READ | MICA_MAP_WRITE | MICA_MAP_EXEC),
	       MICA_EPERM);
	EXPECT("misaligned address", mica_map(self_as, VA + 8, f, 1, rw), MICA_EALIGN);
	EXPECT("misaligned frame", mica_map(self_as, VA, f + 8, 1, rw), MICA_EALIGN);
	EXPECT("kernel image frame", mica_map(self_as, VA, 0x100000, 1, rw), MICA_EFRAME);
	EXPECT("low-memory frame", mica_map(self_as, VA, 0, 1, rw), MICA_EFRAME);
	EXPECT("MMIO frame", mica_map(self_as, VA, 0xFEE00000, 1, rw), MICA_EFRAME);
	EXPECT("frame past RAM", mica_map(self_as, VA, 1UL << 40, 1, rw), MICA_EFRAME);
	EXPECT("frame run past RAM", mica_map(self_as, VA, f, 1UL << 30, rw), MICA_EINVAL);
	EXPECT("kernel-half address", mica_map(self_as, MICA_KERNEL_VBASE, f, 1, rw), MICA_ERANGE);
	EXPECT("below the user base", mica_map(self_as, 0x1000, f, 1, rw), MICA_ERANGE);
	EXPECT("non-canonical address", mica_map(self_as, 0x0000800000000000UL, f, 1, rw),
	       MICA_ERANGE);
	EXPECT("range past the user half", mica_map(self_as, MICA_USER_TOP - 4096, f, 2, rw),
	       MICA_ERANGE);
	EXPECT("over this program's text", mica_map(self_as, MICA_USER_BASE, f, 1, MICA_MAP_READ),
	       MICA_EEXIST);
	/* Half free, half mapped: refused whole. */
	EXPECT("setup", mica_map(self_as, VA + 4096, f, 1, rw), 0);
	EXPECT("partly mapped range", mica_map(self_as, VA, f, 2, rw), MICA_EEXIST);
	EXPECT("unmap of a hole", mica_unmap(self_as, VA, 2, 0), MICA_ENOENT);
	EXPECT("unmap report unwritable", mica_unmap(self_as, VA + 4096, 1, (uint64_t *)0x400000),
	       MICA_EFAULT);
	EXPECT("unmap report inside the range",
	       mica_unmap(self_as, VA + 4096, 1, (uint64_t *)(VA + 4096)), MICA_EINVAL);
	EXPECT("unmap zero pages", mica_unmap(self_as, VA, 0, 0), MICA_EINVAL);
	EXPECT("unmap misaligned", mica_unmap(self_as, VA + 1, 1, 0), MICA_EALIGN);
	EXPECT("unmap kernel half", mica_unmap(self_as, MICA_KERNEL_VBASE, 1, 0), MICA_ERANGE);
	EXPECT("unmap without MEMORY", mica_unmap((mica_handle_t)weak, VA + 4096, 1, 0),
	       MICA_ERIGHTS);
	EXPECT("unmap", mica_unmap(self_as, VA + 4096, 1, 0), 1);
	EXPECT("stats to a bad pointer", mica_mem_stats((void *)0x400000), MICA_EFAULT);
#undef EXPECT
	mica_handle_close((mica_handle_t)weak);
	mica_handle_close((mica_handle_t)e);
	after = stats();
	if (!stats_equal(&after, &before))
		return result("mem.map_errors", "counts changed: mappings", (long)after.mappings);
	result("mem.map_errors", 0, 0);
}

static void test_grant(void)
{
	struct mica_mem_stats before = stats(), after;
	uint64_t f = frame_take(2), out[2];
	long b = mica_aspace_create(self_as);
	long weak = mica_handle_mint((mica_handle_t)b, MICA_RIGHTS_ALL & ~MICA_RIGHT_MEMORY, 0);
	const unsigned rw = MICA_MAP_READ | MICA_MAP_WRITE;
	long r;

	if (b < 0)
		return result("mem.grant", "aspace_create gave", b);
#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("mem.grant", what, r);
	EXPECT("map", mica_map(self_as, VA, f, 2, rw), 0);
	((volatile uint64_t *)VA)[0] = 0x6a;
	((volatile uint64_t *)VA)[512] = 0x6b;
	EXPECT("grant to B", mica_grant(self_as, VA, (mica_handle_t)b, 0x20000000, 2), 0);
	EXPECT("source lost it", mica_unmap(self_as, VA, 1, 0), MICA_ENOENT);
	EXPECT("source not mapped", mica_grant(self_as, VA, (mica_handle_t)b, 0x30000000, 1),
	       MICA_ENOENT);
	EXPECT("destination mapped",
	       mica_grant((mica_handle_t)b, 0x20000000, (mica_handle_t)b, 0x20001000, 1),
	       MICA_EEXIST);
	EXPECT("destination without MEMORY",
	       mica_grant((mica_handle_t)b, 0x20000000, (mica_handle_t)weak, 0x30000000, 1),
	       MICA_ERIGHTS);
	EXPECT("destination kernel half",
	       mica_grant((mica_handle_t)b, 0x20000000, self_as, MICA_KERNEL_VBASE, 1),
	       MICA_ERANGE);
	EXPECT("source misaligned", mica_grant((mica_handle_t)b, 0x20000010, self_as, VA2, 1),
	       MICA_EALIGN);
	EXPECT("zero pages", mica_grant((mica_handle_t)b, 0x20000000, self_as, VA2, 0),
	       MICA_EINVAL);
	EXPECT("grant back", mica_grant((mica_handle_t)b, 0x20000000, self_as, VA2, 2), 0);
	if (((volatile uint64_t *)VA2)[0] != 0x6a || ((volatile uint64_t *)VA2)[512] != 0x6b)
		return result("mem.grant", "contents did not travel", 0);
	EXPECT("unmap", mica_unmap(self_as, VA2, 2, out), 2);
	if (out[0] != f || out[1] != f + MICA_PAGE_SIZE)
		return result("mem.grant", "frames changed on the way", 0);
#undef EXPECT
	mica_handle_close((mica_handle_t)weak);
	mica_handle_close((mica_handle_t)b);
	after = stats();
	if (!stats_equal(&after, &before))
		return result("mem.grant", "counts not back: tables", (long)after.page_tables);
	result("mem.grant", 0, 0);
}

static void test_aspace_destroy(void)
{
	struct mica_mem_stats before = stats(), after;
	uint64_t f = frame_take(5), out[MICA_MAP_MAX_PAGES], got = 0;
	long b = mica_aspace_create(self_as);
	long sup = mica_endpoint_create(), pe = mica_endpoint_create();
	long weak = mica_handle_mint(self_as, MICA_RIGHTS_ALL & ~MICA_RIGHT_MEMORY, 0);
	struct mica_msg m;
	long r;

#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("mem.aspace_destroy", what, r);
	EXPECT("create without MEMORY", mica_aspace_create((mica_handle_t)weak), MICA_ERIGHTS);
	EXPECT("create from an endpoint", mica_aspace_create((mica_handle_t)sup), MICA_EBADH);
	/* Five pages in three places, and a thread stuck in a fault. */
	EXPECT("map 1", mica_map((mica_handle_t)b, 0x20000000, f, 2, MICA_MAP_READ), 0);
	EXPECT("map 2", mica_map((mica_handle_t)b, 0x7f0000000000, f + 2 * 4096, 2, MICA_MAP_READ),
	       0);
	EXPECT("map 3", mica_map((mica_handle_t)b, 0x400000, f + 4 * 4096, 1, MICA_MAP_READ), 0);
	struct mica_thread_params p = {.entry = 0x500000, /* unmapped in B: it faults */
	                               .stack_top = 0x600000,
	                               .priority = 16,
	                               .pager = (mica_handle_t)pe,
	                               .supervisor = (mica_handle_t)sup};
	long t = mica_thread_create((mica_handle_t)b, &p);
	if (t < 0)
		return result("mem.aspace_destroy", "thread_create in B gave", t);
	yield_n(3); /* it faults and waits for its pager, who never answers */
	EXPECT("destroy own", mica_aspace_destroy(self_as, out, 2), MICA_EINVAL);
	EXPECT("destroy cap 0", mica_aspace_destroy((mica_handle_t)b, out, 0), MICA_EINVAL);
	EXPECT("destroy bad buffer", mica_aspace_destroy((mica_handle_t)b, (void *)0x400000, 2),
	       MICA_EFAULT);
	EXPECT("destroy without MEMORY", mica_aspace_destroy((mica_handle_t)weak, out, 2),
	       MICA_ERIGHTS);
	/* Steps of two: 2, 2, 1. */
	for (int step = 0; step < 3; step++) {
		long want = step < 2 ? 2 : 1;

		EXPECT("destroy step", mica_aspace_destroy((mica_handle_t)b, out + got, 2), want);
		got += (uint64_t)r;
	}
	for (uint64_t i = 0; i < 5; i++) {
		int found = 0;

		for (uint64_t j = 0; j < got; j++)
			found |= out[j] == f + i * MICA_PAGE_SIZE;
		if (!found)
			return result("mem.aspace_destroy", "frame not reported:", (long)i);
	}
	EXPECT("destroy again", mica_aspace_destroy((mica_handle_t)b, out, 2), 0);
	EXPECT("map into destroyed", mica_map((mica_handle_t)b, 0x20000000, f, 1, MICA_MAP_READ),
	       MICA_EPEER);
	EXPECT("thread in destroyed", mica_thread_create((mica_handle_t)b, &p), MICA_EPEER);
	/* The thread was killed, not its fault delivered. */
	EXPECT("notice", mica_recv((mica_handle_t)sup, &m, 0, 0), 0);
	if (m.w[1] != MICA_EXIT_KILLED)
		return result("mem.aspace_destroy", "thread's notice reason", (long)m.w[1]);
	EXPECT("no fault left queued", mica_try_recv((mica_handle_t)pe, &m, 0, 0), MICA_EAGAIN);
#undef EXPECT
	mica_handle_close((mica_handle_t)t);
	mica_handle_close((mica_handle_t)b);
	mica_handle_close((mica_handle_t)sup);
	mica_handle_close((mica_handle_t)pe);
	mica_handle_close((mica_handle_t)weak);
	after = stats();
	if (!stats_equal(&after, &before))
		return result("mem.aspace_destroy", "counts not back: objects",
		              (long)after.objects);
	result("mem.aspace_destroy", 0, 0);
}

static void test_donate(void)
{
	struct mica_mem_stats before, after;
	uint64_t f = frame_take(2);
	long r;

#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("mem.donate", what, r);
	EXPECT("map", mica_map(self_as, VA, f + 4096, 1, MICA_MAP_READ), 0);
	before = stats(); /* after the map's page tables */
	EXPECT("donate a mapped frame", mica_donate(self_as, f, 2), MICA_EBUSY);
	EXPECT("donate a kernel frame", mica_donate(self_as, 0x100000, 1), MICA_EFRAME);
	EXPECT("donate zero", mica_donate(self_as, f, 0), MICA_EINVAL);
	EXPECT("donate misaligned", mica_donate(self_as, f + 1, 1), MICA_EALIGN);
	EXPECT("donate", mica_donate(self_as, f, 1), 0);
	after = stats();
	if (after.reserve_free != before.reserve_free + 1 ||
	    after.pool_total != before.pool_total - 1 ||
	    after.reserve_total != before.reserve_total + 1)
		return result("mem.donate", "counts after donate: reserve_free",
		              (long)after.reserve_free);
	EXPECT("map a donated frame", mica_map(self_as, VA2, f, 1, MICA_MAP_READ), MICA_EFRAME);
	EXPECT("donate twice", mica_donate(self_as, f, 1), MICA_EFRAME);
	EXPECT("unmap", mica_unmap(self_as, VA, 1, 0), 1);
#undef EXPECT
	result("mem.donate", 0, 0);
}

/* Map one frame at FAR + i GiB until the reserve has no frame for the tables. */
static void test_reserve_exhaustion(void)
{
	struct mica_mem_stats before = stats(), at, after;
	uint64_t f = frame_take(1), spare = frame_take(8);
	long n = 0, r = 0;

	while (n < 60000 &&
	       (r = mica_map(self_as, FAR + (uint64_t)n * (1UL << 30), f, 1, MICA_MAP_READ)) == 0)
		n++;
	if (r != MICA_ENOMEM)
		return result("mem.enomem", "mapping until the reserve ran out gave", r);
	at = stats();
	if ((r = mica_map(self_as, FAR + (uint64_t)n * (1UL << 30), f, 1, MICA_MAP_READ)) !=
	    MICA_ENOMEM)
		return result("mem.enomem", "retry gave", r);
	after = stats();
	if (!stats_equal(&at, &after))
		return result("mem.enomem", "a refused map changed the counts: tables",
		              (long)after.page_tables);
	/* The pager's remedy: donate frames, and the map goes through. */
	if ((r = mica_donate(self_as, spare, 8)) != 0)
		return result("mem.enomem", "donate gave", r);
	if ((r = mica_map(self_as, FAR + (uint64_t)n * (1UL << 30), f, 1, MICA_MAP_READ)) != 0)
		return result("mem.enomem", "map after donate gave", r);
	for (long i = 0; i <= n; i++)
		if ((r = mica_unmap(self_as, FAR + (uint64_t)i * (1UL << 30), 1, 0)) != 1)
			return result("mem.enomem", "unmap gave", r);
	after = stats();
	if (after.reserve_free != before.reserve_free + 8 ||
	    after.page_tables != before.page_tables || after.mappings != before.mappings)
		return result("mem.enomem", "counts not back: reserve_free",
		              (long)after.reserve_free);
	say("ktest: the reserve ran out after ");
	say_num(n);
	say(" maps\n");
	result("mem.enomem", 0, 0);
}

/*
 * Runs in another address space with nothing but the endpoint handle it
 * was given: calls it once and exits with 21 if the answer is right.
 */
static void give_caller(uint64_t ep)
{
	struct mica_msg m = {.label = 1, .w = {0x600d}};

	if (mica_call((mica_handle_t)ep, &m, 0) == 0 && m.w[0] == 0x600d + 1)
		mica_thread_exit(21);
	mica_thread_exit(22);
}

/* handle_give: a new address space's first handles, and every refusal. */
static void test_handle_give(void)
{
	struct mica_mem_stats before = stats();
	struct mica_msg m;
	uint64_t badge;
	long r;

	long b = mica_aspace_create(self_as);
	long e = mica_endpoint_create();
	long sup = mica_endpoint_create();
	if (b < 0 || e < 0 || sup < 0)
		return result("handle.give", "aspace or endpoint create gave", b < 0 ? b : e);
	long b_nomanage = mica_handle_mint((mica_handle_t)b, ~MICA_RIGHT_MANAGE, 0);
	long e_nocopy = mica_handle_mint((mica_handle_t)e, ~MICA_RIGHT_COPY, 0);
	long b_keep = mica_handle_mint((mica_handle_t)b, ~0u, 0); /* outlives destroy */
#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("handle.give", what, r);
	EXPECT("a forged address space", mica_handle_give(4000, (mica_handle_t)e, ~0u), MICA_EBADH);
	EXPECT("an endpoint as the address space",
	       mica_handle_give((mica_handle_t)e, (mica_handle_t)e, ~0u), MICA_EBADH);
	EXPECT("no MANAGE", mica_handle_give((mica_handle_t)b_nomanage, (mica_handle_t)e, ~0u),
	       MICA_ERIGHTS);
	EXPECT("a forged handle", mica_handle_give((mica_handle_t)b, 4000, ~0u), MICA_EBADH);
	EXPECT("a handle value past int32",
	       mica_syscall4(MICA_SYS_HANDLE_GIVE, (uint64_t)b, 1UL << 32, ~0u, 0), MICA_EBADH);
	EXPECT("an address space as the handle",
	       mica_handle_give((mica_handle_t)b, (mica_handle_t)b, ~0u), MICA_EBADH);
	EXPECT("no COPY", mica_handle_give((mica_handle_t)b, (mica_handle_t)e_nocopy, ~0u),
	       MICA_ERIGHTS);

	/* B's thread uses the handle it was given (SEND only) to call us. */
	long given = mica_handle_give((mica_handle_t)b, (mica_handle_t)e, MICA_RIGHT_SEND);
	if (given < 0)
		return result("handle.give", "give gave", given);
	if ((r = remote_prepare(bootinfo, self_as, (mica_handle_t)b, frame_take(1), VA)) != 0)
		return result("handle.give", "remote_prepare gave", r);
	struct mica_thread_params p = {.entry = (uint64_t)give_caller,
	                               .stack_top = REMOTE_STACK_TOP,
	                               .arg = (uint64_t)given,
	                               .priority = 16,
	                               .pager = MICA_HANDLE_NONE,
	                               .supervisor = (mica_handle_t)sup};
	long t = mica_thread_create((mica_handle_t)b, &p);
	if (t < 0)
		return result("handle.give", "thread_create in B gave", t);
	if ((r = mica_recv((mica_handle_t)e, &m, 0, &badge)) != 0 || m.w[0] != 0x600d)
		return result("handle.give", "no call through the given handle:", r);
	m.w[0]++;
	if ((r = mica_reply_recv((mica_handle_t)sup, &m, 0, &badge)) != 0 ||
	    m.label != MICA_LABEL_EXIT || m.w[2] != 21)
		return result("handle.give", "B's thread did not end well: code", (long)m.w[2]);

	/* B's thread has ended and cleared B's table: nothing more goes in (it
	 * would stay there for good, perhaps in a cycle of references). */
	EXPECT("an address space whose threads ended",
	       mica_handle_give((mica_handle_t)b, (mica_handle_t)sup, ~0u), MICA_EPEER);
	if ((r = remote_destroy((mica_handle_t)b)) != 0)
		return result("handle.give", "destroy gave", r);
	/*
	 * A fresh address space's table grows past the slots in its frame:
	 * 1,000 handles, numbered 0 to 999, take pages from the reserve.
	 */
	struct mica_mem_stats g0 = stats(), g1, g2;
	long c = mica_aspace_create(self_as);
	long n = 0;
	while (n < 1000 && (r = mica_handle_give((mica_handle_t)c, (mica_handle_t)e, ~0u)) == n)
		n++;
	if (n != 1000)
		return result("handle.give", "growing the table to 1,000 ended with", r);
	g1 = stats();
	if (g0.reserve_free - g1.reserve_free < 2 + 6) /* the space, its PML4, pages, directory */
		return result("handle.give", "the table took no pages: reserve frames",
		              (long)(g0.reserve_free - g1.reserve_free));
	/*
	 * The reserve running out: with no frame for a new page, the give is
	 * refused with ENOMEM and changes nothing (mappings far apart use up
	 * the reserve with their page tables, as in mem.enomem).
	 */
	uint64_t f = frame_take(1);
	long maps = 0;
	while (maps < 60000 &&
	       mica_map(self_as, FAR + (uint64_t)maps * (1UL << 30), f, 1, MICA_MAP_READ) == 0)
		maps++;
	while (n < 100000 && (r = mica_handle_give((mica_handle_t)c, (mica_handle_t)e, ~0u)) == n)
		n++;
	g1 = stats();
	if (r != MICA_ENOMEM ||
	    mica_handle_give((mica_handle_t)c, (mica_handle_t)e, ~0u) != MICA_ENOMEM)
		return result("handle.give", "giving with the reserve empty gave", r);
	g2 = stats();
	if (!stats_equal(&g1, &g2))
		return result("handle.give", "a refused give changed the counts: reserve_free",
		              (long)g2.reserve_free);
	for (long i = 0; i < maps; i++)
		if ((r = mica_unmap(self_as, FAR + (uint64_t)i * (1UL << 30), 1, 0)) != 1)
			return result("handle.give", "unmap gave", r);
	/* Destroyed: every page of its table back in the reserve. */
	if ((r = remote_destroy((mica_handle_t)c)) != 0)
		return result("handle.give", "destroy of the large one gave", r);
	g2 = stats();
	if (g2.reserve_free != g0.reserve_free || g2.objects != g0.objects)
		return result("handle.give", "frames not back after destroy: reserve_free",
		              (long)g2.reserve_free - (long)g0.reserve_free);
	/* A destroyed address space takes no handles. */
	EXPECT("a destroyed address space",
	       mica_handle_give((mica_handle_t)b_keep, (mica_handle_t)e, ~0u), MICA_EPEER);
#undef EXPECT
	mica_handle_close((mica_handle_t)b_keep);
	mica_handle_close((mica_handle_t)b_nomanage);
	mica_handle_close((mica_handle_t)e_nocopy);
	mica_handle_close((mica_handle_t)t);
	mica_handle_close((mica_handle_t)e);
	mica_handle_close((mica_handle_t)sup);
	struct mica_mem_stats after = stats();
	if (!stats_equal(&before, &after))
		return result("handle.give", "counts not back: objects", (long)after.objects);
	result("handle.give", 0, 0);
}

/*
 * 2 MiB pages (MICA_MAP_LARGE): mapped, read through, shared with a 4 KiB
 * mapping, unmapped only whole; and every refusal: unaligned, not whole,
 * another address space, a 2 MiB not all the pool's (low memory, one frame
 * donated), a mapping in the way.
 */
static void test_map_large(void)
{
	const uint64_t lp = MICA_MAP_LARGE_PAGES, lsz = MICA_LARGE_PAGE_SIZE;
	const unsigned rw = MICA_MAP_READ | MICA_MAP_WRITE, lg = MICA_MAP_LARGE;
	const uint64_t lva = 0x40000000UL; /* 1 GiB: 2 MiB-aligned, free */
	struct mica_mem_stats before, mid;
	uint64_t out[2], f, g;
	long b = mica_aspace_create(self_as);
	long r;

	/* Two 2 MiB-aligned runs of the pool's first range. */
	f = frame_take(0);
	(void)frame_take((f + lsz - 1) / lsz * lsz / MICA_PAGE_SIZE - f / MICA_PAGE_SIZE);
	f = frame_take(lp);
	g = frame_take(lp);
	if (!f || !g || f % lsz || b < 0)
		return result("mem.map_large", "no aligned 4 MiB in the first range at", (long)f);
#define EXPECT(what, call, want)                                                                   \
	if ((r = (call)) != (want))                                                                \
		return result("mem.map_large", what, r);
	EXPECT("vaddr not 2 MiB-aligned", mica_map(self_as, lva + 4096, f, lp, rw | lg),
	       MICA_EALIGN);
	EXPECT("frame not 2 MiB-aligned", mica_map(self_as, lva, f + 4096, lp, rw | lg),
	       MICA_EALIGN);
	EXPECT("not whole pages", mica_map(self_as, lva, f, lp - 1, rw | lg), MICA_EINVAL);
	EXPECT("another address space", mica_map((mica_handle_t)b, lva, f, lp, rw | lg),
	       MICA_EINVAL);
	EXPECT("W and X", mica_map(self_as, lva, f, lp, rw | MICA_MAP_EXEC | lg), MICA_EPERM);
	EXPECT("low memory", mica_map(self_as, lva, 0, lp, MICA_MAP_READ | lg), MICA_EFRAME);
	EXPECT("donate one of g", mica_donate(self_as, g + 5 * 4096, 1), 0);
	EXPECT("partly donated", mica_map(self_as, lva, g, lp, rw | lg), MICA_EFRAME);
	before = stats();
	EXPECT("map", mica_map(self_as, lva, f, lp, rw | lg), 0);
	((volatile uint64_t *)lva)[0] = 0x1a;
	((volatile uint64_t *)(lva + lsz - 8))[0] = 0x1b;
	/* The same frames through a 4 KiB page: shared, the same memory. */
	EXPECT("map a 4 KiB alias", mica_map(self_as, VA, f + lsz - 4096, 1, MICA_MAP_READ), 0);
	if (((volatile uint64_t *)(VA + 4096 - 8))[0] != 0x1b)
		return result("mem.map_large", "alias reads wrong", 0);
	mid = stats();
	if (mid.pool_mapped != before.pool_mapped + lp || mid.mappings != before.mappings + lp + 1)
		return result("mem.map_large", "counts after map: mappings", (long)mid.mappings);
	EXPECT("map twice", mica_map(self_as, lva, f, lp, rw | lg), MICA_EEXIST);
	EXPECT("4 KiB inside", mica_map(self_as, lva + 4096, g, 1, MICA_MAP_READ), MICA_EEXIST);
	EXPECT("unmap a page of it", mica_unmap(self_as, lva + 4096, 1, 0), MICA_EBUSY);
	EXPECT("unmap across its end", mica_unmap(self_as, lva + 4096, lp, 0), MICA_EBUSY);
	EXPECT("grant a page of it", mica_grant(self_as, lva, (mica_handle_t)b, lva, 1),
	       MICA_EBUSY);
	EXPECT("donate a frame of it", mica_donate(self_as, f + 4096, 1), MICA_EBUSY);
	EXPECT("unmap the alias", mica_unmap(self_as, VA, 1, 0), 1);
	EXPECT("unmap", mica_unmap(self_as, lva, lp, 0), (long)lp);
	EXPECT("unmapped", mica_unmap(self_as, lva, 1, out), MICA_ENOENT);
#undef EXPECT
	mid = stats();
	if (!stats_equal(&mid, &before))
		return result("mem.map_large", "counts not back: reserve_free",
		              (long)mid.reserve_free - (long)before.reserve_free);
	mica_handle_close((mica_handle_t)b);
	result("mem.map_large", 0, 0);
}

void test_mem(void)
{
	test_bootinfo();
	test_map_unmap();
	test_map_errors();
	test_map_large();
	test_grant();
	test_aspace_destroy();
	test_donate();
	test_reserve_exhaustion();
	test_handle_give();
}
