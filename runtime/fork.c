/*
 * fork (<unistd.h>): pager.fork with a way back into the caller's
 * frame. The pager can start a thread only at an entry, with a stack
 * pointer and one argument (RDI), so fork() saves the registers a call
 * must preserve (RBX, RBP, R12-R15, the MXCSR and x87 control words) and
 * its return address on its own stack, and asks the pager to start the
 * child at rt_fork_child with RSP and RDI at that frame. The child's copy
 * of the stack holds the saved registers as they were at the call;
 * rt_fork_child restores them and returns 0 from fork, as if the call had
 * returned there. The frame also holds the struct mica_fork_info the
 * pager writes in the child's copy only: the child's pid and handles,
 * which the runtime takes as its own (crt0.c, stdio.c).
 *
 * The heap's and the console's locks are held across the call, so the
 * child's copies of them are consistent even when another thread of the
 * parent was using them; the child finds them held and lets them go.
 * Other locks a program takes are its own affair (as with POSIX fork in
 * a threaded process): only the calling thread goes on in the child.
 */
#include <idl/pager_client.h>
#include <libipc/ipc.h>
#include <mica/pager.h>
#include <unistd.h>
#include "rt.h"

/* The frame fork() builds at RSP: the record the pager fills, then the control words. */
struct rt_fork_frame {
	struct mica_fork_info info; /* 24 bytes at RSP */
	uint32_t mxcsr;             /* at RSP + 24 */
	uint16_t fpucw;             /* at RSP + 28 */
};

_Static_assert(sizeof(struct mica_fork_info) == 24, "fork.c's assembly knows the layout");
_Static_assert(sizeof(struct rt_fork_frame) <= 40, "fork.c's assembly reserves 40 bytes");

long rt_fork_call(struct rt_fork_frame *f);
void rt_fork_child_start(struct rt_fork_frame *f);
void rt_fork_child(void);

/*
 * RSP is 8 below a 16-byte boundary at entry; six pushes and 40 bytes put
 * the frame on a boundary, so the calls below see the ABI's alignment and
 * the child starts (RSP = the frame) as if about to make a call.
 */
__asm__(".text\n"
        ".global fork\n"
        ".type fork, @function\n"
        "fork:\n"
        "	pushq %rbp\n"
        "	pushq %rbx\n"
        "	pushq %r12\n"
        "	pushq %r13\n"
        "	pushq %r14\n"
        "	pushq %r15\n"
        "	subq $40, %rsp\n"
        "	stmxcsr 24(%rsp)\n"
        "	fnstcw 28(%rsp)\n"
        "	movq %rsp, %rdi\n"
        "	call rt_fork_call\n"
        "1:\n"
        "	addq $40, %rsp\n"
        "	popq %r15\n"
        "	popq %r14\n"
        "	popq %r13\n"
        "	popq %r12\n"
        "	popq %rbx\n"
        "	popq %rbp\n"
        "	ret\n"
        ".size fork, . - fork\n"
        ".global rt_fork_child\n"
        ".type rt_fork_child, @function\n"
        "rt_fork_child:\n"
        "	ldmxcsr 24(%rsp)\n"
        "	fldcw 28(%rsp)\n"
        "	call rt_fork_child_start\n"
        "	xorl %eax, %eax\n"
        "	jmp 1b\n"
        ".size rt_fork_child, . - rt_fork_child\n");

/*
 * The forking thread's IPC buffer (a page of its stack), which the
 * child's thread takes as its own: the child's copy of that page, at the
 * same address (set before the pager copies this, under the heap's lock).
 */
static struct mica_ipc_buffer *fork_ipcbuf;

/* The parent's half: the pager call, with the runtime's locks held; the child's pid or an error. */
long rt_fork_call(struct rt_fork_frame *f)
{
	const struct mica_startup *info = rt_startup_info();
	uint64_t pid;
	int e;

	if (!info)
		return MICA_EPERM;
	f->info.magic = 0;
	rt_heap_fork_lock();
	fork_ipcbuf = ipc_buffers_on() ? mica_ipc_buffer() : 0;
	rt_stdout_fork_lock();
	e = pager_fork(info->pager, (uint64_t)(uintptr_t)rt_fork_child, (uint64_t)(uintptr_t)f,
	               (uint64_t)(uintptr_t)&f->info, &pid);
	rt_stdout_fork_unlock();
	rt_heap_fork_unlock();
	return e < 0 ? e : (long)pid;
}

/*
 * The child's first C: its IPC buffer (its copy of the forking thread's;
 * if that fails, this one thread of the child goes by descriptors), its
 * own pid and handles from the pager's record, the locks let go.
 */
void rt_fork_child_start(struct rt_fork_frame *f)
{
	ipc_buffers_enable(fork_ipcbuf && rt_ipc_buffer_take(fork_ipcbuf) == 0);
	rt_startup_forked(&f->info);
	rt_stdout_forked();
	rt_heap_fork_unlock();
}
