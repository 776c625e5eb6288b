/*
 * Shared fakes for the host unit tests: the simulated physical memory base
 * (phys_to_virt under MICA_HOST) and a fake CPU whose control registers and
 * TLB operations are recorded so tests can assert on them.
 */
#ifndef TESTS_HOST_FAKES_H
#define TESTS_HOST_FAKES_H

#include <stdint.h>

#define FAKE_INVLPG_LOG 4096

struct fake_cpu {
	uint64_t cr3;
	uint64_t cr4;
	unsigned cr3_reads;
	unsigned cr3_writes;
	unsigned cr4_writes;
	uint64_t cr4_written[8]; /* the first values written to CR4 */
	unsigned invlpgs;
	uint64_t invlpg_va[FAKE_INVLPG_LOG]; /* the first addresses invalidated */
};

extern uint8_t *host_phys_base;
extern struct fake_cpu fake_cpu;

/*
 * If set, called at every TLB-invalidating operation (invlpg, CR3 write,
 * CR4 write) after it is recorded, so a test can look at the state the
 * code under test is in at that moment. fake_cpu_reset leaves it alone.
 */
extern void (*fake_cpu_flush_hook)(void);

/* Set CR3 and CR4 and forget every recorded call. */
void fake_cpu_reset(uint64_t cr3, uint64_t cr4);

/* Forget the recorded calls, keeping the register values. */
void fake_cpu_clear_log(void);

#endif /* TESTS_HOST_FAKES_H */
