/*
 * The structure offsets and constants the assembly IPC fast path
 * (ipcfast.asm) reads, from the compiler itself: this file is compiled to
 * assembly only (never linked), and the Makefile turns each "@OFF name
 * value" line of the output into a NASM %define in
 * build/gen/asmoffsets.inc. So the assembly cannot disagree with the C
 * structures.
 */
#include <stddef.h>
#include <mica/fault.h>
#include <mica/handle.h>
#include <mica/layout.h>
#include "aspace.h"
#include "handle.h"
#include "ipc.h"
#include "percpu.h"
#include "thread.h"
#include "trap.h"

#define OFF(name, value) __asm__ volatile("@OFF " #name " %c0" : : "i"((long)(value)))

void asmoffsets(void);

void asmoffsets(void)
{
	/* struct thread: the scheduler's, the IPC state's and the switch's fields. */
	OFF(TH_NEXT, offsetof(struct thread, next));
	OFF(TH_PREV, offsetof(struct thread, prev));
	OFF(TH_PRIO, offsetof(struct thread, prio));
	OFF(TH_STATE, offsetof(struct thread, state));
	OFF(TH_TICKS_LEFT, offsetof(struct thread, ticks_left));
	OFF(TH_KSP, offsetof(struct thread, ksp));
	OFF(TH_AS, offsetof(struct thread, as));
	OFF(TH_IPC_EP, offsetof(struct thread, ipc_ep));
	OFF(TH_IPC_NEXT, offsetof(struct thread, ipc_next));
	OFF(TH_IPC_STATE, offsetof(struct thread, ipc_state));
	OFF(TH_REPLY_TO, offsetof(struct thread, reply_to));
	OFF(TH_REPLIER, offsetof(struct thread, replier));
	OFF(TH_BOUND_NTF, offsetof(struct thread, bound_ntf));
	OFF(TH_SEGS, offsetof(struct thread, segs));
	OFF(TH_IPCBUF, offsetof(struct thread, ipcbuf));
	OFF(TH_FPU, THREAD_FPU_OFFSET);
	OFF(TH_CANARY, THREAD_CANARY_OFFSET);
	OFF(TH_CANARY_VALUE, THREAD_CANARY);
	OFF(TH_CANARY_MEASURE, THREAD_CANARY_MEASURE);
	OFF(TH_BLOCK_SIZE, THREAD_BLOCK_SIZE);
	/* The trap frame from the thread: it sits at the top of the block. */
	OFF(TH_FRAME, THREAD_BLOCK_SIZE - sizeof(struct trap_frame));
	OFF(TRAP_FRAME_SIZE, sizeof(struct trap_frame));
	OFF(TH_RUNNABLE, THREAD_RUNNABLE);
	OFF(TH_BLOCKED, THREAD_BLOCKED);
	OFF(IPC_ST_NONE, IPC_NONE);
	OFF(IPC_ST_RECEIVING, IPC_RECEIVING);
	OFF(IPC_ST_AWAIT_REPLY, IPC_AWAIT_REPLY);
	/* struct aspace and its handle table. */
	OFF(AS_ROOT, offsetof(struct aspace, root));
	OFF(AS_PORTS0, offsetof(struct aspace, ports));
	OFF(AS_HSLOT, offsetof(struct aspace, handles.slot));
	OFF(AS_HNFIXED, offsetof(struct aspace, handles.nfixed));
	OFF(H_SIZE, sizeof(struct handle));
	OFF(H_OBJ, offsetof(struct handle, obj));
	OFF(H_RIGHTS, offsetof(struct handle, rights));
	OFF(H_BADGE, offsetof(struct handle, badge));
	OFF(KOBJ_TYPE, offsetof(struct kobj, type));
	OFF(OBJ_ENDPOINT, MICA_OBJ_ENDPOINT);
	OFF(RIGHT_SEND, MICA_RIGHT_SEND);
	OFF(RIGHT_RECV, MICA_RIGHT_RECV);
	/* struct endpoint. */
	OFF(EP_SENDERS, offsetof(struct endpoint, senders));
	OFF(EP_RECEIVERS, offsetof(struct endpoint, receivers));
	OFF(EP_RECEIVERS_TAIL, offsetof(struct endpoint, receivers_tail));
	OFF(EP_CLOSED, offsetof(struct endpoint, closed));
	/* The first label user code may not send (fault.h), as a signed imm32. */
	OFF(LABEL_KERNEL, (long)MICA_LABEL_KERNEL);
}
