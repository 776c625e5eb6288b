/* Fake CPU and simulated physical memory for the host unit tests. */
#include <string.h>

#include "cpu.h"
#include "fakes.h"

uint8_t *host_phys_base;
struct fake_cpu fake_cpu;
void (*fake_cpu_flush_hook)(void);

void fake_cpu_reset(uint64_t cr3, uint64_t cr4)
{
	memset(&fake_cpu, 0, sizeof(fake_cpu));
	fake_cpu.cr3 = cr3;
	fake_cpu.cr4 = cr4;
}

void fake_cpu_clear_log(void)
{
	fake_cpu_reset(fake_cpu.cr3, fake_cpu.cr4);
}

uint64_t cpu_read_cr3(void)
{
	fake_cpu.cr3_reads++;
	return fake_cpu.cr3;
}

void cpu_write_cr3(uint64_t v)
{
	fake_cpu.cr3_writes++;
	fake_cpu.cr3 = v;
	if (fake_cpu_flush_hook)
		fake_cpu_flush_hook();
}

uint64_t cpu_read_cr4(void)
{
	return fake_cpu.cr4;
}

void cpu_write_cr4(uint64_t v)
{
	if (fake_cpu.cr4_writes < sizeof(fake_cpu.cr4_written) / sizeof(fake_cpu.cr4_written[0]))
		fake_cpu.cr4_written[fake_cpu.cr4_writes] = v;
	fake_cpu.cr4_writes++;
	fake_cpu.cr4 = v;
	if (fake_cpu_flush_hook)
		fake_cpu_flush_hook();
}

void cpu_invlpg(vaddr_t va)
{
	if (fake_cpu.invlpgs < FAKE_INVLPG_LOG)
		fake_cpu.invlpg_va[fake_cpu.invlpgs] = va;
	fake_cpu.invlpgs++;
	if (fake_cpu_flush_hook)
		fake_cpu_flush_hook();
}

/*
 * Notifications, interrupts and I/O ports (kernel/notify.c, irq.c,
 * ioport.c), which the host tests of ipc.c and syscall.c do not link:
 * weak stand-ins, so a test that does link them gets the real ones.
 */
#include <mica/error.h>
#include "ioport.h"
#include "irq.h"
#include "notify.h"

#define WEAK __attribute__((weak))
struct kobj devices_authority WEAK;
struct aspace *ioport_open_as WEAK;
WEAK uint64_t notify_take_bound(struct thread *t)
{
	(void)t;
	return 0;
}
WEAK void notify_detach(struct thread *t)
{
	(void)t;
}
WEAK void notify_unwait(struct thread *t)
{
	(void)t;
}
WEAK void notify_release(struct notification *n)
{
	(void)n;
}
WEAK void irq_release(struct irq *q)
{
	(void)q;
}
WEAK void ioport_release(struct ioport *p)
{
	(void)p;
}
WEAK void devices_release(struct kobj *o)
{
	(void)o;
}
WEAK void ioport_aspace_release(struct aspace *as)
{
	(void)as;
}
WEAK void ioport_load(struct aspace *as)
{
	(void)as;
}
#define FAKE_SYS(name)                                                                             \
	WEAK int64_t name(const struct syscall_args *s)                                            \
	{                                                                                          \
		(void)s;                                                                           \
		return MICA_ENOSYS;                                                                \
	}
FAKE_SYS(notify_sys_create)
FAKE_SYS(notify_sys_signal)
FAKE_SYS(notify_sys_wait)
FAKE_SYS(notify_sys_poll)
FAKE_SYS(notify_sys_bind)
FAKE_SYS(irq_sys_create)
FAKE_SYS(irq_sys_bind)
FAKE_SYS(irq_sys_ack)
FAKE_SYS(ioport_sys_create)
FAKE_SYS(ioport_sys_enable)
FAKE_SYS(trace_sys_control)
