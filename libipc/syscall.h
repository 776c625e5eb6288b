/*
 * User-side system-call wrappers: one inline function per call of
 * include/mica/syscall.h, following its register convention.
 */
#ifndef LIBIPC_SYSCALL_H
#define LIBIPC_SYSCALL_H

#include <mica/error.h>
#include <mica/handle.h>
#include <mica/ipc.h>
#include <mica/memory.h>
#include <mica/notify.h>
#include <mica/syscall.h>
#include <mica/thread.h>
#include <mica/time.h>
#include <stddef.h>
#include <stdint.h>

static inline int64_t mica_syscall4(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	int64_t ret;
	register uint64_t r10 __asm__("r10") = a3;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10)
	                 : "rcx", "r11", "memory");
	return ret;
}

static inline int64_t mica_syscall6(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
                                    uint64_t a4, uint64_t a5)
{
	int64_t ret;
	register uint64_t r10 __asm__("r10") = a3;
	register uint64_t r8 __asm__("r8") = a4;
	register uint64_t r9 __asm__("r9") = a5;

	__asm__ volatile("syscall"
	                 : "=a"(ret)
	                 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "r"(r10), "r"(r8), "r"(r9)
	                 : "rcx", "r11", "memory");
	return ret;
}

/* Write len bytes (at most MICA_DEBUG_WRITE_MAX) to the kernel's serial console. */
static inline int64_t mica_debug_write(const void *buf, size_t len)
{
	return mica_syscall4(MICA_SYS_DEBUG_WRITE, (uint64_t)buf, len, 0, 0);
}

/* End the calling thread. */
static inline __attribute__((noreturn)) void mica_thread_exit(int64_t code)
{
	mica_syscall4(MICA_SYS_THREAD_EXIT, (uint64_t)code, 0, 0, 0);
	__builtin_unreachable();
}

/* Let another thread of the same priority run. */
static inline int64_t mica_yield(void)
{
	return mica_syscall4(MICA_SYS_YIELD, 0, 0, 0, 0);
}

/* Create and start a thread in address space `as`; returns a handle to it. */
static inline int64_t mica_thread_create(mica_handle_t as, const struct mica_thread_params *p)
{
	return mica_syscall4(MICA_SYS_THREAD_CREATE, (uint64_t)(int64_t)as, (uint64_t)p, 0, 0);
}

/* End a thread; its supervisor hears MICA_EXIT_KILLED with `code`. */
static inline int64_t mica_thread_kill(mica_handle_t t, uint64_t code)
{
	return mica_syscall4(MICA_SYS_THREAD_KILL, (uint64_t)(int64_t)t, code, 0, 0);
}

/* ---- time (include/mica/time.h) ---- */

/* Nanoseconds since boot: monotonic, advancing a timer tick (about 10 ms) at a time. */
static inline int64_t mica_clock(void)
{
	return mica_syscall4(MICA_SYS_CLOCK, 0, 0, 0, 0);
}

/* Wait at least ns (at most MICA_TIMEOUT_MAX, else MICA_EINVAL; 0 returns at once). */
static inline int64_t mica_sleep(uint64_t ns)
{
	return mica_syscall4(MICA_SYS_SLEEP, ns, 0, 0, 0);
}

/* ---- memory (include/mica/memory.h); all but mem_stats need MICA_RIGHT_MEMORY ---- */

/* A new empty address space; `auth` is a handle with the memory right. */
static inline int64_t mica_aspace_create(mica_handle_t auth)
{
	return mica_syscall4(MICA_SYS_ASPACE_CREATE, (uint64_t)(int64_t)auth, 0, 0, 0);
}

/* One step of destroying `as`: returns the frames unmapped (< cap: it is empty). */
static inline int64_t mica_aspace_destroy(mica_handle_t as, uint64_t *frames, uint64_t cap)
{
	return mica_syscall4(MICA_SYS_ASPACE_DESTROY, (uint64_t)(int64_t)as, (uint64_t)frames, cap,
	                     0);
}

/* Map npages pool frames from `frame` at vaddr with MICA_MAP_* rights. */
static inline int64_t mica_map(mica_handle_t as, uint64_t vaddr, uint64_t frame, uint64_t npages,
                               unsigned rights)
{
	return mica_syscall6(MICA_SYS_MAP, (uint64_t)(int64_t)as, vaddr, frame, npages, rights, 0);
}

/* Unmap npages at vaddr; each page's frame goes to frames[] (if not NULL). */
static inline int64_t mica_unmap(mica_handle_t as, uint64_t vaddr, uint64_t npages,
                                 uint64_t *frames)
{
	return mica_syscall4(MICA_SYS_UNMAP, (uint64_t)(int64_t)as, vaddr, npages,
	                     (uint64_t)frames);
}

/* Move npages mappings from src at svaddr to dst at dvaddr. */
static inline int64_t mica_grant(mica_handle_t src, uint64_t svaddr, mica_handle_t dst,
                                 uint64_t dvaddr, uint64_t npages)
{
	return mica_syscall6(MICA_SYS_GRANT, (uint64_t)(int64_t)src, svaddr, (uint64_t)(int64_t)dst,
	                     dvaddr, npages, 0);
}

/* Give unmapped pool frames to the kernel's reserve. */
static inline int64_t mica_donate(mica_handle_t auth, uint64_t frame, uint64_t npages)
{
	return mica_syscall4(MICA_SYS_DONATE, (uint64_t)(int64_t)auth, frame, npages, 0);
}

/* The kernel's frame counts. */
static inline int64_t mica_mem_stats(struct mica_mem_stats *st)
{
	return mica_syscall4(MICA_SYS_MEM_STATS, (uint64_t)st, 0, 0, 0);
}

/* A new endpoint; returns a handle with send, receive and copy rights. */
static inline int64_t mica_endpoint_create(void)
{
	return mica_syscall4(MICA_SYS_ENDPOINT_CREATE, 0, 0, 0, 0);
}

/* Drop a handle. */
static inline int64_t mica_handle_close(mica_handle_t h)
{
	return mica_syscall4(MICA_SYS_HANDLE_CLOSE, (uint64_t)(int64_t)h, 0, 0, 0);
}

/*
 * A copy of handle h with rights & mask; with a non-zero badge (endpoints
 * only), one whose receivers see the badge.
 */
static inline int64_t mica_handle_mint(mica_handle_t h, uint32_t mask, uint64_t badge)
{
	return mica_syscall4(MICA_SYS_HANDLE_MINT, (uint64_t)(int64_t)h, mask, badge, 0);
}

/* Copy handle h, with rights & mask, into address space `as`; returns its number there. */
static inline int64_t mica_handle_give(mica_handle_t as, mica_handle_t h, uint32_t mask)
{
	return mica_syscall4(MICA_SYS_HANDLE_GIVE, (uint64_t)(int64_t)as, (uint64_t)(int64_t)h,
	                     mask, 0);
}

/* The register part of a message. */
struct mica_msg {
	uint64_t label;
	uint64_t w[MICA_MSG_WORDS];
};

/*
 * One IPC system call (include/mica/ipc.h): m goes out in registers and
 * comes back holding what was received; *badge (if not NULL) gets the
 * sender's badge.
 */
static inline int64_t mica_ipc(uint64_t nr, mica_handle_t ep, struct mica_msg *m,
                               struct mica_ipc_extra *x, uint64_t *badge)
{
	uint64_t rax = nr, rdi = (uint64_t)(int64_t)ep, rsi = m->label, rdx = m->w[0];
	register uint64_t r10 __asm__("r10") = m->w[1];
	register uint64_t r8 __asm__("r8") = m->w[2];
	register uint64_t r9 __asm__("r9") = m->w[3];
	register uint64_t r12 __asm__("r12") = m->w[4];
	register uint64_t r13 __asm__("r13") = m->w[5];
	register uint64_t r14 __asm__("r14") = m->w[6];
	register uint64_t r15 __asm__("r15") = m->w[7];

	__asm__ volatile("syscall"
	                 : "+a"(rax), "+D"(rdi), "+S"(rsi), "+d"(rdx), "+r"(r10), "+r"(r8),
	                   "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14), "+r"(r15)
	                 : "b"(x)
	                 : "rcx", "r11", "memory");
	m->label = rsi;
	m->w[0] = rdx;
	m->w[1] = r10;
	m->w[2] = r8;
	m->w[3] = r9;
	m->w[4] = r12;
	m->w[5] = r13;
	m->w[6] = r14;
	m->w[7] = r15;
	if (badge)
		*badge = rdi;
	return (int64_t)rax;
}

static inline int64_t mica_send(mica_handle_t ep, struct mica_msg *m, struct mica_ipc_extra *x)
{
	return mica_ipc(MICA_SYS_IPC_SEND, ep, m, x, 0);
}

static inline int64_t mica_try_send(mica_handle_t ep, struct mica_msg *m, struct mica_ipc_extra *x)
{
	return mica_ipc(MICA_SYS_IPC_TRY_SEND, ep, m, x, 0);
}

static inline int64_t mica_recv(mica_handle_t ep, struct mica_msg *m, struct mica_ipc_extra *x,
                                uint64_t *badge)
{
	return mica_ipc(MICA_SYS_IPC_RECV, ep, m, x, badge);
}

static inline int64_t mica_try_recv(mica_handle_t ep, struct mica_msg *m, struct mica_ipc_extra *x,
                                    uint64_t *badge)
{
	return mica_ipc(MICA_SYS_IPC_TRY_RECV, ep, m, x, badge);
}

/* Send m and wait for the reply, which replaces m. */
static inline int64_t mica_call(mica_handle_t ep, struct mica_msg *m, struct mica_ipc_extra *x)
{
	return mica_ipc(MICA_SYS_IPC_CALL, ep, m, x, 0);
}

/*
 * Bound the waits of the IPC calls given descriptor x by ns from each call
 * (0 polls; at most MICA_TIMEOUT_MAX): they return MICA_ETIMEDOUT after
 * (include/mica/ipc.h). mica_ipc_forever lifts the bound.
 */
static inline void mica_ipc_timeout(struct mica_ipc_extra *x, uint64_t ns)
{
	x->flags |= MICA_IPC_TIMEOUT;
	x->timeout_ns = ns;
}

static inline void mica_ipc_forever(struct mica_ipc_extra *x)
{
	x->flags &= ~(uint64_t)MICA_IPC_TIMEOUT;
	x->timeout_ns = 0;
}

/* Reply with m to the caller this thread owes, then receive the next message into m. */
static inline int64_t mica_reply_recv(mica_handle_t ep, struct mica_msg *m,
                                      struct mica_ipc_extra *x, uint64_t *badge)
{
	return mica_ipc(MICA_SYS_IPC_REPLY_RECV, ep, m, x, badge);
}

/* ---- notifications, interrupts and I/O ports (mica/notify.h, mica/device.h) ---- */

/* A new notification; returns a handle with signal, wait and copy rights. */
static inline int64_t mica_notify_create(void)
{
	return mica_syscall4(MICA_SYS_NOTIFY_CREATE, 0, 0, 0, 0);
}

/* OR bits into n's word (a badged handle signals its badge); never blocks. */
static inline int64_t mica_notify_signal(mica_handle_t n, uint64_t bits)
{
	return mica_syscall4(MICA_SYS_NOTIFY_SIGNAL, (uint64_t)(int64_t)n, bits, 0, 0);
}

/* Block until some bit of n is set; returns the bits and clears them. */
static inline int64_t mica_notify_wait(mica_handle_t n)
{
	return mica_syscall4(MICA_SYS_NOTIFY_WAIT, (uint64_t)(int64_t)n, 0, 0, 0);
}

/* notify_wait for at most timeout_ns (MICA_NOTIFY_TIMEOUT): the word, or MICA_ETIMEDOUT. */
static inline int64_t mica_notify_wait_timeout(mica_handle_t n, uint64_t timeout_ns)
{
	return mica_syscall4(MICA_SYS_NOTIFY_WAIT, (uint64_t)(int64_t)n, MICA_NOTIFY_TIMEOUT,
	                     timeout_ns, 0);
}

/* The bits of n (0 if none), cleared; never blocks. */
static inline int64_t mica_notify_poll(mica_handle_t n)
{
	return mica_syscall4(MICA_SYS_NOTIFY_POLL, (uint64_t)(int64_t)n, 0, 0, 0);
}

/* Bind n to the calling thread's receive (MICA_HANDLE_NONE: unbind). */
static inline int64_t mica_notify_bind(mica_handle_t n)
{
	return mica_syscall4(MICA_SYS_NOTIFY_BIND, (uint64_t)(int64_t)n, 0, 0, 0);
}

/* The handle of interrupt line `line`, from the device authority. */
static inline int64_t mica_irq_create(mica_handle_t devices, uint64_t line)
{
	return mica_syscall4(MICA_SYS_IRQ_CREATE, (uint64_t)(int64_t)devices, line, 0, 0);
}

/* Route the line to notification n and unmask it (MICA_HANDLE_NONE: unroute, mask). */
static inline int64_t mica_irq_bind(mica_handle_t irq, mica_handle_t n)
{
	return mica_syscall4(MICA_SYS_IRQ_BIND, (uint64_t)(int64_t)irq, (uint64_t)(int64_t)n, 0, 0);
}

/* Unmask the line after serving its interrupt. */
static inline int64_t mica_irq_ack(mica_handle_t irq)
{
	return mica_syscall4(MICA_SYS_IRQ_ACK, (uint64_t)(int64_t)irq, 0, 0, 0);
}

/* A handle to ports [first, first + count), from the device authority. */
static inline int64_t mica_ioport_create(mica_handle_t devices, uint64_t first, uint64_t count)
{
	return mica_syscall4(MICA_SYS_IOPORT_CREATE, (uint64_t)(int64_t)devices, first, count, 0);
}

/* Let the caller's address space use the ports of handle p. */
static inline int64_t mica_ioport_enable(mica_handle_t p)
{
	return mica_syscall4(MICA_SYS_IOPORT_ENABLE, (uint64_t)(int64_t)p, 0, 0, 0);
}

static inline void mica_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t mica_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* ---- the IPC buffer (mica/ipc.h, docs/ABI.md "The IPC buffer") ---- */

/*
 * Make the page at `page` (page-aligned, mapped writable) the calling
 * thread's IPC buffer, and its FS base; NULL: none. Returns 0 or
 * MICA_EALIGN, MICA_ERANGE, MICA_EFAULT.
 */
static inline int64_t mica_ipc_buffer_set(void *page)
{
	return mica_syscall4(MICA_SYS_IPC_BUFFER_SET, (uint64_t)page, 0, 0, 0);
}

/* The descriptor argument of an IPC call that uses the thread's IPC buffer. */
#define MICA_IPC_BUF ((struct mica_ipc_extra *)MICA_IPC_BUFFER)

/*
 * The calling thread's IPC buffer, found through FS (the kernel keeps the
 * FS base at the buffer and wrote its address in `self`): one load. Only
 * for a thread that registered one (FS base 0 otherwise: this faults).
 */
static inline struct mica_ipc_buffer *mica_ipc_buffer(void)
{
	struct mica_ipc_buffer *b;

	/* volatile: read again after each mica_ipc_buffer_set (the base may have changed). */
	__asm__ volatile("movq %%fs:0, %0" : "=r"(b));
	return b;
}

/* ---- the kernel trace buffer (mica/trace.h, docs/TRACING.md) ---- */
#include <mica/trace.h>

/* Trace operation op (MICA_TRACE_*) with the device authority; arg and cap per op. */
static inline int64_t mica_trace(mica_handle_t devices, uint64_t op, uint64_t arg, uint64_t cap)
{
	return mica_syscall4(MICA_SYS_TRACE, (uint64_t)(int64_t)devices, op, arg, cap);
}

#endif /* LIBIPC_SYSCALL_H */
