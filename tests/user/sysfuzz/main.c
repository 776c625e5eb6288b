/*
 * The system-call fuzzer (docs/TESTING.md): random system calls from a seed,
 * with edge-case arguments (0, -1, the null page, read-only text, the
 * kernel half, the direct map, non-canonical and top-of-user addresses,
 * page-straddling and unbacked buffers, huge lengths, live, stale, random
 * and out-of-range handles, bad IPC descriptors and transfer modes), from
 * this process and from children it spawns through the pager, which fuzz
 * at the same time and end in chosen ways (exit, thread_exit, a fault, an
 * invalid opcode). Every result must be a success or one of the errors
 * docs/ABI.md lists for that call. After: the pager, the name service and
 * kv still answer, and the frame counts are those at the start.
 *
 * Arguments: seed=<n> calls=<n> (this process's own calls; each child
 * makes calls/8), children=<n> (default 4), trace=<i> (print every call
 * from index i on, to find the one a kernel panic followed), and `child
 * end=<how>` for the children. The sequence of calls depends only on the
 * seed: a failure prints the seed and the call's index, and the same seed
 * gives the same calls again (make fuzz SEED=<n> CALLS=<n>).
 *
 * The fuzzer never makes a call that would end or hang itself by design:
 * no thread_exit here, no handle_close or move of its pager and names
 * handles, no blocking send/call on its own endpoints nor blocking receive
 * where it holds the receive right; and to servers only labels that cannot
 * take its memory away (no brk, map, unmap, give, kill, spawn, kv put).
 */
#include <idl/kv_client.h>
#include <mica/errname.h>
#include <mica/fault.h>
#include <mica/idl.h>
#include <stdlib.h>

#include "attack.h"

#define PAGE       4096ULL
#define HMAX       512 /* handle numbers the model follows */
#define NCHILD_MAX 8

static mica_handle_t pager, names, kv = MICA_HANDLE_NONE;
static uint64_t seed, ncalls, trace_from = ~0ULL;
static const char *who = "sysfuzz";
static struct mica_ipc_buffer *own_ipcbuf; /* the runtime's buffer for this thread (or none) */
static uint64_t scr;                       /* 2 pages, backed, read-write; the next page unmapped */
static uint64_t unbacked; /* 1 page of a region never touched: no frame behind it */
static const char rodata_anchor[64] = "read-only";
extern char _end[]; /* user.ld: the end of our image */
static int failures;
static uint64_t handles_made, ipc_to_servers;

/* What this process knows of its own handle table. */
struct hmodel {
	bool live;   /* it holds this number now */
	bool used;   /* it held it once (closed now: a stale number) */
	bool own;    /* an endpoint it made: nobody else receives or answers there */
	bool send;   /* the handle has SEND */
	bool recv;   /* the handle has RECV */
	bool server; /* a server's endpoint (pager, names, kv): calls are answered */
};
static struct hmodel hm[HMAX];

/* Errors docs/ABI.md lists for each call (bit -code). */
#define E(x) (1u << -(MICA_##x))
static const uint32_t allowed[MICA_SYS_COUNT] = {
    [MICA_SYS_DEBUG_WRITE] = E(EINVAL) | E(EFAULT),
    [MICA_SYS_THREAD_EXIT] = 0,
    [MICA_SYS_YIELD] = 0,
    [MICA_SYS_THREAD_CREATE] =
        E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EFAULT) | E(EINVAL) | E(EPERM) | E(ERANGE) | E(ENOMEM),
    [MICA_SYS_ENDPOINT_CREATE] = E(ENOMEM),
    [MICA_SYS_HANDLE_CLOSE] = E(EBADH),
    [MICA_SYS_HANDLE_MINT] = E(EBADH) | E(ERIGHTS) | E(ENOMEM) | E(EINVAL),
    [MICA_SYS_IPC_SEND] = E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_IPC_TRY_SEND] =
        E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EAGAIN) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_IPC_RECV] = E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_IPC_TRY_RECV] =
        E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EAGAIN) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_IPC_CALL] = E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_IPC_REPLY_RECV] =
        E(EBADH) | E(ERIGHTS) | E(EFAULT) | E(EINVAL) | E(EPEER) | E(ETIMEDOUT),
    [MICA_SYS_ASPACE_CREATE] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(ENOMEM),
    [MICA_SYS_ASPACE_DESTROY] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EFAULT) | E(EBUSY),
    [MICA_SYS_MAP] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EPERM) | E(EALIGN) |
                     E(EFRAME) | E(EBUSY) | E(ERANGE) | E(EEXIST) | E(ENOMEM),
    [MICA_SYS_UNMAP] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EALIGN) | E(ERANGE) |
                       E(EFAULT) | E(ENOENT) | E(EBUSY),
    [MICA_SYS_GRANT] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(EINVAL) | E(EALIGN) | E(ERANGE) |
                       E(ENOENT) | E(EBUSY) | E(EEXIST) | E(ENOMEM),
    [MICA_SYS_DONATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EALIGN) | E(EFRAME) | E(EBUSY),
    [MICA_SYS_MEM_STATS] = E(EFAULT),
    [MICA_SYS_THREAD_KILL] = E(EBADH) | E(ERIGHTS) | E(EPEER),
    [MICA_SYS_HANDLE_GIVE] = E(EBADH) | E(ERIGHTS) | E(EPEER) | E(ENOMEM),
    [MICA_SYS_CLOCK] = 0,
    [MICA_SYS_SLEEP] = E(EINVAL),
    [MICA_SYS_NOTIFY_CREATE] = E(ENOMEM),
    [MICA_SYS_NOTIFY_SIGNAL] = E(EBADH) | E(ERIGHTS) | E(EINVAL),
    [MICA_SYS_NOTIFY_WAIT] = E(EBADH) | E(ERIGHTS),
    [MICA_SYS_NOTIFY_POLL] = E(EBADH) | E(ERIGHTS),
    [MICA_SYS_NOTIFY_BIND] = E(EBADH) | E(ERIGHTS) | E(EBUSY),
    [MICA_SYS_IRQ_CREATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(EBUSY) | E(ENOMEM),
    [MICA_SYS_IRQ_BIND] = E(EBADH) | E(ERIGHTS),
    [MICA_SYS_IRQ_ACK] = E(EBADH) | E(ERIGHTS) | E(EINVAL),
    [MICA_SYS_IOPORT_CREATE] = E(EBADH) | E(ERIGHTS) | E(EINVAL) | E(ERANGE) | E(EBUSY) | E(ENOMEM),
    [MICA_SYS_IOPORT_ENABLE] = E(EBADH) | E(ENOMEM),
    [MICA_SYS_TRACE] = E(EBADH) | E(ERIGHTS), /* it holds no device authority */
    [MICA_SYS_IPC_BUFFER_SET] = E(EALIGN) | E(ERANGE) | E(EFAULT),
};
#undef E

/* A function in the text segment: its address is mapped, read and execute only. */
__attribute__((noinline)) static void text_anchor(void)
{
	__asm__ volatile("");
}

/* Is [p, p + n) inside the scratch pages (no wrap)? */
static bool in_scratch(uint64_t p, uint64_t n)
{
	return p >= scr && p <= scr + 2 * PAGE && n <= scr + 2 * PAGE - p;
}

/* Did the last pick_ptr give an address in this program's own readable memory? */
static bool ptr_readable;

/* An address of any kind (every class of bad pointer, and good ones). */
static uint64_t pick_ptr(struct rng *r)
{
	uint64_t k = rng_below(r, 18);

	ptr_readable = k >= 3 && k <= 9;
	switch (k) {
	case 0:
		return 0;
	case 1:
		return 1 + rng_below(r, PAGE - 1); /* the null page */
	case 2:
		return ~0ULL - rng_below(r, 64);
	case 3:
		return (uint64_t)&text_anchor + rng_below(r, 64); /* read and execute only */
	case 4:
		return (uint64_t)rodata_anchor + rng_below(r, 64); /* read only */
	case 5:
	case 6:
	case 7:
	case 8:
		return scr + rng_below(r, 2 * PAGE); /* valid, often page-straddling */
	case 9:
		return scr + 2 * PAGE - 1 - rng_below(r, 64); /* runs into the unmapped page */
	case 10:
		return unbacked + rng_below(r, PAGE); /* a region with no frame yet */
	case 11:
		return MICA_USER_TOP - rng_below(r, 64); /* top of the user half */
	case 12:
		return 0x00007FFFFFFFFFF8ULL + rng_below(r, 16); /* straddles non-canonical */
	case 13:
		return 0x0000800000000000ULL + (rng_next(r) & 0x00007FFFFFFFFFFFULL); /* hole */
	case 14:
		return MICA_DIRECT_MAP_BASE + rng_below(r, 128ULL << 20); /* RAM, kernel-only */
	case 15:
		return MICA_KERNEL_VBASE + rng_below(r, 8ULL << 20); /* the kernel image */
	case 16:
		return rng_below(r, MICA_USER_BASE); /* below the first user page */
	default:
		return rng_next(r);
	}
}

static uint64_t pick_len(struct rng *r)
{
	static const uint64_t edge[] = {0,          1,          7,
	                                8,          4095,       4096,
	                                4097,       8192,       0x7FFFFFFF,
	                                0x80000000, 0xFFFFFFFF, 0x100000000ULL,
	                                ~0ULL,      1ULL << 63, 0x100000008ULL};

	switch (rng_below(r, 4)) {
	case 0:
	case 1:
		return rng_below(r, 4097);
	case 2:
		return RNG_PICK(r, edge);
	default:
		return rng_next(r) >> rng_below(r, 64);
	}
}

/* A word of any kind: edge values, addresses, small numbers, random bits. */
static uint64_t pick_word(struct rng *r)
{
	static const uint64_t edge[] = {0,
	                                1,
	                                ~0ULL,
	                                0x7FFFFFFFFFFFFFFFULL,
	                                1ULL << 63,
	                                0xFFFFFFFFULL,
	                                0x80000000ULL,
	                                PAGE,
	                                MICA_USER_BASE,
	                                MICA_USER_TOP,
	                                MICA_DIRECT_MAP_BASE,
	                                MICA_KERNEL_VBASE,
	                                MICA_MAP_MAX_PAGES,
	                                MICA_MAP_MAX_PAGES + 1,
	                                31,
	                                32};

	switch (rng_below(r, 5)) {
	case 0:
		return RNG_PICK(r, edge);
	case 1:
		return rng_below(r, 64);
	case 2:
		return pick_ptr(r);
	case 3:
		return rng_next(r) & ~(PAGE - 1);
	default:
		return rng_next(r);
	}
}

/* Any handle value: live, stale, the servers', NONE, random, out of range. */
static uint64_t pick_handle(struct rng *r)
{
	switch (rng_below(r, 10)) {
	case 0:
	case 1:
	case 2: {
		/* a live one, if there is one near a random number */
		uint64_t start = rng_below(r, HMAX);

		for (uint64_t i = 0; i < HMAX; i++)
			if (hm[(start + i) % HMAX].live)
				return (start + i) % HMAX;
		return 0;
	}
	case 3: {
		uint64_t start = rng_below(r, HMAX);

		for (uint64_t i = 0; i < HMAX; i++)
			if (hm[(start + i) % HMAX].used && !hm[(start + i) % HMAX].live)
				return (start + i) % HMAX; /* stale */
		return HMAX - 1;
	}
	case 4:
		return (uint64_t)(int64_t)(rng_below(r, 2) ? pager : names);
	case 5:
		return (uint64_t)(int64_t)MICA_HANDLE_NONE;
	case 6:
		return rng_below(r, 300);
	case 7:
		return (uint64_t)(int64_t)(int32_t)rng_next(r);
	case 8:
		return RNG_PICK(r, ((const uint64_t[]){0x7FFFFFFF, 0x80000000ULL, 0xFFFFFFFFULL,
		                                       0x100000000ULL, ~0ULL - 1, 1ULL << 63}));
	default:
		return rng_next(r);
	}
}

/* The model's entry for handle value v, or NULL if it names no slot the model follows. */
static struct hmodel *model(uint64_t v)
{
	return v < HMAX ? &hm[v] : NULL;
}

static bool is_protected(uint64_t v)
{
	return v == (uint64_t)(int64_t)pager || v == (uint64_t)(int64_t)names;
}

/*
 * Would a blocking IPC call `nr` on handle v wait for ever? Yes on an own
 * endpoint this process holds the right for (nobody else is there), and
 * on receiving from any endpoint it may receive from.
 */
static bool would_block(uint64_t nr, uint64_t v)
{
	struct hmodel *m = model(v);

	if (!m || !m->live)
		return false; /* not a handle: EBADH */
	bool sends = nr == MICA_SYS_IPC_SEND || nr == MICA_SYS_IPC_CALL;

	if (sends)
		return m->send && !m->server;
	return m->recv; /* recv, reply_recv */
}

/* A label: random, the kernel's own, or a server method (only those that cannot hurt us). */
static uint64_t pick_label(struct rng *r)
{
	/* pager: wait, stats, free_blocks, regions, set_names, module_read, unknown ones */
	static const uint16_t pager_m[] = {0, 6, 7, 8, 11, 13, 14, 15, 99, 0xFFFF};
	static const uint16_t names_m[] = {0, 1, 2, 3, 4, 0xFFFF};
	static const uint16_t kv_m[] = {0, 2, 3, 4, 5, 0xFFFF};

	switch (rng_below(r, 8)) {
	case 0:
		return MICA_IDL_LABEL(1, RNG_PICK(r, pager_m));
	case 1:
		return MICA_IDL_LABEL(2, RNG_PICK(r, names_m));
	case 2:
		return MICA_IDL_LABEL(3, RNG_PICK(r, kv_m));
	case 3:
		return MICA_LABEL_KERNEL + rng_below(r, 4); /* refused: EINVAL */
	case 4:
		return rng_below(r, 0x10000); /* not IDL */
	case 5:
		return MICA_IDL_LABEL(4 + rng_below(r, 100),
		                      rng_below(r, 20)); /* no such interface */
	case 6:
		return (uint64_t)(uint32_t)rng_next(r);
	default:
		return rng_next(r) | (rng_below(r, 2) ? 0 : MICA_LABEL_KERNEL);
	}
}

/*
 * Is a label safe for a server reached through handle v? Anything goes to
 * an own endpoint; to pager/names/kv only what pick_label offers by name,
 * and random labels that are no method of theirs.
 */
static bool label_safe(uint64_t label)
{
	uint64_t iface = label >> 16, method = label & 0xFFFF;

	if (label >= MICA_LABEL_KERNEL || iface == 0 || iface > 3)
		return true;
	if (iface == 1)
		return method == 0 || method == 6 || method == 7 || method == 8 || method == 11 ||
		       method == 13 || method == 14 || method > 14;
	if (iface == 3)
		return method != 1; /* no kv put: the store is shared */
	return true;
}

/* Note a handle the kernel gave us (new endpoint, mint, or received in a message). */
static void got_handle(int64_t h, bool own, bool send, bool recv, bool server)
{
	struct hmodel *m = model((uint64_t)h);

	if (h < 0)
		return;
	if (!m) {
		/*
		 * The table grows past what the model follows (docs/ABI.md,
		 * "Handles"): a real handle, closed at once so the model stays
		 * whole and every object goes.
		 */
		if (mica_handle_close((mica_handle_t)h) != 0) {
			printf("%s: seed %lu: handle %ld beyond the model does not close\n", who,
			       (unsigned long)seed, (long)h);
			failures++;
		}
		handles_made++;
		return;
	}
	*m = (struct hmodel){
	    .live = true, .used = true, .own = own, .send = send, .recv = recv, .server = server};
	handles_made++;
}

/*
 * A handle we may have lost (moved in a message that may or may not have
 * gone out): ask the kernel. try_recv without a descriptor says EBADH for
 * no handle, ERIGHTS for one without RECV, anything else for one with it.
 */
static void recheck(uint64_t v)
{
	struct hmodel *m = model(v);

	if (!m || !m->live)
		return;
	struct mica_msg msg = {0};
	int64_t rc = mica_try_recv((mica_handle_t)v, &msg, NULL, NULL);

	/* Not an endpoint: a notification (poll says so) is still there. */
	if (rc == MICA_EBADH && mica_notify_poll((mica_handle_t)v) == MICA_EBADH)
		m->live = false;
}

/*
 * Would descriptor x move the pager or names handle away? The kernel
 * moves x->send_handle with MICA_XFER_MOVE: then we would go on calling a
 * slot that names something else, or nothing (the old seed-19 hang:
 * docs/TESTING.md).
 */
static bool moves_protected(const struct mica_ipc_extra *x)
{
	return x->send_handle != MICA_HANDLE_NONE && x->send_xfer == MICA_XFER_MOVE &&
	       is_protected((uint64_t)(int64_t)x->send_handle);
}

/*
 * Make descriptor x, in our scratch pages, one the model can follow: it
 * moves no protected handle, its sent handle is rechecked after the call
 * (*sent), and a recv_handle left there from before is not read as new.
 * A descriptor "anywhere" that lands in scratch holds what earlier calls
 * left, which may be just such a move.
 */
static void guard(struct mica_ipc_extra *x, uint64_t *sent)
{
	if (moves_protected(x))
		x->send_handle = MICA_HANDLE_NONE;
	*sent = (uint64_t)(int64_t)x->send_handle;
	if (x->recv_handle >= 0 && model((uint64_t)x->recv_handle) && hm[x->recv_handle].live)
		x->recv_handle = -1; /* so a stale value is not read as new */
}

/* Failure: print what reproduces it. */
static void bad_result(uint64_t i, uint64_t nr, const uint64_t *a, int64_t rc)
{
	printf("%s: seed %lu call %lu: nr %lu (%lx %lx %lx %lx %lx %lx) -> %ld, not a documented "
	       "result\n",
	       who, (unsigned long)seed, (unsigned long)i, (unsigned long)nr, (unsigned long)a[0],
	       (unsigned long)a[1], (unsigned long)a[2], (unsigned long)a[3], (unsigned long)a[4],
	       (unsigned long)a[5], (long)rc);
	failures++;
}

/* One IPC call with random registers and maybe a random descriptor. */
static int64_t fuzz_ipc(struct rng *r, uint64_t nr, uint64_t h, uint64_t *a)
{
	struct mica_msg m;
	struct mica_ipc_extra *x = NULL;
	uint64_t xp = 0;
	uint64_t sent_handle = ~0ULL;

	do
		m.label = pick_label(r);
	while (!label_safe(m.label));
	for (int k = 0; k < MICA_MSG_WORDS; k++)
		m.w[k] = pick_word(r);
	switch (rng_below(r, 4)) {
	case 0:
		break;
	case 1:
		xp = pick_ptr(r); /* a descriptor anywhere */
		if (in_scratch(xp, sizeof(*x)))
			x = (struct mica_ipc_extra *)xp; /* what earlier calls left: guarded */
		else if (xp >= MICA_USER_BASE && xp <= (uint64_t)_end - sizeof(*x) &&
		         moves_protected((const struct mica_ipc_extra *)xp))
			xp = 0; /* read-only bytes of our image that would move one away */
		break;
	default:
		/* a descriptor in the scratch pages, any alignment, maybe straddling */
		xp = scr + rng_below(r, 2 * PAGE - 8);
		if (in_scratch(xp, sizeof(*x))) {
			x = (struct mica_ipc_extra *)xp;
			x->send_buf = pick_ptr(r);
			x->send_len = (uint32_t)pick_len(r);
			x->send_handle =
			    rng_below(r, 3) ? MICA_HANDLE_NONE : (int32_t)pick_handle(r);
			x->send_xfer = (uint32_t)RNG_PICK(
			    r, ((const uint64_t[]){MICA_XFER_COPY, MICA_XFER_MOVE, 2, 0xFFFFFFFF}));
			x->recv_cap = (uint32_t)pick_len(r);
			x->recv_buf = pick_ptr(r);
			x->recv_len = (uint32_t)rng_next(r);
			x->recv_handle = (int32_t)rng_next(r);
		}
		break;
	}
	if (x)
		guard(x, &sent_handle);
	a[1] = m.label;
	a[2] = m.w[0];
	a[5] = xp;
	int64_t rc = mica_ipc(nr, (mica_handle_t)h, &m, (struct mica_ipc_extra *)xp, NULL);

	if (h == (uint64_t)(int64_t)pager || h == (uint64_t)(int64_t)names ||
	    (model(h) && hm[h].server))
		ipc_to_servers++;
	if (x && sent_handle != (uint64_t)(int64_t)MICA_HANDLE_NONE)
		recheck(sent_handle);
	/* Did something hand us a handle? (a reply, or a message we received) */
	if (x && rc == 0 && x->recv_handle >= 0 && model((uint64_t)x->recv_handle) &&
	    !hm[x->recv_handle].live && !is_protected((uint64_t)x->recv_handle)) {
		int32_t nh = x->recv_handle;
		struct mica_msg probe = {0};
		/* Its rights: try_recv says ERIGHTS without RECV; we never block on it. */
		int64_t pr = mica_try_recv(nh, &probe, NULL, NULL);

		/*
		 * Not a server we trust to answer: names.lookup may return an endpoint a
		 * process registered and nobody receives on (ours, or a dead child's).
		 */
		got_handle(nh, false, true, pr != MICA_ERIGHTS, false);
	}
	return rc;
}

/* Make call number i of the sequence. */
static void fuzz_one(struct rng *r, uint64_t i)
{
	uint64_t nr, a[6];
	int64_t rc;

	/* Mostly real calls, some numbers past the table. */
	switch (rng_below(r, 40)) {
	case 0:
		nr = MICA_SYS_COUNT + rng_below(r, 300);
		break;
	case 1:
		nr = RNG_PICK(r, ((const uint64_t[]){~0ULL, 1ULL << 32, (1ULL << 32) + 2,
		                                     0x80000000ULL, 1ULL << 63}));
		break;
	default:
		nr = rng_below(r, MICA_SYS_COUNT);
	}
	for (int k = 0; k < 6; k++)
		a[k] = pick_word(r);

	switch (nr) {
	case MICA_SYS_THREAD_EXIT:
		nr = MICA_SYS_YIELD; /* ends us: only children do it, on purpose */
		break;
	case MICA_SYS_DEBUG_WRITE:
		a[0] = pick_ptr(r);
		a[1] = pick_len(r);
		/* Readable bytes would print noise: then only lengths the kernel must refuse. */
		if (ptr_readable && a[1] <= MICA_DEBUG_WRITE_MAX)
			a[1] = rng_below(r, 2) ? 0 : MICA_DEBUG_WRITE_MAX + 1 + rng_below(r, 100);
		break;
	case MICA_SYS_THREAD_CREATE: {
		a[0] = pick_handle(r);
		a[1] = pick_ptr(r);
		if (in_scratch(a[1], sizeof(struct mica_thread_params))) {
			struct mica_thread_params *p = (struct mica_thread_params *)a[1];

			p->entry = pick_ptr(r);
			p->stack_top = pick_ptr(r);
			p->arg = pick_word(r);
			p->priority = (uint32_t)rng_below(r, 40);
			p->max_priority = (uint32_t)rng_below(r, 40);
			p->pager = (int32_t)pick_handle(r);
			p->supervisor = (int32_t)pick_handle(r);
		}
		break;
	}
	case MICA_SYS_HANDLE_CLOSE:
	case MICA_SYS_HANDLE_MINT:
		a[0] = pick_handle(r);
		if (nr == MICA_SYS_HANDLE_CLOSE && is_protected(a[0]))
			a[0] = (uint64_t)(int64_t)MICA_HANDLE_NONE;
		if (nr == MICA_SYS_HANDLE_MINT) {
			a[1] = rng_below(r, 2) ? rng_below(r, 32) : pick_word(r);
			a[2] = rng_below(r, 2) ? 0 : pick_word(r);
		}
		break;
	case MICA_SYS_IPC_SEND:
	case MICA_SYS_IPC_TRY_SEND:
	case MICA_SYS_IPC_RECV:
	case MICA_SYS_IPC_TRY_RECV:
	case MICA_SYS_IPC_CALL:
	case MICA_SYS_IPC_REPLY_RECV:
		a[0] = pick_handle(r);
		break;
	case MICA_SYS_ASPACE_CREATE:
	case MICA_SYS_ASPACE_DESTROY:
	case MICA_SYS_MAP:
	case MICA_SYS_UNMAP:
	case MICA_SYS_DONATE:
	case MICA_SYS_THREAD_KILL:
	case MICA_SYS_HANDLE_GIVE:
		a[0] = pick_handle(r);
		if (nr == MICA_SYS_ASPACE_DESTROY)
			a[1] = pick_ptr(r);
		if (nr == MICA_SYS_UNMAP)
			a[3] = pick_ptr(r);
		if (nr == MICA_SYS_HANDLE_GIVE)
			a[1] = pick_handle(r);
		break;
	case MICA_SYS_GRANT:
		a[0] = pick_handle(r);
		a[2] = pick_handle(r);
		break;
	case MICA_SYS_MEM_STATS:
		a[0] = pick_ptr(r);
		break;
	case MICA_SYS_NOTIFY_WAIT:
	case MICA_SYS_NOTIFY_BIND:
		/* A wait could last for ever, and a binding would turn our receives into
		 * notifications: poll instead. */
		nr = MICA_SYS_NOTIFY_POLL;
		a[0] = pick_handle(r);
		break;
	case MICA_SYS_NOTIFY_SIGNAL:
	case MICA_SYS_NOTIFY_POLL:
	case MICA_SYS_IRQ_CREATE:
	case MICA_SYS_IRQ_BIND:
	case MICA_SYS_IRQ_ACK:
	case MICA_SYS_IOPORT_CREATE:
	case MICA_SYS_IOPORT_ENABLE:
		a[0] = pick_handle(r);
		if (nr == MICA_SYS_IRQ_BIND)
			a[1] = pick_handle(r);
		break;
	case MICA_SYS_IPC_BUFFER_SET:
		/* The kernel writes a page it accepts (its `self`): only scratch pages may be. */
		a[0] = pick_ptr(r);
		if (!(a[0] & (MICA_PAGE_SIZE - 1)) && a[0] && !in_scratch(a[0], MICA_PAGE_SIZE))
			a[0] += 8;
		break;
	case MICA_SYS_SLEEP:
		/* Past the limit (EINVAL), or none at all: a random length could sleep for years.
		 */
		a[0] = rng_below(r, 4) ? MICA_TIMEOUT_MAX + 1 + (rng_next(r) >> 2) : 0;
		break;
	default:
		break;
	}

	bool is_ipc = nr >= MICA_SYS_IPC_SEND && nr <= MICA_SYS_IPC_REPLY_RECV;

	if (i >= trace_from)
		printf("%s: seed %lu call %lu: nr %lu a0 %lx\n", who, (unsigned long)seed,
		       (unsigned long)i, (unsigned long)nr, (unsigned long)a[0]);
	if (is_ipc) {
		bool blocking = nr == MICA_SYS_IPC_SEND || nr == MICA_SYS_IPC_RECV ||
		                nr == MICA_SYS_IPC_CALL || nr == MICA_SYS_IPC_REPLY_RECV;

		if (blocking && would_block(nr, a[0]))
			nr =
			    nr == MICA_SYS_IPC_SEND ? MICA_SYS_IPC_TRY_SEND : MICA_SYS_IPC_TRY_RECV;
		rc = fuzz_ipc(r, nr, a[0], a);
	} else {
		rc = mica_syscall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}

	/* Check the result, then follow what it did to our handle table. */
	if (nr >= MICA_SYS_COUNT) {
		if (rc != MICA_ENOSYS)
			bad_result(i, nr, a, rc);
		return;
	}
	if (rc < 0) {
		if (rc < MICA_ETIMEDOUT || !(allowed[nr] & (1u << -rc)))
			bad_result(i, nr, a, rc);
		return;
	}
	switch (nr) {
	case MICA_SYS_IPC_BUFFER_SET:
		/* A scratch page (or none) is this thread's buffer now: its own back. */
		if ((rc = mica_ipc_buffer_set(own_ipcbuf)) != 0)
			bad_result(i, nr, a, rc);
		break;
	case MICA_SYS_ENDPOINT_CREATE:
		got_handle(rc, true, true, true, false);
		break;
	case MICA_SYS_NOTIFY_CREATE:
		got_handle(rc, true, false, false, false); /* not an endpoint: IPC on it fails */
		break;
	case MICA_SYS_NOTIFY_POLL:
		break; /* the bits signalled, any value */
	case MICA_SYS_HANDLE_MINT: {
		struct hmodel *src = model(a[0]);
		bool srv = src ? src->server : is_protected(a[0]);
		bool own = src ? src->own : false;
		bool send = (src ? src->send : true) && (a[1] & MICA_RIGHT_SEND);
		bool recv = (src ? src->recv : false) && (a[1] & MICA_RIGHT_RECV);

		if (is_protected(a[0]))
			srv = true, own = false, send = a[1] & MICA_RIGHT_SEND, recv = false;
		got_handle(rc, own, send, recv, srv);
		break;
	}
	case MICA_SYS_HANDLE_CLOSE:
		if (model(a[0]))
			hm[a[0]].live = false;
		break;
	case MICA_SYS_DEBUG_WRITE:
		if ((uint64_t)rc != a[1])
			bad_result(i, nr, a, rc);
		break;
	default:
		if (rc > 0 && nr != MICA_SYS_IPC_TRY_RECV && nr != MICA_SYS_IPC_RECV &&
		    nr != MICA_SYS_IPC_REPLY_RECV && nr != MICA_SYS_CLOCK && !is_ipc)
			bad_result(i, nr, a, rc); /* nothing else returns a positive value */
		break;
	}
}

/* How children end, by their index. */
static const char *const ends[] = {"exit", "thread_exit", "fault", "ud2", "kernel_read"};

static void child_end(const char *how)
{
	uint64_t null_page = 16, kernel = MICA_KERNEL_VBASE;

	__asm__ volatile(""
	                 : "+r"(null_page), "+r"(kernel)); /* addresses the compiler cannot see */
	if (strcmp(how, "thread_exit") == 0)
		mica_thread_exit(77);
	if (strcmp(how, "fault") == 0)
		*(volatile uint64_t *)null_page = 1; /* the null page: the pager kills us */
	if (strcmp(how, "ud2") == 0)
		__asm__ volatile("ud2");
	if (strcmp(how, "kernel_read") == 0)
		(void)*(volatile uint64_t *)kernel; /* a protection fault on a kernel page */
	exit(0);
}

/* Did a child that ended as `how` end as it should? */
static bool child_end_ok(const char *how, uint32_t reason, uint64_t code)
{
	if (strcmp(how, "exit") == 0)
		return reason == MICA_EXIT_NORMAL && code == 0;
	if (strcmp(how, "thread_exit") == 0)
		return reason == MICA_EXIT_NORMAL && code == 77;
	if (strcmp(how, "fault") == 0)
		return reason == MICA_EXIT_PAGER && code == MICA_PAGER_KILL_UNMAPPED;
	if (strcmp(how, "ud2") == 0)
		return reason == MICA_EXIT_FAULT && code == 6;
	/* A user read of a kernel page: a page fault the pager refuses, or #GP/#PF outright. */
	return reason == MICA_EXIT_PAGER || reason == MICA_EXIT_FAULT;
}

/* Close every handle we made or got (not the pager's and the name service's). */
static void close_all(void)
{
	for (uint64_t h = 0; h < HMAX; h++)
		if (hm[h].live && !is_protected(h)) {
			mica_handle_close((mica_handle_t)h);
			hm[h].live = false;
		}
}

/* The servers still answer: pager stats, a names lookup, a kv call. */
static int health(void)
{
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u;
	mica_handle_t k = MICA_HANDLE_NONE;
	uint32_t n;
	int rc = pager_stats(pager, &f, &t, &l, &d, &u);

	if (rc < 0) {
		printf("%s: pager.stats: error %s\n", who, mica_error_name(rc));
		return 1;
	}
	if ((rc = names_lookup(names, "kv", &k)) < 0) {
		printf("%s: names.lookup kv: error %s\n", who, mica_error_name(rc));
		return 1;
	}
	rc = kv_count(k, &n);
	mica_handle_close(k);
	if (rc < 0) {
		printf("%s: kv.count: error %s\n", who, mica_error_name(rc));
		return 1;
	}
	return 0;
}

/*
 * The plant: a descriptor left in scratch that moves our pager handle, as
 * one a "descriptor anywhere" call can land on, goes with a call to the
 * name service (an unknown method: init drops any handle it is sent).
 * Guarded, the pager handle stays ours and the pager answers after;
 * unguarded it would be gone. 0, or what went wrong.
 */
static int plant(void)
{
	struct mica_ipc_extra *x = (struct mica_ipc_extra *)scr;
	struct mica_msg m = {.label = MICA_IDL_LABEL(2, 0x7777)};
	uint64_t sent;
	uint64_t f, t, d;
	int32_t l;
	struct pager_usage u;

	if (names == MICA_HANDLE_NONE)
		return 0;
	memset(x, 0, sizeof(*x));
	x->send_handle = pager;
	x->send_xfer = MICA_XFER_MOVE;
	x->recv_handle = MICA_HANDLE_NONE;
	guard(x, &sent);
	int64_t rc = mica_ipc(MICA_SYS_IPC_CALL, names, &m, x, NULL);

	if (rc != 0)
		return (int)rc;
	return pager_stats(pager, &f, &t, &l, &d, &u);
}

static void result(const char *id, bool ok, const char *why, long detail)
{
	if (ok)
		printf("TEST fuzz.%s PASS\n", id);
	else
		printf("TEST fuzz.%s FAIL %s %ld (seed %lu)\n", id, why, detail,
		       (unsigned long)seed);
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	bool child = arg_has(argc, argv, "child");
	uint64_t nchildren = arg_num(argc, argv, "children", 5);
	struct rng rng;
	struct counts start;
	uint64_t at = 0;

	own_ipcbuf = ipc_buffers_on() ? mica_ipc_buffer() : 0;
	int rc;

	/* Direct output: a console handle would be one the model does not know,
	 * and our random closes and creations could reuse its number. */
	rt_stdout_direct();
	if (!st)
		return 2;
	pager = st->pager;
	names = rt_names_handle();
	seed = arg_num(argc, argv, "seed", 1);
	ncalls = arg_num(argc, argv, "calls", 1000);
	trace_from = arg_num(argc, argv, "trace", ~0ULL);
	if (nchildren > NCHILD_MAX)
		nchildren = NCHILD_MAX;
	if (child)
		who = "sysfuzz-child";
	rng.s = seed;
	if (!child)
		printf("sysfuzz: seed %lu calls %lu children %lu\n", (unsigned long)seed,
		       (unsigned long)ncalls, (unsigned long)nchildren);
	memset(hm, 0, sizeof(hm)); /* backed now, not during the count */
	hm[pager] = (struct hmodel){.live = true, .used = true, .send = true, .server = true};
	if (names != MICA_HANDLE_NONE)
		hm[names] =
		    (struct hmodel){.live = true, .used = true, .send = true, .server = true};
	/* The scratch pages, and a page never backed. */
	if ((rc = pager_map(pager, 0, 3, MICA_MAP_READ | MICA_MAP_WRITE, MICA_PAGER_MAP_FILL,
	                    &scr)) < 0 ||
	    (rc = pager_unmap(pager, scr)) < 0 ||
	    (rc = pager_map(pager, scr, 2, MICA_MAP_READ | MICA_MAP_WRITE,
	                    MICA_PAGER_MAP_FIXED | MICA_PAGER_MAP_FILL, &at)) < 0 ||
	    (rc = pager_map(pager, scr + 64 * PAGE, 1, MICA_MAP_READ | MICA_MAP_WRITE, 0,
	                    &unbacked)) < 0) {
		printf("%s: scratch: error %s\n", who, mica_error_name(rc));
		return 4;
	}
	if (names != MICA_HANDLE_NONE && names_lookup(names, "kv", &kv) == 0)
		got_handle(kv, false, true, false, true);
	int planted = child ? 0 : plant();

	/* The counts to come back to, once every path the end takes has run once. */
	if (!child && (health() != 0 || counts_take(pager, &start) < 0)) {
		printf("sysfuzz: no counts\n");
		return 3;
	}

	/* Children fuzz at the same time, each with its own seed, and end in a chosen way. */
	uint64_t pids[NCHILD_MAX] = {0};

	for (uint64_t c = 0; !child && c < nchildren; c++) {
		char args[120];
		struct rng cr = {seed + c + 1};

		snprintf(args, sizeof(args), "child seed=%lu calls=%lu end=%lu",
		         (unsigned long)rng_next(&cr), (unsigned long)(ncalls / 8),
		         (unsigned long)(c % (sizeof(ends) / sizeof(ends[0]))));
		if ((rc = pager_spawn(pager, "sysfuzz.elf", args, &pids[c])) < 0) {
			printf("sysfuzz: spawn: error %s\n", mica_error_name(rc));
			failures++;
		}
	}

	for (uint64_t i = 0; i < ncalls; i++) {
		fuzz_one(&rng, i);
		if (!child && (i + 1) % 25000 == 0)
			printf("sysfuzz: seed %lu: %lu calls\n", (unsigned long)seed,
			       (unsigned long)(i + 1));
	}
	if (!child)
		printf("sysfuzz: seed %lu: calls done\n", (unsigned long)seed);
	close_all();
	if (child) {
		if (failures)
			exit(1);
		child_end(ends[arg_num(argc, argv, "end", 0) % (sizeof(ends) / sizeof(ends[0]))]);
	}

	/* The children's ends. (Our own handles are closed: kv's comes back for the count.) */
	if (names != MICA_HANDLE_NONE && names_lookup(names, "kv", &kv) == 0)
		got_handle(kv, false, true, false, true);
	printf("sysfuzz: seed %lu: the name service answered\n", (unsigned long)seed);
	int child_bad = 0;

	for (uint64_t c = 0; c < nchildren; c++) {
		uint32_t reason = 99;
		uint64_t code = 99;
		const char *how = ends[c % (sizeof(ends) / sizeof(ends[0]))];

		if (!pids[c])
			continue;
		/* Bounded: a child the pager never reports ended is a failure, not a hang. */
		rc = MICA_EAGAIN;
		for (int k = 0; k < 200000 && rc == MICA_EAGAIN; k++) {
			rc = pager_wait(pager, pids[c], &reason, &code);
			if (rc == MICA_EAGAIN)
				mica_yield();
		}
		if (rc < 0 || !child_end_ok(how, reason, code)) {
			printf("sysfuzz: child %lu (%s) ended: rc %d reason %u code %lu\n",
			       (unsigned long)c, how, rc, reason, (unsigned long)code);
			child_bad++;
		}
	}
	printf("sysfuzz: seed %lu: children ended\n", (unsigned long)seed);
	result("plant", planted == 0, "the pager handle moved away", planted);
	result("calls", failures == 0, "bad results", failures);
	result("children", child_bad == 0, "children", child_bad);
	rc = health();
	result("health", rc == 0, "a server did not answer", rc);
	int diff = counts_settle(pager, "sysfuzz", &start, 1000);

	result("frames", diff == 0, "counts differ", diff);
	printf(
	    "sysfuzz: seed %lu: %lu calls here, %lu in %lu children, %lu handles made, %lu ipc to "
	    "servers\n",
	    (unsigned long)seed, (unsigned long)ncalls, (unsigned long)(ncalls / 8 * nchildren),
	    (unsigned long)nchildren, (unsigned long)handles_made, (unsigned long)ipc_to_servers);
	return failures || child_bad || rc || diff ? 1 : 0;
}
