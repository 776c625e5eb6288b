/*
 * Supervision: init spawns every manifest entry itself (pager.spawn), so
 * each is its child and pager.wait reports its end; it asks after every
 * message it receives (the pager also sends it a names.exited hint when a
 * child ends, which wakes it), and at least every POLL_MS while a child
 * runs (its receive has a timeout: main.c). An entry that ends is
 * restarted per its policy, at most RESTARTS_MAX times. A server that
 * has not registered within its deadline is logged and left running, and
 * the entries after it start (README.md).
 */
#include <mica/errname.h>
#include <mica/fault.h>
#include <stdio.h>

#include "init.h"

#define POLL_MS 1000 /* the longest init goes without asking about its children */

static unsigned next;   /* the next entry to start */
static bool ready_said; /* "init: ready" (or why not) was printed */

/* The time stamp counter: under make bench's QEMU -icount, instructions since reset. */
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Start entry e: 0, or pager.spawn's error (the entry is then done). */
static int start(struct entry *e)
{
	uint64_t pid = 0;
	struct pager_limits lim = {.mem_pages = e->mem_pages, .procs = e->procs};
	struct pager_devices dev = {.irq = e->irq,
	                            .port_first = e->port_first,
	                            .port_count = e->port_count,
	                            .trace = e->trace};
	/* A driver (irq=, ports=) gets its devices through the pager, and so does trace. */
	int rc = e->irq >= 0 || e->port_count || e->trace
	             ? pager_spawn_driver(init_pager, e->module, e->args, &lim, &dev, &pid)
	             : pager_spawn_with(init_pager, e->module, e->args, &lim, &pid);

	if (rc < 0) {
		printf("init: cannot start %s: error %s\n", e->module, mica_error_name(rc));
		e->done = true;
		e->pid = 0;
		return rc;
	}
	e->pid = pid;
	e->started = mica_clock();
	e->late = false;
	printf("init: started %s pid %lu\n", e->module, (unsigned long)pid);
	return 0;
}

/* Is a server still to be waited for (started, not registered, not given up, not late)? */
static bool waiting(const struct entry *e)
{
	return e->server && !e->registered && !e->done && !e->late;
}

/* The clock (ns) at which init stops waiting for server e. */
static int64_t deadline_of(const struct entry *e)
{
	return e->started + (int64_t)e->deadline_ms * (int64_t)MICA_NS_PER_MS;
}

/* Server e, waited for, has missed its deadline: say so and stop waiting (it runs on). */
static void deadline_check(struct entry *e)
{
	if (!waiting(e) || mica_clock() < deadline_of(e))
		return;
	printf("init: %s pid %lu did not register within %u ms\n", e->module, (unsigned long)e->pid,
	       e->deadline_ms);
	e->late = true;
}

void supervise_advance(void)
{
	while (next < nentries) {
		if (next > 0) {
			deadline_check(&entries[next - 1]);
			if (waiting(&entries[next - 1]))
				return;
		}
		start(&entries[next++]);
	}
	if (next > 0)
		deadline_check(&entries[next - 1]);
	if (ready_said || (nentries && waiting(&entries[nentries - 1])))
		return;
	unsigned missing = 0;

	for (unsigned i = 0; i < nentries; i++)
		if (entries[i].server && !entries[i].registered)
			missing++;
	ready_said = true;
	if (missing)
		printf("init: not ready: %u server(s) did not register\n", missing);
	else {
		/* make bench: boot.init_ready, the stamp less the kernel's boot: kernel_entry. */
		uint64_t now = rdtsc();

		printf("boot: init_ready %lu\ninit: ready\n", (unsigned long)now);
	}
}

/* Entry e's process ended with reason and code: restart it, or it is done. */
static void ended(struct entry *e, uint32_t reason, uint64_t code)
{
	bool failed = reason != MICA_EXIT_NORMAL || code != 0;
	bool again = e->restart == RESTART_ALWAYS || (e->restart == RESTART_ON_FAILURE && failed);

	printf("init: %s pid %lu exited: reason %u code %lu\n", e->module, (unsigned long)e->pid,
	       reason, (unsigned long)code);
	names_drop_owner(e->pid);
	e->pid = 0;
	e->failed = failed;
	if (again && e->restarts == RESTARTS_MAX) {
		printf("init: %s restarted %u times, given up\n", e->module, RESTARTS_MAX);
		again = false;
	}
	if (!again) {
		e->done = true;
		return;
	}
	e->restarts++;
	printf("init: restarting %s (%u of %u)\n", e->module, e->restarts, RESTARTS_MAX);
	start(e);
}

void supervise_poll(void)
{
	for (unsigned i = 0; i < nentries; i++) {
		struct entry *e = &entries[i];
		uint32_t reason;
		uint64_t code;

		if (!e->pid || pager_wait(init_pager, e->pid, &reason, &code) < 0)
			continue;
		ended(e, reason, code);
	}
	supervise_advance();
}

void supervise_registered(uint64_t pid)
{
	for (unsigned i = 0; i < nentries; i++)
		if (entries[i].pid == pid && entries[i].server)
			entries[i].registered = true;
}

bool supervise_done(void)
{
	if (next < nentries || !ready_said)
		return false;
	for (unsigned i = 0; i < nentries; i++)
		if (!entries[i].server && !entries[i].done)
			return false;
	return true;
}

unsigned supervise_failures(void)
{
	unsigned n = 0;

	for (unsigned i = 0; i < nentries; i++)
		if (!entries[i].server && entries[i].done && entries[i].failed)
			n++;
	return n;
}

void supervise_stop_all(void)
{
	for (unsigned i = 0; i < nentries; i++) {
		struct entry *e = &entries[i];
		uint32_t reason = MICA_EXIT_KILLED;
		uint64_t code = 0;
		int rc;

		if (!e->pid)
			continue;
		e->restart = RESTART_NEVER;                   /* ended on purpose */
		(void)pager_kill_tree(init_pager, e->pid, 0); /* and what it started */
		/* The pager takes the kill's exit notice next; until then the child runs. */
		while ((rc = pager_wait(init_pager, e->pid, &reason, &code)) == MICA_EAGAIN)
			mica_yield();
		ended(e, reason, code);
	}
}

uint64_t supervise_timeout(void)
{
	uint64_t wait = IPC_FOREVER;

	for (unsigned i = 0; i < nentries; i++)
		if (entries[i].pid)
			wait = (uint64_t)POLL_MS * MICA_NS_PER_MS;
	/* The server waited for (entries start in order: only the last one started). */
	if (next > 0 && waiting(&entries[next - 1])) {
		int64_t left = deadline_of(&entries[next - 1]) - mica_clock();

		if (left < 1)
			left = 1;
		if ((uint64_t)left < wait)
			wait = (uint64_t)left;
	}
	return wait;
}
