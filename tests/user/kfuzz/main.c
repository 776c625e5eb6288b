/*
 * The memory-call fuzzer (docs/TESTING.md): the first task, so it holds
 * what only the pager holds otherwise, an address space with MEMORY and
 * MANAGE, and can reach the kernel's memory paths with valid handles.
 * From a seed it makes random map, unmap, grant, aspace_create,
 * aspace_destroy, thread_create, thread_kill, handle_give, handle_mint,
 * handle_close, donate and IPC calls on two child address spaces it owns,
 * with 64 pool frames of its own and edge-case addresses, frames (outside
 * the pool, the kernel's, unaligned), counts, rights and handles. Every
 * result must be one docs/ABI.md lists for the call; threads it starts in
 * the children run whatever their random entry holds and die. At the end
 * it destroys the children and closes every handle: the kernel's counts
 * (mem_stats) must be those at the start.
 *
 * It never acts on its own address space except as the authority for
 * aspace_create, nor on its own thread. Kernel command line:
 * kfuzz.seed=<n> kfuzz.calls=<n>.
 */
#include <libipc/syscall.h>
#include <mica/bootinfo.h>
#include <mica/layout.h>
#include <out.h>
#include <stdbool.h>

#define PAGE    4096ULL
#define NFRAMES 64
#define HMAX    256

struct rng {
	uint64_t s;
};

static uint64_t rnext(struct rng *r)
{
	uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return rnext(r) % n;
}

static mica_handle_t self_as, self_thread, ep, devices;
static uint64_t last_irq, last_ntf; /* the latest interrupt and notification made (maybe closed) */
static mica_handle_t child[2];
static uint64_t frame0; /* NFRAMES pool frames of ours, from here */
static uint64_t pool_hi;
static uint64_t seed;
static long failures;
static uint64_t ok[MICA_SYS_COUNT]; /* successes per call */
enum kind { K_NONE, K_ASPACE, K_OTHER };
static uint8_t live[HMAX]; /* handles we made: K_ASPACE (children and copies), K_OTHER */
static uint64_t scratch[1024] __attribute__((aligned(4096)));

#define E(x) (1u << -(MICA_##x))
static const uint32_t allowed[MICA_SYS_COUNT] = {
    [MICA_SYS_THREAD_CREATE] =
        E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EFAULT) | E(EINVAL) | E(EPERM) | E(ERANGE) | E(ENOMEM),
    [MICA_SYS_ENDPOINT_CREATE] = E(ENOMEM),
    [MICA_SYS_HANDLE_CLOSE] = E(EBADH),
    [MICA_SYS_HANDLE_MINT] = E(EBADH) | E(ERIGHTS) | E(ENOMEM) | E(EINVAL),
    [MICA_SYS_IPC_TRY_SEND] = E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EAGAIN) | E(EPEER),
    [MICA_SYS_IPC_TRY_RECV] = E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EAGAIN) | E(EPEER),
    [MICA_SYS_ASPACE_CREATE] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(ENOMEM),
    [MICA_SYS_ASPACE_DESTROY] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EFAULT) | E(EBUSY),
    [MICA_SYS_MAP] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EPERM) | E(EALIGN) |
                     E(EFRAME) | E(EBUSY) | E(ERANGE) | E(EEXIST) | E(ENOMEM),
    [MICA_SYS_UNMAP] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EALIGN) | E(ERANGE) |
                       E(EFAULT) | E(ENOENT) | E(EBUSY),
    [MICA_SYS_GRANT] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EALIGN) | E(ERANGE) |
                       E(ENOENT) | E(EBUSY) | E(EEXIST) | E(ENOMEM),
    [MICA_SYS_DONATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EALIGN) | E(EFRAME) | E(EBUSY),
    [MICA_SYS_THREAD_KILL] = E(EBADH) | E(ERIGHTS) | E(EPEER),
    [MICA_SYS_HANDLE_GIVE] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(ENOMEM),
    [MICA_SYS_NOTIFY_CREATE] = E(ENOMEM),
    [MICA_SYS_NOTIFY_SIGNAL] = E(EBADH) | E(ERIGHTS) | E(EINVAL),
    [MICA_SYS_NOTIFY_POLL] = E(EBADH) | E(ERIGHTS),
    [MICA_SYS_IRQ_CREATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EBUSY) | E(ENOMEM),
    [MICA_SYS_IRQ_BIND] = E(EBADH) | E(ERIGHTS),
    [MICA_SYS_IRQ_ACK] = E(EBADH) | E(ERIGHTS) | E(EINVAL),
    [MICA_SYS_IOPORT_CREATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(ERANGE) | E(EBUSY) | E(ENOMEM),
};
#undef E

/* The value of `key=` on the kernel command line, or def. */
static uint64_t cmdline_num(const char *cmd, const char *key, uint64_t def)
{
	for (const char *p = cmd; *p; p++) {
		const char *k = key, *q = p;

		if (p != cmd && p[-1] != ' ')
			continue;
		while (*k && *q == *k)
			k++, q++;
		if (*k || *q != '=')
			continue;
		uint64_t v = 0;

		for (q++; *q >= '0' && *q <= '9'; q++)
			v = v * 10 + (uint64_t)(*q - '0');
		return v;
	}
	return def;
}

/* A child address space, one of ours (maybe destroyed), or any other handle value. */
static uint64_t pick_aspace(struct rng *r)
{
	switch (below(r, 8)) {
	case 0:
		return (uint64_t)(int64_t)ep; /* an endpoint: wrong type */
	case 1:
		return below(r, HMAX);
	case 2:
		return rnext(r);
	default:
		return (uint64_t)(int64_t)child[below(r, 2)];
	}
}

/* pick_aspace, never our own (memory calls there could take our own pages away). */
static uint64_t pick_other(struct rng *r)
{
	uint64_t h = pick_aspace(r);

	return h == (uint64_t)(int64_t)self_as ? (uint64_t)(int64_t)MICA_HANDLE_NONE : h;
}

/* Rights: mostly valid ones (READ, with WRITE or EXEC), sometimes any. */
static uint64_t pick_rights(struct rng *r)
{
	static const uint64_t good[] = {MICA_MAP_READ, MICA_MAP_READ | MICA_MAP_WRITE,
	                                MICA_MAP_READ | MICA_MAP_EXEC};

	return below(r, 4) ? good[below(r, 3)] : (below(r, 2) ? below(r, 16) : rnext(r));
}

/* A handle for the generic calls: ours, never the own address space or thread. */
static uint64_t pick_handle(struct rng *r)
{
	uint64_t h;

	switch (below(r, 6)) {
	case 0:
		h = (uint64_t)(int64_t)ep;
		break;
	case 1:
		h = (uint64_t)(int64_t)child[below(r, 2)];
		break;
	case 2:
		h = rnext(r);
		break;
	case 3:
		h = (uint64_t)(int64_t)MICA_HANDLE_NONE;
		break;
	default:
		h = below(r, 64);
	}
	if (h == (uint64_t)(int64_t)self_as || h == (uint64_t)(int64_t)self_thread)
		h = (uint64_t)(int64_t)MICA_HANDLE_NONE;
	return h;
}

static uint64_t pick_vaddr(struct rng *r)
{
	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return MICA_USER_TOP - PAGE * below(r, 4);
	case 2:
		return 0x0000800000000000ULL + PAGE * below(r, 16); /* non-canonical */
	case 3:
		return MICA_DIRECT_MAP_BASE + PAGE * below(r, 1024);
	case 4:
		return MICA_KERNEL_VBASE + PAGE * below(r, 1024);
	case 5:
		return 0x40000000ULL + below(r, 64 * PAGE); /* often unaligned */
	default:
		return 0x40000000ULL + PAGE * below(r, 16); /* a small window: overlaps */
	}
}

static uint64_t pick_frame(struct rng *r)
{
	switch (below(r, 10)) {
	case 0:
		return 0;
	case 1:
		return 0x100000 + PAGE * below(r, 256); /* the kernel image */
	case 2:
		return pool_hi + PAGE * below(r, 1ULL << 20); /* past RAM, or the reserve */
	case 3:
		return frame0 + below(r, NFRAMES * PAGE); /* unaligned, mostly */
	case 4:
		return rnext(r);
	case 5:
		return frame0 + PAGE * (NFRAMES + below(r, 16)); /* free pool frames, not ours */
	default:
		return frame0 + PAGE * below(r, NFRAMES);
	}
}

static uint64_t pick_npages(struct rng *r)
{
	static const uint64_t edge[] = {0, 1, 2, 63, 64, 1024, 1025, ~0ULL, 1ULL << 32};

	return below(r, 4) ? 1 + below(r, 4) : edge[below(r, sizeof(edge) / sizeof(edge[0]))];
}

static void fail(uint64_t i, uint64_t nr, int64_t rc)
{
	say("kfuzz: seed ");
	say_num((long)seed);
	say(" call ");
	say_num((long)i);
	say(": nr ");
	say_num((long)nr);
	say(" -> ");
	say_num((long)rc);
	say(", not a documented result\n");
	failures++;
}

/*
 * Note a handle made. Past HMAX (the table grows: docs/ABI.md, "Handles")
 * it is closed at once, so the end finds every handle: a new address space
 * has no thread yet, a copy's original is noted, a thread's address space
 * is emptied at the end.
 */
static void note(int64_t h, enum kind k)
{
	if (h >= HMAX)
		mica_handle_close((mica_handle_t)h);
	else if (h >= 0)
		live[h] = (uint8_t)k;
}

/* Empty address space h (ending its threads): a thread must never be left out of reach. */
static void empty(uint64_t h)
{
	while (mica_aspace_destroy((mica_handle_t)h, scratch, 1024) == 1024)
		;
}

/* Take every message waiting on ep (exit notices, fault calls: a caller we drop dies). */
static void drain(void)
{
	struct mica_msg m = {0};

	for (int k = 0; k < 64; k++)
		if (mica_try_recv(ep, &m, NULL, NULL) != 0)
			break;
}

/* Destroy child c completely and make a new one. */
static void renew(int c)
{
	empty((uint64_t)child[c]);
	mica_handle_close(child[c]);
	live[child[c]] = K_NONE;
	int64_t h = mica_aspace_create(self_as);

	child[c] = h < 0 ? MICA_HANDLE_NONE : (mica_handle_t)h;
	note(h, K_ASPACE);
}

static void one(struct rng *r, uint64_t i)
{
	static const uint64_t nrs[] = {
	    MICA_SYS_MAP,
	    MICA_SYS_MAP,
	    MICA_SYS_MAP,
	    MICA_SYS_UNMAP,
	    MICA_SYS_UNMAP,
	    MICA_SYS_GRANT,
	    MICA_SYS_GRANT,
	    MICA_SYS_ASPACE_CREATE,
	    MICA_SYS_ASPACE_DESTROY,
	    MICA_SYS_THREAD_CREATE,
	    MICA_SYS_THREAD_KILL,
	    MICA_SYS_HANDLE_GIVE,
	    MICA_SYS_HANDLE_MINT,
	    MICA_SYS_HANDLE_CLOSE,
	    MICA_SYS_DONATE,
	    MICA_SYS_IPC_TRY_SEND,
	    MICA_SYS_IPC_TRY_RECV,
	    MICA_SYS_ENDPOINT_CREATE,
	    /* Devices (we hold the authority) and notifications; not ioport_enable, whose
	     * ranges our address space would keep past the count at the end, nor
	     * notify_wait or notify_bind, which could block us or hold a reference. */
	    MICA_SYS_NOTIFY_CREATE,
	    MICA_SYS_NOTIFY_SIGNAL,
	    MICA_SYS_NOTIFY_POLL,
	    MICA_SYS_IRQ_CREATE,
	    MICA_SYS_IRQ_BIND,
	    MICA_SYS_IRQ_ACK,
	    MICA_SYS_IOPORT_CREATE,
	};
	uint64_t nr = nrs[below(r, sizeof(nrs) / sizeof(nrs[0]))];
	if (nr == MICA_SYS_ASPACE_DESTROY && below(r, 4))
		nr = MICA_SYS_MAP; /* rarely: it empties a child */
	uint64_t a[6] = {0};
	int64_t rc;

	switch (nr) {
	case MICA_SYS_MAP:
		a[0] = pick_other(r);
		a[1] = pick_vaddr(r);
		a[2] = pick_frame(r);
		a[3] = pick_npages(r);
		a[4] = pick_rights(r);
		break;
	case MICA_SYS_UNMAP:
		a[0] = pick_other(r);
		a[1] = pick_vaddr(r);
		a[2] = pick_npages(r);
		a[3] = below(r, 2) ? (uint64_t)scratch
		                   : (below(r, 2) ? 0 : MICA_KERNEL_VBASE + below(r, 4096));
		break;
	case MICA_SYS_GRANT:
		a[0] = pick_other(r);
		a[1] = pick_vaddr(r);
		a[2] = pick_other(r);
		a[3] = pick_vaddr(r);
		a[4] = pick_npages(r);
		break;
	case MICA_SYS_ASPACE_CREATE:
		a[0] = below(r, 2) ? (uint64_t)(int64_t)self_as : pick_handle(r);
		break;
	case MICA_SYS_ASPACE_DESTROY:
		/* Our own now and then: MICA_EINVAL, the ABI says. */
		a[0] = below(r, 16) ? pick_other(r) : (uint64_t)(int64_t)self_as;
		a[1] = below(r, 4) ? (uint64_t)scratch : rnext(r);
		a[2] = below(r, 4) ? 1 + below(r, 1024) : rnext(r);
		break;
	case MICA_SYS_THREAD_CREATE: {
		struct mica_thread_params *p = (struct mica_thread_params *)&scratch[512];

		a[0] = pick_other(r);
		a[1] = below(r, 8) ? (uint64_t)p : rnext(r);
		p->entry = below(r, 2) ? pick_vaddr(r) : rnext(r);
		p->stack_top = below(r, 2) ? pick_vaddr(r) : rnext(r);
		p->arg = rnext(r);
		/* Below ours (16), or invalid: a thread of ours that spins must not starve us. */
		p->priority = (uint32_t)(below(r, 4) ? below(r, 16) : 32 + below(r, 8));
		p->max_priority = (uint32_t)(below(r, 4) ? below(r, 16) : 32 + below(r, 8));
		p->pager = below(r, 2) ? ep : (mica_handle_t)pick_handle(r);
		p->supervisor = below(r, 2) ? ep : (mica_handle_t)pick_handle(r);
		break;
	}
	case MICA_SYS_THREAD_KILL:
		a[0] = pick_handle(r);
		a[1] = rnext(r);
		break;
	case MICA_SYS_HANDLE_GIVE:
		a[0] = pick_other(r);
		a[1] = pick_handle(r);
		a[2] = below(r, 32);
		break;
	case MICA_SYS_HANDLE_MINT:
		a[0] = pick_handle(r);
		a[1] = below(r, 64);
		a[2] = below(r, 2) ? 0 : rnext(r);
		break;
	case MICA_SYS_HANDLE_CLOSE:
		a[0] = pick_handle(r);
		if (a[0] == (uint64_t)(int64_t)ep || a[0] == (uint64_t)(int64_t)devices)
			a[0] = (uint64_t)(int64_t)
			    MICA_HANDLE_NONE; /* keep the supervisor endpoint and the authority */
		/*
		 * An address space's handle goes only after it was emptied (renew, below,
		 * for the children; the others at the end): a thread in it must never run
		 * on out of our reach.
		 */
		if (a[0] == (uint64_t)(int64_t)child[0] || a[0] == (uint64_t)(int64_t)child[1])
			empty(a[0]);
		else if (a[0] < HMAX && live[a[0]] == K_ASPACE)
			a[0] = (uint64_t)(int64_t)MICA_HANDLE_NONE;
		break;
	case MICA_SYS_NOTIFY_SIGNAL:
		a[0] = below(r, 2) ? last_ntf : pick_handle(r);
		a[1] = below(r, 2) ? below(r, 16) : rnext(r);
		break;
	case MICA_SYS_IRQ_CREATE:
	case MICA_SYS_IOPORT_CREATE:
		a[0] = below(r, 2) ? (uint64_t)(int64_t)devices : pick_handle(r);
		a[1] = below(r, 2) ? below(r, 20) : (below(r, 2) ? 0x3f0 + below(r, 32) : rnext(r));
		a[2] =
		    below(r, 2) ? below(r, 16) : (below(r, 2) ? 0x10000 - below(r, 4) : rnext(r));
		break;
	case MICA_SYS_IRQ_BIND:
	case MICA_SYS_IRQ_ACK:
		a[0] = below(r, 4) ? last_irq : pick_handle(r);
		a[1] = below(r, 4) ? (below(r, 3) ? last_ntf : pick_handle(r))
		                   : (uint64_t)(int64_t)MICA_HANDLE_NONE;
		break;
	case MICA_SYS_NOTIFY_POLL:
		a[0] = below(r, 2) ? last_ntf : pick_handle(r);
		break;
	case MICA_SYS_DONATE:
		/* No address space of ours: a real donation would move frames out of the count. */
		a[0] = below(r, 2) ? (uint64_t)(int64_t)ep : rnext(r);
		a[1] = pick_frame(r);
		a[2] = pick_npages(r);
		break;
	default:
		a[0] = pick_handle(r);
		break;
	}

	if (nr == MICA_SYS_IPC_TRY_SEND || nr == MICA_SYS_IPC_TRY_RECV) {
		struct mica_msg m = {.label = below(r, 2) ? rnext(r) : below(r, 16)};

		rc = mica_ipc(nr, (mica_handle_t)a[0], &m, NULL, NULL);
	} else {
		rc = mica_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	if (rc >= 0)
		ok[nr]++;
	if (rc >= 0 && nr == MICA_SYS_IRQ_CREATE)
		last_irq = (uint64_t)rc;
	if (rc >= 0 && nr == MICA_SYS_NOTIFY_CREATE)
		last_ntf = (uint64_t)rc;
	if (nr == MICA_SYS_ASPACE_DESTROY && a[0] == (uint64_t)(int64_t)self_as &&
	    rc != MICA_EINVAL)
		fail(i, nr, rc);
	if (rc < 0) {
		if (rc < MICA_EFRAME || !(allowed[nr] & (1u << -rc)))
			fail(i, nr, rc);
	} else if (nr == MICA_SYS_ASPACE_CREATE) {
		note(rc, K_ASPACE);
	} else if (nr == MICA_SYS_HANDLE_MINT) {
		note(rc, a[0] < HMAX && live[a[0]] == K_ASPACE ? K_ASPACE : K_OTHER);
	} else if (nr == MICA_SYS_THREAD_CREATE || nr == MICA_SYS_ENDPOINT_CREATE ||
	           nr == MICA_SYS_NOTIFY_CREATE || nr == MICA_SYS_IRQ_CREATE ||
	           nr == MICA_SYS_IOPORT_CREATE) {
		note(rc, K_OTHER);
	} else if (nr == MICA_SYS_HANDLE_CLOSE && a[0] < HMAX) {
		live[a[0]] = K_NONE;
	}
	if (nr == MICA_SYS_HANDLE_CLOSE && rc == 0) {
		for (int c = 0; c < 2; c++)
			if (a[0] == (uint64_t)(int64_t)child[c])
				renew(c); /* closed: a fresh one (the old goes with its last handle)
				           */
	}
	if (nr == MICA_SYS_ASPACE_DESTROY && rc >= 0) {
		for (int c = 0; c < 2; c++)
			if (a[0] == (uint64_t)(int64_t)child[c])
				renew(c);
	}
	drain();
}

int main(const struct mica_bootinfo *bi)
{
	struct mica_mem_stats st0, st1;
	struct rng r;
	uint64_t calls;

	if (bi->magic != MICA_BOOTINFO_MAGIC || bi->nranges == 0)
		return 2;
	self_as = bi->aspace;
	self_thread = bi->thread;
	devices = bi->devices;
	seed = cmdline_num(bi->cmdline, "kfuzz.seed", 1);
	calls = cmdline_num(bi->cmdline, "kfuzz.calls", 20000);
	r.s = seed;
	frame0 = bi->range[0].start;
	if (bi->range[0].npages < NFRAMES + 16)
		return 3;
	pool_hi = bi->range[bi->nranges - 1].start + bi->range[bi->nranges - 1].npages * PAGE;
	for (unsigned i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++)
		scratch[i] = 0;
	say("kfuzz: seed ");
	say_num((long)seed);
	say(" calls ");
	say_num((long)calls);
	say("\n");

	if (mica_mem_stats(&st0) < 0)
		return 4;
	int64_t h = mica_endpoint_create();

	if (h < 0)
		return 5;
	ep = (mica_handle_t)h;
	for (int c = 0; c < 2; c++) {
		h = mica_aspace_create(self_as);
		if (h < 0)
			return 6;
		child[c] = (mica_handle_t)h;
		note(h, K_ASPACE);
	}
	for (uint64_t i = 0; i < calls; i++)
		one(&r, i);
	result("kfuzz.calls", failures ? "bad results" : 0, failures);
	say("kfuzz: succeeded: map ");
	say_num((long)ok[MICA_SYS_MAP]);
	say(" unmap ");
	say_num((long)ok[MICA_SYS_UNMAP]);
	say(" grant ");
	say_num((long)ok[MICA_SYS_GRANT]);
	say(" aspace_create ");
	say_num((long)ok[MICA_SYS_ASPACE_CREATE]);
	say(" aspace_destroy ");
	say_num((long)ok[MICA_SYS_ASPACE_DESTROY]);
	say(" thread_create ");
	say_num((long)ok[MICA_SYS_THREAD_CREATE]);
	say(" thread_kill ");
	say_num((long)ok[MICA_SYS_THREAD_KILL]);
	say(" handle_give ");
	say_num((long)ok[MICA_SYS_HANDLE_GIVE]);
	say(" irq_create ");
	say_num((long)ok[MICA_SYS_IRQ_CREATE]);
	say(" irq_bind ");
	say_num((long)ok[MICA_SYS_IRQ_BIND]);
	say(" ioport_create ");
	say_num((long)ok[MICA_SYS_IOPORT_CREATE]);
	say(" notify_signal ");
	say_num((long)ok[MICA_SYS_NOTIFY_SIGNAL]);
	say("\n");

	/* Everything back: the children destroyed, every handle closed, the threads gone. */
	for (int k = 0; k < HMAX; k++)
		if (live[k] == K_ASPACE)
			empty((uint64_t)k);
	for (int k = 0; k < HMAX; k++)
		if (live[k] && k != self_as && k != self_thread && k != ep)
			mica_handle_close(k);
	for (int k = 0; k < 1000; k++) {
		drain();
		mica_yield();
	}
	mica_handle_close(ep);
	int diff = 1;

	for (int k = 0; k < 2000 && diff; k++) {
		mica_yield();
		mica_mem_stats(&st1);
		diff = st1.pool_mapped != st0.pool_mapped || st1.mappings != st0.mappings ||
		       st1.page_tables != st0.page_tables || st1.objects != st0.objects ||
		       st1.reserve_free != st0.reserve_free;
	}
	if (diff) {
		say("kfuzz: objects ");
		say_num((long)st0.objects);
		say(" -> ");
		say_num((long)st1.objects);
		say(", tables ");
		say_num((long)st0.page_tables);
		say(" -> ");
		say_num((long)st1.page_tables);
		say(", mappings ");
		say_num((long)st0.mappings);
		say(" -> ");
		say_num((long)st1.mappings);
		say(", reserve_free ");
		say_num((long)st0.reserve_free);
		say(" -> ");
		say_num((long)st1.reserve_free);
		say("\n");
	}
	result("kfuzz.frames", diff ? "counts differ" : 0, diff);
	return failures || diff ? 1 : 0;
}
