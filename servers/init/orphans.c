/*
 * Adopted orphans: a process whose parent ends passes to init (the pager
 * decides, servers/pager/README.md; pager.children lists init's children,
 * its entries' processes and the adopted ones alike). Init waits for the
 * adopted ones as for its entries, so their slots come back, and at the
 * end of a run kills those still running.
 */
#include <mica/fault.h>
#include <stdio.h>

#include "init.h"

static uint64_t pids[PAGER_CHILDREN_PIDS_MAX / sizeof(uint64_t)]; /* not on the stack */

/* Is pid the process of a manifest entry (supervise.c waits for those)? */
static bool is_entry(uint64_t pid)
{
	for (unsigned i = 0; i < nentries; i++)
		if (entries[i].pid == pid)
			return true;
	return false;
}

/* Our children that are not entries' processes, into pids; how many. */
static uint32_t adopted(void)
{
	uint32_t total = 0, len = 0, n = 0;

	if (pager_children(init_pager, 0, &total, pids, &len) < 0)
		return 0;
	for (uint32_t i = 0; i < len / sizeof(pids[0]); i++)
		if (!is_entry(pids[i]))
			pids[n++] = pids[i];
	return n;
}

/* An adopted process ended: log it, and forget the names it registered. */
static void ended(uint64_t pid, uint32_t reason, uint64_t code)
{
	printf("init: adopted pid %lu exited: reason %u code %lu\n", (unsigned long)pid, reason,
	       (unsigned long)code);
	names_drop_owner(pid);
}

void orphans_poll(void)
{
	uint32_t n = adopted(), reason;
	uint64_t code;

	for (uint32_t i = 0; i < n; i++)
		if (pager_wait(init_pager, pids[i], &reason, &code) == 0)
			ended(pids[i], reason, code);
}

void orphans_stop_all(void)
{
	uint32_t n = adopted(), reason = MICA_EXIT_KILLED;
	uint64_t code = 0;
	int rc;

	for (uint32_t i = 0; i < n; i++) {
		printf("init: killing adopted pid %lu\n", (unsigned long)pids[i]);
		(void)pager_kill_tree(init_pager, pids[i], 0);
		/* The pager takes the kill's exit notice next; until then it runs. */
		while ((rc = pager_wait(init_pager, pids[i], &reason, &code)) == MICA_EAGAIN)
			mica_yield();
		if (rc == 0)
			ended(pids[i], reason, code);
	}
}
