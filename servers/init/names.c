/*
 * The name service (idl/names.idl): a table of names, each with the
 * endpoint a process registered and that process's pid (the badge of its
 * names handle), so a name goes when its server ends.
 */
#include <stdio.h>
#include <string.h>

#include "init.h"

struct name {
	char name[NAMES_REGISTER_NAME_NAME_MAX + 1]; /* "" for a free slot */
	mica_handle_t ep;                            /* ours: the copy registered */
	uint64_t owner;                              /* the pid that registered it */
};

static struct name table[NAMES_MAX];

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

static struct name *find(const char *name)
{
	for (unsigned i = 0; i < NAMES_MAX; i++)
		if (table[i].name[0] && strcmp(table[i].name, name) == 0)
			return &table[i];
	return 0;
}

static int op_register_name(void *ctx, uint64_t badge, const char *name, mica_handle_t server)
{
	struct name *free_slot = 0;

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
	for (unsigned i = 0; i < NAMES_MAX && !free_slot; i++)
		if (!table[i].name[0])
			free_slot = &table[i];
	if (!free_slot) {
		ipc_handle_drop(server);
		return MICA_ENOMEM;
	}
	strcpy(free_slot->name, name);
	free_slot->ep = server;
	free_slot->owner = badge;
	printf("init: %s registered by pid %lu\n", name, (unsigned long)badge);
	supervise_registered(badge);
	return 0;
}

static int op_lookup(void *ctx, uint64_t badge, const char *name, mica_handle_t *server)
{
	struct name *n = find(name);

	(void)ctx, (void)badge;
	if (!n)
		return MICA_ENOENT;
	*server = n->ep;
	return 0;
}

/* The pager's hint: main.c polls pager.wait after every message anyway. */
static int op_exited(void *ctx, uint64_t badge)
{
	(void)ctx, (void)badge;
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
	for (unsigned i = 0; i < NAMES_MAX; i++) {
		if (!table[i].name[0] || table[i].owner != pid)
			continue;
		ipc_handle_drop(table[i].ep);
		table[i].name[0] = 0;
		table[i].ep = MICA_HANDLE_NONE;
	}
}
