/*
 * Exceptions: the IDT for vectors 0-31 and their handler. In this kernel
 * every exception is a kernel bug, so the handler prints a dump that names
 * the exception, decodes the error code, and shows CR2, the registers and a
 * frame-pointer backtrace, then stops QEMU with the failure status.
 */
#include "cpu.h"
#include "gdt.h"
#include "ioport.h"
#include "irq.h"
#include "kprintf.h"
#include "panic.h"
#include "pic.h"
#include "sched.h"
#include "thread.h"
#include "trace.h"
#include "trap.h"

struct idt_entry {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
} __attribute__((packed));

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern const uint64_t isr_stubs[IRQ_BASE + IRQ_COUNT];
static struct idt_entry idt[256];

static const char *const names[32] = {
    [0] = "#DE divide error",
    [1] = "#DB debug",
    [2] = "NMI non-maskable interrupt",
    [3] = "#BP breakpoint",
    [4] = "#OF overflow",
    [5] = "#BR bound range exceeded",
    [6] = "#UD invalid opcode",
    [7] = "#NM device not available",
    [8] = "#DF double fault",
    [9] = "coprocessor segment overrun",
    [10] = "#TS invalid TSS",
    [11] = "#NP segment not present",
    [12] = "#SS stack-segment fault",
    [13] = "#GP general protection",
    [14] = "#PF page fault",
    [15] = "reserved vector 15",
    [16] = "#MF x87 floating-point error",
    [17] = "#AC alignment check",
    [18] = "#MC machine check",
    [19] = "#XM SIMD floating-point exception",
    [20] = "#VE virtualization exception",
    [21] = "#CP control protection",
    [28] = "#HV hypervisor injection",
    [29] = "#VC VMM communication",
    [30] = "#SX security exception",
};

/* The printed name of an exception vector. */
const char *trap_name(uint64_t vector)
{
	if (vector < 32 && names[vector])
		return names[vector];
	return "reserved vector";
}

/* Fill the IDT with the 32 exception stubs and load it. */
void idt_init(void)
{
	for (unsigned v = 0; v < IRQ_BASE + IRQ_COUNT; v++) {
		uint64_t a = isr_stubs[v];
		uint8_t ist = 0;

		if (v == 8)
			ist = IST_DOUBLE_FAULT;
		else if (v == 2)
			ist = IST_NMI;
		else if (v == 18)
			ist = IST_MACHINE_CHECK;
		idt[v] = (struct idt_entry){
		    .offset_low = a & 0xFFFF,
		    .selector = GDT_KERNEL_CODE,
		    .ist = ist,
		    .type_attr = 0x8E, /* present, DPL 0, 64-bit interrupt gate */
		    .offset_mid = (a >> 16) & 0xFFFF,
		    .offset_high = (uint32_t)(a >> 32),
		};
	}
	struct idt_ptr p = {sizeof(idt) - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(p));
}

/* Decode a page-fault error code (SDM vol. 3A, figure 4-12). */
static void print_pf_error(uint64_t e)
{
	kprintf("  error 0x%lx: %s %s %s%s%s\n", e, (e & 1) ? "present" : "not-present",
	        (e & 2) ? "write" : "read", (e & 4) ? "user" : "supervisor",
	        (e & 8) ? " reserved-bit" : "", (e & 16) ? " instruction-fetch" : "");
}

/* Entered from isr.asm for every exception and IRQ. */
void trap_handler(struct trap_frame *f)
{
	/* Device interrupts: acknowledge, then the timer drives the scheduler. */
	if (f->vector >= IRQ_BASE && f->vector < IRQ_BASE + IRQ_COUNT) {
		unsigned irq = (unsigned)(f->vector - IRQ_BASE);

		trace_irq(irq);
		if (irq == IRQ_TIMER) {
			pic_eoi(irq);
			sched_tick();
			return;
		}
		/* A device's: masked and its driver's notification signalled, then the
		 * end of interrupt; the driver runs now if it comes first. */
		irq_interrupt(irq);
		pic_eoi(irq);
		sched_preempt();
		return;
	}
	/* An exception in user mode is the thread's: its pager or its end, nobody else's. */
	/* NMI, double fault and machine check are the machine's, not the thread's. */
	bool machine = f->vector == 2 || f->vector == 8 || f->vector == 18;
	if ((f->cs & 3) && !machine) {
		/* Only a #GP may be in or out on a port not given (which ends the thread). */
		if (f->vector == 13 && ioport_fault(f))
			return; /* not reached */
		trace_fault(f->vector, f->vector == TRAP_PF ? cpu_read_cr2() : 0, f->rip);
		thread_fault(f, f->vector == TRAP_PF ? cpu_read_cr2() : 0);
		return; /* the pager resolved the fault: retry */
	}
	panic_begin();
	kprintf("PANIC: %s (vector %lu) in %s mode\n", trap_name(f->vector), f->vector,
	        (f->cs & 3) ? "user" : "kernel");
	if (f->vector == TRAP_PF)
		print_pf_error(f->error);
	else
		kprintf("  error 0x%lx\n", f->error);
	kprintf("  cr2 0x%016lx  cr3 0x%016lx\n", cpu_read_cr2(), cpu_read_cr3());
	kprintf("  rip 0x%016lx  rsp 0x%016lx  rflags 0x%lx  cs 0x%lx  ss 0x%lx\n", f->rip, f->rsp,
	        f->rflags, f->cs, f->ss);
	kprintf("  rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx  rdx 0x%016lx\n", f->rax, f->rbx,
	        f->rcx, f->rdx);
	kprintf("  rsi 0x%016lx  rdi 0x%016lx  rbp 0x%016lx  r8  0x%016lx\n", f->rsi, f->rdi,
	        f->rbp, f->r8);
	kprintf("  r9  0x%016lx  r10 0x%016lx  r11 0x%016lx  r12 0x%016lx\n", f->r9, f->r10, f->r11,
	        f->r12);
	kprintf("  r13 0x%016lx  r14 0x%016lx  r15 0x%016lx\n", f->r13, f->r14, f->r15);
	panic_backtrace(f->rbp);
	panic_end();
}
