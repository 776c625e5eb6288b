/*
 * The IPC fuzzer (docs/TESTING.md): malformed requests to every server
 * interface, the pager's (idl/pager.idl), the name service's
 * (idl/names.idl), kv's (idl/kv.idl) and, when it runs, the file
 * server's (idl/fs.idl). Each server must answer each
 * request (never die, never leave the caller waiting) with an error code
 * (or, for random requests, any documented reply), and serve a valid call
 * after every batch. The classes and the exact answer they must get:
 *
 *   unknown        unknown methods, other interfaces, non-IDL labels: MICA_ENOMETHOD
 *   extra_buffer   a buffer to a method that takes none (1-4096 bytes): MICA_EBADMSG
 *   long_buffer    a buffer longer than the method's strings and arrays: MICA_EBADMSG
 *   short_buffer   string lengths in the words that the buffer does not hold: MICA_EBADMSG
 *   bad_string     a string with no NUL after it, or a NUL inside: MICA_EBADMSG
 *   handle_unasked a handle (copied or moved) to a method that takes none: MICA_EBADMSG
 *   handle_missing no handle to a method that needs one: MICA_EBADMSG
 *   bad_words      integers out of their type's range: MICA_EBADMSG
 *   random         random label, words, buffer and handle: 0 or an error code
 *   reply_cut      valid requests with a small or no receive buffer: the call returns
 *
 * The attacks run in a child (`run` argument); the parent then checks that
 * the servers still answer and that every frame and kernel object is back
 * (a server that kept a handle it was sent would keep an endpoint alive).
 * Arguments: seed=<n>, batch=<n> messages per class and server.
 */
#include <idl/fs_client.h>
#include <idl/kv_client.h>
#include <mica/idl.h>
#include <stdlib.h>

#include "attack.h"

#define PAGE 4096

struct target {
	const char *name;
	mica_handle_t h;
	uint16_t iface;
	uint16_t nmethods;
	uint32_t bufless;      /* methods (bit n) whose request has no buffer */
	uint32_t takes_handle; /* methods whose request carries a handle */
	uint32_t has_u32;      /* methods with a u32 or i32 word (bad_words) */
	uint32_t no_random;    /* methods the random class leaves alone (thread_create: it would
	                        * start a thread of ours at a random address; fork, a process;
	                        * fs.create: a file made would keep its memory) */
	uint32_t absent;       /* numbers in 1 .. nmethods that no method has (yet) */
	uint32_t not_string;   /* methods with a buffer whose word 0 is not a string's length */
};

static uint64_t seed, batch;
static bool quiet; /* the warm-up run: no TEST lines */
static int failures;
static uint64_t sent, refused;
static uint8_t tx[MICA_MSG_BUF_MAX], rx[MICA_MSG_BUF_MAX];
static mica_handle_t pager, names, kv, fs = MICA_HANDLE_NONE, mine;

#define BIT(n) (1u << (n))

/*
 * One raw call: 0 and the reply's status, or the kernel's IPC error.
 * Every other call that fits goes through this thread's IPC buffer (the
 * runtime's; docs/ABI.md) instead of a descriptor, with the reply's bytes
 * copied to recv_buf after: the servers see both kinds of message.
 */
static int64_t raw_call(mica_handle_t ep, struct mica_msg *m, uint32_t len, mica_handle_t h,
                        uint32_t xfer, uint64_t recv_buf, uint32_t recv_cap, int32_t *status)
{
	struct mica_ipc_extra x = {.send_buf = (uint64_t)tx,
	                           .send_len = len,
	                           .send_handle = h,
	                           .send_xfer = xfer,
	                           .recv_cap = recv_cap,
	                           .recv_buf = recv_buf,
	                           .recv_handle = MICA_HANDLE_NONE};
	struct mica_ipc_buffer *b = ipc_buffers_on() ? mica_ipc_buffer() : 0;
	int64_t rc;

	if (b && (sent & 1) && len <= MICA_IPC_BUFFER_DATA && recv_cap >= MICA_IPC_BUFFER_DATA) {
		ipc_copy(b->data, tx, len);
		b->send_len = len;
		b->send_handle = h;
		b->send_xfer = xfer;
		b->recv_len = 0;
		b->recv_handle = MICA_HANDLE_NONE;
		b->flags = 0;
		rc = mica_call(ep, m, MICA_IPC_BUF);
		x.recv_len = b->recv_len;
		x.recv_handle = b->recv_handle;
		if (rc == 0)
			ipc_copy((void *)recv_buf, b->data,
			         x.recv_len < MICA_IPC_BUFFER_DATA ? x.recv_len
			                                           : MICA_IPC_BUFFER_DATA);
	} else {
		rc = mica_call(ep, m, &x);
	}

	sent++;
	*status = (int32_t)(uint32_t)m->label;
	if (rc == 0 && x.recv_handle != MICA_HANDLE_NONE)
		mica_handle_close(x.recv_handle); /* a handle in a reply (names.lookup): not kept */
	if (rc == 0 && *status < 0)
		refused++;
	return rc;
}

static void fill_random(struct rng *r, uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i += 8) {
		uint64_t v = rng_next(r);

		for (uint32_t k = 0; k < 8 && i + k < n; k++)
			p[i + k] = (uint8_t)(v >> (8 * k));
	}
}

/* A valid call to each server: the pager's stats, a names lookup, kv's count, fs's usage. */
static int valid_call(const struct target *t)
{
	uint64_t f, tot, d;
	int32_t l;
	struct pager_usage u;
	mica_handle_t k;
	uint32_t n;
	int rc;

	if (t->iface == 1)
		return pager_stats(t->h, &f, &tot, &l, &d, &u);
	if (t->iface == 2) {
		rc = names_lookup(t->h, "kv", &k);
		if (rc == 0)
			mica_handle_close(k);
		return rc;
	}
	if (t->iface == 4) {
		struct fs_usage fu;

		return fs_usage(t->h, &fu);
	}
	return kv_count(t->h, &n);
}

/*
 * Record one answer: the call must have been answered (rc 0) with `want`
 * (or, with want 1, any status in 0 .. MICA_ENOMETHOD).
 */
static void expect(const struct target *t, const char *cls, uint64_t i, int64_t rc, int32_t status,
                   int32_t want, uint64_t label)
{
	bool ok = rc == 0 && (want == 1 ? status <= 0 && status >= MICA_ENOMETHOD : status == want);

	if (ok)
		return;
	if (failures < 20)
		printf("ipcfuzz: seed %lu %s %s #%lu label %lx: rc %ld status %d, want %d\n",
		       (unsigned long)seed, t->name, cls, (unsigned long)i, (unsigned long)label,
		       (long)rc, status, want);
	failures++;
}

/* A random method of t that matches `mask` (bits of method numbers), or 0 if none does. */
static uint16_t pick_method(struct rng *r, const struct target *t, uint32_t mask)
{
	uint16_t start = (uint16_t)(1 + rng_below(r, t->nmethods));

	for (uint16_t k = 0; k < t->nmethods; k++) {
		uint16_t m = (uint16_t)(1 + (start - 1 + k) % t->nmethods);

		if (mask & BIT(m))
			return m;
	}
	return 0;
}

static void words(struct rng *r, struct mica_msg *m)
{
	for (int k = 0; k < MICA_MSG_WORDS; k++)
		m->w[k] = rng_below(r, 2) ? rng_below(r, 64) : rng_next(r);
}

/* A batch of one class against one server; returns the failures it added. */
static int attack(struct rng *r, const struct target *t, const char *cls)
{
	int before = failures;
	uint32_t all = 0;

	for (uint16_t m = 1; m <= t->nmethods; m++)
		all |= BIT(m);
	all &= ~t->absent;
	for (uint64_t i = 0; i < batch; i++) {
		struct mica_msg m;
		int32_t st = 0;
		int64_t rc;
		uint32_t len = 0;
		uint16_t meth;

		words(r, &m);
		if (strcmp(cls, "unknown") == 0) {
			switch (rng_below(r, 5)) {
			case 0:
				m.label = MICA_IDL_LABEL(t->iface, 0);
				break;
			case 1:
				m.label = MICA_IDL_LABEL(
				    t->iface, t->nmethods + 1 + rng_below(r, 0xFFFF - t->nmethods));
				break;
			case 2:
				m.label =
				    MICA_IDL_LABEL(4 + rng_below(r, 0xFFFB), rng_below(r, 0x10000));
				break;
			case 3:
				m.label = rng_below(r, 0x10000); /* not IDL */
				break;
			default: /* a method's label with bits above the 32 a reply can carry */
				m.label = MICA_IDL_LABEL(t->iface, 1 + rng_below(r, t->nmethods)) |
				          ((1 + rng_below(r, 0xFFFF)) << 32);
			}
			len = (uint32_t)rng_below(r, 64);
			fill_random(r, tx, len);
			rc = raw_call(t->h, &m, len, MICA_HANDLE_NONE, 0, (uint64_t)rx, sizeof(rx),
			              &st);
			expect(t, cls, i, rc, st, MICA_ENOMETHOD, m.label);
		} else if (strcmp(cls, "extra_buffer") == 0) {
			meth = pick_method(r, t, t->bufless & ~t->takes_handle);
			if (!meth)
				break;
			m.label = MICA_IDL_LABEL(t->iface, meth);
			len = 1 + (uint32_t)rng_below(r, MICA_MSG_BUF_MAX);
			fill_random(r, tx, len);
			rc = raw_call(t->h, &m, len, MICA_HANDLE_NONE, 0, (uint64_t)rx, sizeof(rx),
			              &st);
			expect(t, cls, i, rc, st, MICA_EBADMSG, m.label);
		} else if (strcmp(cls, "long_buffer") == 0 || strcmp(cls, "short_buffer") == 0 ||
		           strcmp(cls, "bad_string") == 0) {
			/* Methods with strings: their first string is word 0 (its length). */
			meth = pick_method(r, t,
			                   all & ~t->bufless & ~t->takes_handle & ~t->not_string);
			if (!meth)
				break;
			m.label = MICA_IDL_LABEL(t->iface, meth);
			uint64_t n = 1 + rng_below(r, 20); /* the string's length, NUL excluded */

			memset(tx, 'a', sizeof(tx));
			m.w[0] = n;
			for (int k = 1; k < MICA_MSG_WORDS; k++)
				m.w[k] = 0;
			if (cls[0] == 'l') {
				len = (uint32_t)(MICA_MSG_BUF_MAX - rng_below(r, 100));
				tx[n] = 0;
			} else if (cls[0] == 's') {
				len = (uint32_t)rng_below(
				    r, n + 1); /* the NUL, at least, is missing */
				if (len > n)
					len = (uint32_t)n;
			} else {
				len = (uint32_t)(n + 1);
				tx[n] = 'x'; /* no NUL after it ... */
				if (rng_below(r, 2) && n > 1) {
					tx[n] = 0;
					tx[rng_below(r, n)] = 0; /* ... or one inside */
				}
			}
			rc = raw_call(t->h, &m, len, MICA_HANDLE_NONE, 0, (uint64_t)rx, sizeof(rx),
			              &st);
			expect(t, cls, i, rc, st, MICA_EBADMSG, m.label);
		} else if (strcmp(cls, "handle_unasked") == 0) {
			meth = pick_method(r, t, all & ~t->takes_handle);
			m.label = MICA_IDL_LABEL(t->iface, meth);
			/* A valid-looking request otherwise: one short string if it takes one. */
			for (int k = 0; k < MICA_MSG_WORDS; k++)
				m.w[k] = 0;
			if (!(t->bufless & BIT(meth))) {
				m.w[0] = 1;
				tx[0] = 'z';
				tx[1] = 0;
				len = 2;
			}
			mica_handle_t h = mine;
			uint32_t xfer = MICA_XFER_COPY;

			if (rng_below(r, 2)) {
				int64_t e = mica_endpoint_create();

				if (e < 0) {
					failures++;
					break;
				}
				h = (mica_handle_t)e;
				xfer = MICA_XFER_MOVE;
			}
			rc = raw_call(t->h, &m, len, h, xfer, (uint64_t)rx, sizeof(rx), &st);
			if (xfer == MICA_XFER_MOVE)
				mica_handle_close(h); /* EBADH if it went: the server has it */
			expect(t, cls, i, rc, st, MICA_EBADMSG, m.label);
		} else if (strcmp(cls, "handle_missing") == 0) {
			meth = pick_method(r, t, t->takes_handle);
			if (!meth)
				break;
			m.label = MICA_IDL_LABEL(t->iface, meth);
			for (int k = 0; k < MICA_MSG_WORDS; k++)
				m.w[k] = 0;
			if (!(t->bufless & BIT(meth))) {
				m.w[0] = 1;
				tx[0] = 'z';
				tx[1] = 0;
				len = 2;
			}
			rc = raw_call(t->h, &m, len, MICA_HANDLE_NONE, 0, (uint64_t)rx, sizeof(rx),
			              &st);
			expect(t, cls, i, rc, st, MICA_EBADMSG, m.label);
		} else if (strcmp(cls, "bad_words") == 0) {
			meth = pick_method(r, t, t->has_u32);
			if (!meth)
				break;
			m.label = MICA_IDL_LABEL(t->iface, meth);
			/* Every word above 2^32: whichever is the 32-bit one is out of range. */
			for (int k = 0; k < MICA_MSG_WORDS; k++)
				m.w[k] = (1ULL << 32) + rng_below(r, 1ULL << 40);
			rc = raw_call(t->h, &m, 0, MICA_HANDLE_NONE, 0, (uint64_t)rx, sizeof(rx),
			              &st);
			expect(t, cls, i, rc, st, MICA_EBADMSG, m.label);
		} else if (strcmp(cls, "random") == 0) {
			m.label = rng_below(r, 2)
			              ? MICA_IDL_LABEL(t->iface, rng_below(r, t->nmethods + 2))
			              : (uint32_t)rng_next(r);
			if ((m.label >> 16) == t->iface && (m.label & 0xFFFF) < 32 &&
			    (t->no_random & BIT(m.label & 0xFFFF)))
				m.label =
				    MICA_IDL_LABEL(t->iface, 0); /* an unknown method instead */
			len = (uint32_t)rng_below(r, MICA_MSG_BUF_MAX + 1);
			fill_random(r, tx, len);
			if (rng_below(r, 2) && len) {
				/* a string that parses, sometimes */
				uint64_t n = rng_below(r, len);

				tx[n] = 0;
				m.w[0] = n;
			}
			rc = raw_call(t->h, &m, len, rng_below(r, 4) ? MICA_HANDLE_NONE : mine,
			              MICA_XFER_COPY, (uint64_t)rx,
			              (uint32_t)rng_below(r, sizeof(rx) + 1), &st);
			expect(t, cls, i, rc, st, 1, m.label);
		} else { /* reply_cut: a valid call, the reply cut or refused by the kernel */
			uint64_t f, tot, d;
			int32_t l;
			struct pager_usage u;
			uint32_t n;
			uint32_t cap = (uint32_t)rng_below(r, 16);

			(void)f, (void)tot, (void)d, (void)l, (void)u, (void)n;
			for (int k = 0; k < MICA_MSG_WORDS; k++)
				m.w[k] = 0;
			if (t->iface == 1) {
				m.label = MICA_IDL_LABEL(
				    1, rng_below(r, 2) ? 7 : 8); /* stats, free_blocks */
			} else if (t->iface == 2) {
				m.label = MICA_IDL_LABEL(2, 2); /* lookup "kv" */
				m.w[0] = 2;
				memcpy(tx, "kv", 3);
				len = 3;
			} else if (t->iface == 4) {
				m.label = MICA_IDL_LABEL(4, 9); /* list "" */
				m.w[0] = 0;
				tx[0] = 0;
				len = 1;
			} else {
				m.label = MICA_IDL_LABEL(3, 2); /* get "ipcfuzz" */
				m.w[0] = 7;
				memcpy(tx, "ipcfuzz", 8);
				len = 8;
			}
			uint64_t where = rng_below(r, 3) == 0 ? MICA_KERNEL_VBASE : (uint64_t)rx;

			rc = raw_call(t->h, &m, len, MICA_HANDLE_NONE, 0, where, cap, &st);
			if (rc != 0 && rc != MICA_EFAULT) {
				printf("ipcfuzz: seed %lu %s reply_cut #%lu: rc %ld\n",
				       (unsigned long)seed, t->name, (unsigned long)i, (long)rc);
				failures++;
			}
		}
	}
	int rc = valid_call(t);

	if (rc != 0) {
		printf("ipcfuzz: %s after %s: valid call failed: %d\n", t->name, cls, rc);
		failures++;
	}
	return failures - before;
}

static const char *const classes[] = {
    "unknown",        "extra_buffer",   "long_buffer", "short_buffer", "bad_string",
    "handle_unasked", "handle_missing", "bad_words",   "random",       "reply_cut"};

static int run(void)
{
	struct rng r = {seed};
	struct target t[4] = {
	    /* idl/pager.idl: methods 1-30; a buffer in 5, 14, 17, 18; handles in 13, 19, 26. */
	    {"pager", pager, 1, 30,
	     BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(6) | BIT(7) | BIT(8) | BIT(9) | BIT(10) |
	         BIT(11) | BIT(12) | BIT(13) | BIT(15) | BIT(16) | BIT(19) | BIT(20) | BIT(21) |
	         BIT(22) | BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) | BIT(28) | BIT(29) |
	         BIT(30),
	     BIT(13) | BIT(19) | BIT(26),
	     BIT(3) | BIT(9) | BIT(11) | BIT(16) | BIT(21) | BIT(22) | BIT(25) | BIT(27) | BIT(28),
	     BIT(23) | BIT(30), 0, 0},
	    {"names", names, 2, 3, BIT(3), BIT(1), 0, 0, 0, 0},
	    {"kv", kv, 3, 4, BIT(4), 0, 0, 0, 0, 0},
	    /* idl/fs.idl: methods 1-12; no buffer in 2, 3, 7, 8, 11 and 12; write (4) has bytes. */
	    {"fs", fs, 4, 12, BIT(2) | BIT(3) | BIT(7) | BIT(8) | BIT(11) | BIT(12), 0, BIT(3),
	     BIT(5), 0, BIT(4)},
	};
	int ntargets = fs == MICA_HANDLE_NONE ? 3 : 4;
	int rc;

	/* A value the reply_cut class reads back. */
	if ((rc = kv_put(kv, "ipcfuzz", "v", 1)) < 0) {
		printf("ipcfuzz: kv.put: %d\n", rc);
		return 1;
	}
	for (unsigned c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
		int bad = 0;

		for (int k = 0; k < ntargets; k++)
			bad += attack(&r, &t[k], classes[c]);
		if (quiet)
			continue;
		if (bad)
			printf("TEST ipcfuzz.%s FAIL %d (seed %lu)\n", classes[c], bad,
			       (unsigned long)seed);
		else
			printf("TEST ipcfuzz.%s PASS\n", classes[c]);
	}
	kv_remove(kv, "ipcfuzz");
	if (!quiet)
		printf("ipcfuzz: seed %lu: %lu requests, %lu refused\n", (unsigned long)seed,
		       (unsigned long)sent, (unsigned long)refused);
	return failures ? 1 : 0;
}

extern char _end[]; /* tests/user/user.ld: the end of the image */

/* Reads a byte of each page of the image: its code and data are backed before the counts. */
static void touch_image(void)
{
	for (uintptr_t a = 0x400000; a < (uintptr_t)_end; a += PAGE)
		(void)*(volatile const char *)a;
}

/* The servers answer: kv and fs looked up again and called, the pager called; 0 or an error. */
static int health(void)
{
	mica_handle_t h;
	uint32_t n;
	struct fs_usage u;
	int rc = names_lookup(names, "kv", &h);

	if (rc == 0) {
		rc = kv_count(h, &n);
		mica_handle_close(h);
	}
	if (rc == 0 && fs != MICA_HANDLE_NONE && (rc = names_lookup(names, "fs", &h)) == 0) {
		rc = fs_usage(h, &u);
		mica_handle_close(h);
	}
	return rc ? rc : valid_call(&(struct target){.iface = 1, .h = pager});
}

/* Run the attacks in a child with `n` messages per class and server; its end out. */
static int run_child(uint64_t n, bool warmup, uint32_t *reason, uint64_t *code)
{
	char args[80];
	uint64_t pid = 0;
	int rc;

	snprintf(args, sizeof(args), "run seed=%lu batch=%lu%s", (unsigned long)seed,
	         (unsigned long)n, warmup ? " quiet" : "");
	rc = pager_spawn(pager, "ipcfuzz.elf", args, &pid);
	return rc < 0 ? rc : child_wait(pager, pid, reason, code);
}

int main(int argc, char **argv)
{
	const struct mica_startup *st = rt_startup_info();
	struct counts start;
	int rc;

	if (!st)
		return 2;
	pager = st->pager;
	names = rt_names_handle();
	seed = arg_num(argc, argv, "seed", 1);
	batch = arg_num(argc, argv, "batch", 300);
	if ((rc = names_lookup(names, "kv", &kv)) < 0) {
		printf("ipcfuzz: no kv: %d\n", rc);
		return 3;
	}
	if (names_lookup(names, "fs", &fs) < 0) /* attacked only when it runs */
		fs = MICA_HANDLE_NONE;
	quiet = arg_has(argc, argv, "quiet");
	if (arg_has(argc, argv, "run")) {
		int64_t e = mica_endpoint_create();

		if (e < 0)
			return 4;
		mine = (mica_handle_t)e;
		return run();
	}

	/*
	 * The parent: a short warm-up run first (the servers back their
	 * buffers' pages on first touch: the long requests touch them), then
	 * the counts, the attack in a child, health and the counts again.
	 */
	uint64_t code = 0;
	uint32_t reason = 0;

	mica_handle_close(kv);
	if (fs != MICA_HANDLE_NONE)
		mica_handle_close(fs);
	/* The health checks, a line and every page of the image before the counts too: what
	 * the parent uses after the attack is backed on first touch, and must be before. */
	rc = run_child(20, true, &reason, &code);
	if (rc < 0 || reason || code || health() < 0)
		return 5;
	printf("ipcfuzz: warmed up: %s\n",
	       fs != MICA_HANDLE_NONE ? "pager names kv fs" : "pager names kv");
	touch_image();
	if (counts_take(pager, &start) < 0)
		return 5;
	rc = run_child(batch, false, &reason, &code);
	bool ok = rc == 0 && reason == MICA_EXIT_NORMAL && code == 0;

	printf("TEST ipcfuzz.child %s", ok ? "PASS\n" : "FAIL ");
	if (!ok)
		printf("rc %d reason %u code %lu\n", rc, reason, (unsigned long)code);
	int h = health();

	if (h)
		printf("TEST ipcfuzz.health FAIL %d\n", h);
	else
		printf("TEST ipcfuzz.health PASS\n");
	int diff = counts_settle(pager, "ipcfuzz", &start, 1000);

	if (diff)
		printf("TEST ipcfuzz.frames FAIL %d\n", diff);
	else
		printf("TEST ipcfuzz.frames PASS\n");
	return ok && !h && !diff ? 0 : 1;
}
