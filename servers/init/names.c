/*
 * The name service (idl/names.idl): a table of names, each with the
 * endpoint a process registered and that process's pid (the badge of its
 * names handle), so a name goes when its owner ends. Init keeps only a
 * send-only copy of each endpoint: a receive handle here would keep a dead
 * server's endpoint alive, and its callers queued on it for ever (the
 * kernel ends an endpoint with its last receive handle). An owner's end is
 * seen four ways: init's own children and adopted orphans through
 * pager.wait (names_drop_owner); any other process through pager.running,
 * asked at each lookup of its name, when the pager's names.exited hint
 * comes (it is sent for every process that ends), and at least every
 * SWEEP_MS (names_sweep).
 */
#include <stdio.h>
#include <string.h>

#include "init.h"

#define SWEEP_MS 1000 /* the longest a dead owner's name is kept with nobody asking */

struct name {
	char name[NAMES_REGISTER_NAME_NAME_MAX + 1]; /* "" for a free slot */
	mica_handle_t ep;                            /* ours: the copy registered */
	uint64_t owner;                              /* the pid that registered it */
};

static struct name table[NAMES_MAX];
static bool sweep_due;   /* a names.exited hint came: look at every owner */
static int64_t swept_at; /* the clock (ns) at the last sweep */

/* Is name 1-31 bytes of [A-Za-z0-9._-]? */
static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAMES_REGISTER_NAME_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* Forget name n, closing our copy of its endpoint. */
static void drop(struct name *n)
{
	ipc_handle_drop(n->ep);
	n->name[0] = 0;
	n->ep = MICA_HANDLE_NONE;
	n->owner = 0;
}

/*
 * Has n's owner ended? Asked of the pager (pager.running; pids are never
 * reused). If the pager cannot say, the name is kept.
 */
static bool owner_gone(const struct name *n)
{
	uint32_t live = 1;

	return pager_running(init_pager, n->owner, &live) == 0 && !live;
}

/* Drop name n (in use) if its owner has ended, and say so; whether it was dropped. */
static bool drop_if_gone(struct name *n)
{
	if (!owner_gone(n))
		return false;
	printf("init: %s dropped: pid %lu has ended\n", n->name, (unsigned long)n->owner);
	drop(n);
	return true;
}

/* The live name `name`; a name whose owner has ended is dropped on the way. */
static struct name *find(const char *name)
{
	for (unsigned i = 0; i < NAMES_MAX; i++)
		if (table[i].name[0] && strcmp(table[i].name, name) == 0)
			return drop_if_gone(&table[i]) ? 0 : &table[i];
	return 0;
}

/* A free slot, or NULL if the table is full. */
static struct name *free_slot_get(void)
{
	for (unsigned i = 0; i < NAMES_MAX; i++)
		if (!table[i].name[0])
			return &table[i];
	return 0;
}

static int op_register_name(void *ctx, uint64_t badge, const char *name, mica_handle_t server)
{
	struct name *free_slot;

	(void)ctx;
	/* A well-formed name, not taken, and room for it. */
	if (!name_ok(name)) {
		ipc_handle_drop(server);
		return MICA_EINVAL;
	}
	if (find(name)) {
		ipc_handle_drop(server);
		return MICA_EEXIST;
	}
	free_slot = free_slot_get();
	if (!free_slot) {
		ipc_handle_drop(server);
		return MICA_ENOMEM;
	}
	/* Our copy: send (and copy, for lookups) only, never a receiver. */
	int64_t r = mica_handle_mint(server, MICA_RIGHT_SEND | MICA_RIGHT_COPY, 0);

	ipc_handle_drop(server);
	if (r < 0)
		return (int)r; /* MICA_ERIGHTS: it lacks the copy right; MICA_ENOMEM */
	strcpy(free_slot->name, name);
	free_slot->ep = (mica_handle_t)r;
	free_slot->owner = badge;
	printf("init: %s registered by pid %lu\n", name, (unsigned long)badge);
	supervise_registered(badge);
	return 0;
}

/*
 * The caller's copy of an unbadged registration, badged with its pid: the
 * reply copies it, and it is closed at the next lookup (it was sent then).
 */
static mica_handle_t lent = MICA_HANDLE_NONE;

static int op_lookup(void *ctx, uint64_t badge, const char *name, mica_handle_t *server)
{
	struct name *n = find(name);
	int64_t r;

	(void)ctx;
	ipc_handle_drop(lent);
	lent = MICA_HANDLE_NONE;
	if (!n)
		return MICA_ENOENT;
	/*
	 * A server that registered an unbadged endpoint learns who calls it: the
	 * caller's copy carries its pid (ours is unbadged: a badged one refuses
	 * with MICA_ERIGHTS, and is lent as it is).
	 */
	r = badge ? mica_handle_mint(n->ep, MICA_RIGHT_SEND | MICA_RIGHT_COPY, badge)
	          : MICA_ERIGHTS;
	if (r == MICA_ERIGHTS) {
		*server = n->ep;
		return 0;
	}
	if (r < 0)
		return (int)r; /* MICA_ENOMEM */
	lent = *server = (mica_handle_t)r;
	return 0;
}

/*
 * The pager's hint that some process ended: main.c polls pager.wait after
 * every message anyway, and names_sweep looks at every name's owner.
 */
static int op_exited(void *ctx, uint64_t badge)
{
	(void)ctx, (void)badge;
	names_exit_seen();
	return 0;
}

const struct names_ops names_handlers = {
    .register_name = op_register_name,
    .lookup = op_lookup,
    .exited = op_exited,
};

/* Drop every name pid registered: it has ended, and its endpoint with it. */
void names_drop_owner(uint64_t pid)
{
	for (unsigned i = 0; i < NAMES_MAX; i++)
		if (table[i].name[0] && table[i].owner == pid)
			drop(&table[i]);
}

/* Some process ended (a names.exited hint or the exit-hint notification): sweep now. */
void names_exit_seen(void)
{
	sweep_due = true;
}

void names_sweep(void)
{
	int64_t now = mica_clock();

	if (!sweep_due && now - swept_at < (int64_t)SWEEP_MS * (int64_t)MICA_NS_PER_MS)
		return;
	sweep_due = false;
	swept_at = now;
	for (unsigned i = 0; i < NAMES_MAX; i++)
		if (table[i].name[0])
			(void)drop_if_gone(&table[i]);
}

uint64_t names_timeout(void)
{
	for (unsigned i = 0; i < NAMES_MAX; i++) {
		if (!table[i].name[0])
			continue;
		/* The time left until the next sweep is due (at least 1 ns). */
		int64_t left =
		    swept_at + (int64_t)SWEEP_MS * (int64_t)MICA_NS_PER_MS - mica_clock();

		return left < 1 ? 1 : (uint64_t)left;
	}
	return IPC_FOREVER;
}
