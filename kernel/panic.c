/*
 * Stopping the kernel. A panic prints a dump whose first line starts with
 * "PANIC:" and then makes QEMU exit with the failure status, so a test
 * sees a failure rather than a hang or a reboot loop. A panic inside a
 * panic stops at once.
 */
#include <mica/layout.h>
#include "cpu.h"
#include "kprintf.h"
#include "panic.h"
#include "pt.h"

static bool panicking;

/* Start a panic dump; a nested panic leaves QEMU immediately. */
void panic_begin(void)
{
	if (panicking) {
		kprintf("PANIC: nested panic\n");
		cpu_qemu_exit(QEMU_EXIT_FAILURE);
	}
	panicking = true;
}

/*
 * Print the return addresses along the frame-pointer chain from rbp
 * (the kernel is built with -fno-omit-frame-pointer). Every frame is
 * checked to be mapped before it is read, so a corrupt chain just ends
 * the backtrace. `addr2line -e build/kernel.elf ADDR` names each one.
 */
void panic_backtrace(uint64_t rbp)
{
	paddr_t root = cpu_read_cr3() & ~0xFFFULL;

	kprintf("  backtrace:");
	for (int depth = 0; depth < 16 && rbp >= MICA_KERNEL_HALF && rbp % 8 == 0; depth++) {
		if (pt_translate(root, rbp, NULL, NULL) != 0 ||
		    pt_translate(root, rbp + 8, NULL, NULL) != 0)
			break;
		const uint64_t *frame = (const uint64_t *)rbp;
		kprintf(" 0x%lx", frame[1]);
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	kprintf("\n");
}

/* Finish a panic dump: leave QEMU with the failure status. */
void panic_end(void)
{
	cpu_qemu_exit(QEMU_EXIT_FAILURE);
}

/* Stop the kernel because of a bug: "PANIC: <message>", a backtrace, exit. */
void panic(const char *fmt, ...)
{
	va_list ap;

	panic_begin();
	kprintf("PANIC: ");
	va_start(ap, fmt);
	kvprintf(fmt, ap);
	va_end(ap);
	kprintf("\n");
	panic_backtrace((uint64_t)__builtin_frame_address(0));
	panic_end();
}

/*
 * Stop because the machine cannot run Mica (too little memory, no memory
 * map): one line "mica: boot: <reason>", then the failure exit. Not a bug,
 * so no dump.
 */
void boot_fail(const char *reason)
{
	kprintf("mica: boot: %s\n", reason);
	cpu_qemu_exit(QEMU_EXIT_FAILURE);
}
