/*
 * idltest: the IDL stubs in Mica. A server thread serves
 * tests/idl/idltest.idl with libipc's loop on a real endpoint; the first
 * thread calls it through the generated client stubs and by hand.
 * tests/system/test_idl.py reads the "TEST <id> PASS|FAIL" lines.
 */
#ifndef IDLTEST_H
#define IDLTEST_H

#include <idl/idltest_client.h>
#include <idl/idltest_server.h>
#include <libipc/server.h>
#include <libipc/syscall.h>
#include <mica/bootinfo.h>
#include "out.h"

/* Start entry(arg) in this address space at priority 16 with the stack ending at top. */
long spawn(void (*entry)(uint64_t), void *top, uint64_t arg, mica_handle_t pager,
           mica_handle_t supervisor);

/* The server (server.c): its thread's entry, given the endpoint. */
void server_main(uint64_t ep);

/* What the server's kernel callback saw: page faults and exit notices. */
struct kernel_seen {
	volatile unsigned faults, exits;
	volatile uint64_t fault_badge, fault_addr;
	volatile uint64_t exit_badge, exit_reason, exit_code;
};
extern struct kernel_seen kernel_seen;

/* Set by the server thread when ipc_serve returns, with what it returned. */
extern volatile int server_done;
extern volatile long server_rc;

#define FAULT_KILL_CODE 77 /* what the server answers a fault with */

#endif /* IDLTEST_H */
