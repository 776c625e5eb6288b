/*
 * The kernel trace buffer (docs/TRACING.md): a ring of MICA_TRACE_RING
 * events (system calls, messages, context switches, faults, interrupts),
 * each with the time stamp counter and the running thread. Off unless the
 * command line (trace=on, trace=<events>) or the trace system call turns
 * it on. The trace points (trace.h) cost one test of trace_mask when off;
 * system calls cost nothing: their table is switched while traced.
 * The ring is printed on the serial line as `trace ...` lines (dump, or
 * trace.dump=exit when the kernel leaves QEMU) or copied to a user buffer.
 */
#include <mica/error.h>
#include <mica/handle.h>
#include <mica/syscall.h>
#include "trace.h"
#include "aspace.h"
#include "cmdline.h"
#include "fastpath.h"
#include "ipc.h"
#include "kprintf.h"
#include "lib/string.h"
#include "sched.h"
#include "syscall.h"
#include "syscall_abi.h"
#include "thread.h"
#include "usercopy.h"

uint32_t trace_mask;

static struct mica_trace_event ring[MICA_TRACE_RING];
static uint64_t written;  /* events ever recorded since the last start */
static bool dump_at_exit; /* trace.dump=exit */
static bool saved;        /* handlers holds the plain table */
/* syscall_table as built, kept while traced_syscall stands in for its entries. */
static syscall_fn handlers[MICA_SYS_COUNT];

static const char *const type_names[MICA_TRACE_TYPES] = {
    [MICA_TRACE_SYSCALL] = "syscall", [MICA_TRACE_IPC] = "ipc", [MICA_TRACE_SWITCH] = "switch",
    [MICA_TRACE_FAULT] = "fault",     [MICA_TRACE_IRQ] = "irq",
};

static inline uint64_t read_tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static uint32_t tid_of(const struct thread *t)
{
	return t ? t->id : 0;
}

/* Append one event; the oldest is overwritten once the ring is full. */
static void record_as(uint32_t tid, uint16_t type, uint16_t sub, uint32_t x, uint32_t y, uint64_t a,
                      uint64_t b)
{
	struct mica_trace_event *e = &ring[written % MICA_TRACE_RING];

	*e = (struct mica_trace_event){.tsc = read_tsc(),
	                               .type = type,
	                               .sub = sub,
	                               .tid = tid,
	                               .x = x,
	                               .y = y,
	                               .a = a,
	                               .b = b};
	written++;
}

/* The same, by the running thread. */
static void record(uint16_t type, uint16_t sub, uint32_t x, uint32_t y, uint64_t a, uint64_t b)
{
	record_as(tid_of(sched_current()), type, sub, x, y, a, b);
}

/*
 * Every system call while syscalls or messages are traced (syscall_table
 * points here): the event, then the real handler; call and reply_recv by
 * the general path, which records their messages.
 */
static int64_t traced_syscall(const struct syscall_args *s)
{
	if (trace_mask & MICA_TRACE_EV(MICA_TRACE_SYSCALL))
		record(MICA_TRACE_SYSCALL, (uint16_t)s->nr, 0, 0, s->a[0], s->a[1]);
	if (s->nr == MICA_SYS_IPC_CALL)
		return ipc_send(s, true, true);
	if (s->nr == MICA_SYS_IPC_REPLY_RECV)
		return ipc_reply_recv(s);
	return handlers[s->nr](s);
}

/* Record the events in m from now on (0: none), with the system-call table to match. */
static void set_mask(uint32_t m)
{
	bool via = m & (MICA_TRACE_EV(MICA_TRACE_SYSCALL) | MICA_TRACE_EV(MICA_TRACE_IPC));

	if (!saved) { /* the plain table, once */
		memcpy(handlers, syscall_table, sizeof(handlers));
		saved = true;
	}
	for (size_t i = 0; i < MICA_SYS_COUNT; i++)
		if (handlers[i])
			syscall_table[i] = via ? traced_syscall : handlers[i];
	/* Other events (switches): the C fast path, whose switch has the trace
	 * point; the assembly one (ipcfast.asm) has none and tests nothing. */
	if (m && !via) {
		syscall_table[MICA_SYS_IPC_CALL] = fastpath_call;
		syscall_table[MICA_SYS_IPC_REPLY_RECV] = fastpath_reply_recv;
	}
	trace_mask = m;
}

/*
 * A message from `from` now in `to`'s registers. Its kind: the kernel's
 * own message, else by the call the sender is in (its frame's RAX holds
 * the number until the call returns): call, reply_recv (whose sending
 * half is the reply), or send.
 */
void trace_rec_ipc(const struct thread *from, const struct thread *to)
{
	const struct trap_frame *f = thread_frame(to);
	uint16_t kind = MICA_TRACE_IPC_SEND;

	if (from->ipc_kernel)
		kind = MICA_TRACE_IPC_KERNEL;
	else if (thread_frame(from)->rax == MICA_SYS_IPC_CALL)
		kind = MICA_TRACE_IPC_CALL;
	else if (thread_frame(from)->rax == MICA_SYS_IPC_REPLY_RECV)
		kind = MICA_TRACE_IPC_REPLY;
	/* The label, and the badge, which syscall_abi_ipc_set puts in RDI. */
	record(MICA_TRACE_IPC, kind, from->id, to->id, syscall_abi_ipc_label(f), f->rdi);
}

void trace_rec_switch(const struct thread *from, const struct thread *to)
{
	/* Called with `to` already current: the event is the leaving thread's. */
	record_as(tid_of(from), MICA_TRACE_SWITCH, 0, tid_of(to), 0, 0, 0);
}

void trace_rec_fault(uint64_t vector, uint64_t addr, uint64_t rip)
{
	record(MICA_TRACE_FAULT, (uint16_t)vector, 0, 0, addr, rip);
}

void trace_rec_irq(unsigned line)
{
	record(MICA_TRACE_IRQ, (uint16_t)line, 0, 0, 0, 0);
}

/* Events in the ring now. */
static uint64_t held(void)
{
	return written < MICA_TRACE_RING ? written : MICA_TRACE_RING;
}

/*
 * The mask named by s[0..n): "on" (every event), "off" (none), or event
 * names joined by ',' (syscall, ipc, switch, fault, irq). Returns
 * MICA_OK, or MICA_EINVAL for an empty or unknown name.
 */
int trace_parse_events(const char *s, size_t n, uint32_t *mask)
{
	uint32_t m = 0;

	if (n == 2 && s[0] == 'o' && s[1] == 'n') {
		*mask = MICA_TRACE_ALL;
		return MICA_OK;
	}
	if (n == 3 && s[0] == 'o' && s[1] == 'f' && s[2] == 'f') {
		*mask = 0;
		return MICA_OK;
	}
	for (size_t i = 0; i <= n;) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		int type = 0;
		for (int t = 1; t < MICA_TRACE_TYPES && !type; t++)
			if (strlen(type_names[t]) == j - i &&
			    memcmp(type_names[t], s + i, j - i) == 0)
				type = t;
		if (!type)
			return MICA_EINVAL;
		m |= MICA_TRACE_EV(type);
		i = j + 1;
	}
	*mask = m;
	return MICA_OK;
}

/* Read trace= and trace.dump= from the command line (after the scheduler's init). */
void trace_init(void)
{
	const char *v = cmdline_get("trace");
	const char *d = cmdline_get("trace.dump");
	uint32_t m;

	if (d && strcmp(d, "exit") == 0)
		dump_at_exit = true;
	else if (d)
		kprintf("trace: trace.dump=%s: not \"exit\", ignored\n", d);
	if (!v)
		return;
	if (trace_parse_events(v, strlen(v), &m) != MICA_OK) {
		kprintf("trace: trace=%s: not on, off or a list of syscall,ipc,switch,fault,irq; "
		        "tracing stays off\n",
		        v);
		return;
	}
	set_mask(m);
	if (m)
		kprintf("trace: on, mask %x, ring of %u events\n", m, MICA_TRACE_RING);
}

/* Print the ring on the serial line (docs/TRACING.md); returns the events printed. */
static uint64_t dump(void)
{
	uint32_t m = trace_mask;
	uint64_t n = held();

	trace_mask = 0; /* nothing is recorded while the ring is read */
	kprintf("trace begin events=%lu lost=%lu mask=%x ring=%u\n", n, written - n, m,
	        MICA_TRACE_RING);
	for (uint64_t i = written - n; i < written; i++) {
		const struct mica_trace_event *e = &ring[i % MICA_TRACE_RING];

		kprintf("trace %lx %x %s %x %x %x %lx %lx\n", e->tsc, e->tid, type_names[e->type],
		        e->sub, e->x, e->y, e->a, e->b);
	}
	kprintf("trace end\n");
	trace_mask = m;
	return n;
}

/* The kernel is about to leave QEMU (idle=exit): print the ring if trace.dump=exit. */
void trace_dump_at_exit(void)
{
	if (dump_at_exit)
		(void)dump();
}

/* Copy the newest min(cap, held) events to user buffer buf, oldest first. */
static int64_t read_out(uint64_t buf, uint64_t cap)
{
	uint64_t n = held() < cap ? held() : cap;
	size_t sz = sizeof(struct mica_trace_event);

	/* The whole buffer writable before anything is copied. */
	if (n && usercopy_check(sched_current()->as->root, buf, n * sz, true) != MICA_OK)
		return MICA_EFAULT;
	for (uint64_t i = 0; i < n; i++) {
		const struct mica_trace_event *e = &ring[(written - n + i) % MICA_TRACE_RING];

		if (usercopy_to(buf + i * sz, e, sz) != MICA_OK)
			return MICA_EFAULT;
	}
	return (int64_t)n;
}

/*
 * trace(devices, op, arg, cap): control the trace buffer. Who may: the
 * holder of the device authority with MANAGE (the first task has it; it
 * gives it to whom it trusts with the machine). Ops (include/mica/trace.h):
 * START (arg = event mask) empties the ring and records those events;
 * STOP records nothing more and returns the events held; DUMP prints them
 * on the serial line; READ copies up to cap of the newest to arg. Errors:
 * MICA_EBADH, MICA_ERIGHTS (no MANAGE), MICA_EINVAL (an unknown op, a
 * mask of 0 or with unknown bits, cap over MICA_TRACE_RING), MICA_EFAULT
 * (READ's buffer not writable).
 */
int64_t trace_sys_control(const struct syscall_args *s)
{
	int rc = syscall_handle(s->a[0], MICA_OBJ_DEVICES, MICA_RIGHT_MANAGE, NULL);
	if (rc != MICA_OK)
		return rc;
	switch (s->a[1]) {
	case MICA_TRACE_START:
		/* Some events, all of them known. */
		if (s->a[2] == 0 || (s->a[2] & ~(uint64_t)MICA_TRACE_ALL))
			return MICA_EINVAL;
		written = 0;
		set_mask((uint32_t)s->a[2]);
		return MICA_OK;
	case MICA_TRACE_STOP:
		set_mask(0);
		return (int64_t)held();
	case MICA_TRACE_DUMP:
		return (int64_t)dump();
	case MICA_TRACE_READ:
		/* At most a ring's worth. */
		if (s->a[3] > MICA_TRACE_RING)
			return MICA_EINVAL;
		return read_out(s->a[2], s->a[3]);
	default:
		return MICA_EINVAL;
	}
}
