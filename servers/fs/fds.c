/*
 * File descriptors: a table of slots that grows (doubling), a list of free
 * slots, and a generation per slot, so a descriptor is (generation << 32 |
 * slot + 1) and one closed, reused or made up is refused (MICA_EBADH) in
 * O(1). Each records the pid that opened it (its owner: the badge of the
 * client's fs handle), so that when that process ends its descriptors are
 * closed (fds_close_owner, from clients.c). Any client holding a
 * descriptor's number may use it (as with kv's keys; servers/fs/README.md).
 */
#include "fs.h"

#include <mica/error.h>
#include <stdlib.h>

struct fd_slot {
	struct fs_file *file; /* NULL: free */
	uint64_t owner;       /* the pid that opened it */
	uint32_t gen;         /* bumped at each close */
	uint32_t next_free;   /* the next free slot + 1, 0 for none */
};

static struct fd_slot *slots;
static uint32_t nslots, free_head, nopen; /* free_head: a free slot + 1, or 0 */

int fds_open(struct fs_file *f, uint64_t owner, uint64_t *fd)
{
	uint32_t i;

	if (!free_head) {
		/* No free slot: double the table (up to 2^31 slots). */
		uint32_t n = nslots ? nslots * 2 : 16;

		if (nslots >= 1u << 31)
			return MICA_ENOMEM;
		struct fd_slot *s = realloc(slots, n * sizeof(*s));

		if (!s)
			return MICA_ENOMEM;
		for (uint32_t k = nslots; k < n; k++)
			s[k] = (struct fd_slot){.next_free = k + 1 < n ? k + 2 : 0};
		slots = s;
		free_head = nslots + 1;
		nslots = n;
	}
	i = free_head - 1;
	free_head = slots[i].next_free;
	slots[i].file = f;
	slots[i].owner = owner;
	slots[i].next_free = 0;
	store_hold(f);
	nopen++;
	*fd = (uint64_t)slots[i].gen << 32 | (i + 1);
	return MICA_OK;
}

/* The slot fd names while it is open, or NULL. */
static struct fd_slot *slot(uint64_t fd)
{
	uint64_t i = (fd & 0xFFFFFFFFu) - 1;

	if (i >= nslots || !slots[i].file || slots[i].gen != fd >> 32)
		return NULL;
	return &slots[i];
}

struct fs_file *fds_get(uint64_t fd)
{
	struct fd_slot *s = slot(fd);

	return s ? s->file : NULL;
}

int fds_close(uint64_t fd)
{
	struct fd_slot *s = slot(fd);

	/* The descriptor: open now. */
	if (!s)
		return MICA_EBADH;
	store_release(s->file);
	s->file = NULL;
	s->gen++;
	s->next_free = free_head;
	free_head = (uint32_t)(s - slots) + 1;
	nopen--;
	return MICA_OK;
}

unsigned fds_close_owner(uint64_t owner)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < nslots; i++)
		if (slots[i].file && slots[i].owner == owner &&
		    fds_close((uint64_t)slots[i].gen << 32 | (i + 1)) == MICA_OK)
			n++;
	return n;
}

uint64_t fds_count(void)
{
	return nopen;
}
