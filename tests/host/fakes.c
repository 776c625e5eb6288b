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
