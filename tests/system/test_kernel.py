"""The kernel core seen from user mode: tests/user/ktest.c runs as the first task.

ktest prints "TEST <id> PASS|FAIL <reason>" lines; each is its own pytest
test here. The kernel's own lines show thread exits and kills and the frame
counts before the task started and after every user thread is gone.
"""

import re

import pytest

import mica

KTEST = mica.BUILD / "user" / "ktest.elf"
IDS = [
    "syscall.debug_write",
    "syscall.bad_pointer",
    "syscall.bad_number",
    "syscall.regs_preserved",
    "sched.preemption",
    "sched.no_starvation",
    "sched.wake_preempts",
    "fault.kill_thread",
    "ipc.words_badges",
    "ipc.buffers",
    "ipc.buffer_overlap",
    "ipc.buffer_remapped",
    "ipc.fast_regs",
    "ipc.handle_transfer",
    "ipc.errors",
    "ipc.peer_gone",
    "ipc.endpoint_closed",
    "ipc.receiver_closed",
    "ipc.fast_local.regs",
    "ipc.fast_local.trace_toggle",
    "ipc.fast_local.fallbacks",
    "ipc.fast_local.fs_base",
    "ipc.fast_local.peer_gone",
    "ipc.fast_remote.regs",
    "ipc.fast_remote.trace_toggle",
    "ipc.fast_remote.fallbacks",
    "ipc.fast_remote.fs_base",
    "ipc.fast_remote.peer_gone",
    "ipc.fast_top.call",
    "ipc.fast_top.reply_recv",
    "ipc.fast_local.ymm",
    "notify.merge",
    "notify.no_lost_wakeup",
    "notify.badges_rights",
    "notify.closed",
    "notify.timeout",
    "notify.timeout_errors",
    "notify.bound_receive",
    "irq.handles",
    "trace.errors",
    "trace.call",
    "trace.ring",
    "ioport.ranges",
    "ioport.kill",
    "irq.delivery",
    "time.clock",
    "time.recv_timeout",
    "time.recv_in_time",
    "time.fast_path_deadline",
    "time.poll",
    "time.leaves_queue",
    "time.endpoint_closed",
    "time.call_timeout",
    "time.bad_args",
    "time.deadline_race",
    "time.wake_priority",
    "thread.exit_notice",
    "thread.kill",
    "thread.create_errors",
    "thread.priority_limits",
    "fault.resume_kill",
    "fault.no_pager",
    "ipc.reply_lost",
    "mem.bootinfo",
    "mem.map_unmap",
    "mem.map_errors",
    "mem.map_large",
    "mem.grant",
    "mem.aspace_destroy",
    "mem.donate",
    "mem.enomem",
    "handle.give",
    "cpu.flags_sysret",
    "cpu.flags_switch",
    "cpu.flags_fault",
    "cpu.flags_trap",
    "cpu.fpu_switch",
    "cpu.fpu_fresh",
    "cpu.segs_per_thread",
    "cpu.fsgsbase_off",
    "ipcbuf.set_errors",
    "ipcbuf.fs_per_thread",
    "ipcbuf.calls",
    "ipcbuf.unmapped",
    "ipcbuf.shared_frame",
    "ipcbuf.top_of_user",
    "ipcbuf.receiver_gone",
    "ipcbuf.sender_gone",
    "ipcbuf.large_page",
]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline="idle=exit kstack=measure", modules=[KTEST])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_ktest(run, test_id):
    assert run.results(test_id) == [f"TEST {test_id} PASS"], run.log


def test_every_ktest_result_is_known(run):
    seen = re.findall(r"^TEST (\S+) ", run.log, re.M)
    assert sorted(seen) == sorted(IDS), run.log


def test_user_output_and_task_start(run):
    assert run.has("hello from user mode"), run.log
    assert run.line('boottask: "ktest.elf" started'), run.log
    assert run.has("ktest: done"), run.log


def test_killed_threads_are_named_with_the_cause(run):
    kills = re.findall(r"^thread \d+ killed: (.+) at rip 0x[0-9a-f]+$", run.log, re.M)
    assert sorted(kills) == sorted([
        # fault.kill_thread: exceptions without a pager
        "#UD invalid opcode", "#PF page fault", "#PF page fault", "#GP general protection",
        # ipc.fast_top: the caller, then the server, resumed at MICA_USER_TOP
        "#PF page fault", "#PF page fault",
        # sched.no_starvation's consumer, thread.kill, fault.resume_kill (the fault thread,
        # then the pager), ipc.reply_lost
        "killed by thread_kill", "killed by thread_kill", "killed by its pager", "killed by thread_kill",
        "killed by thread_kill",
        # fault.no_pager: none, then one whose endpoint was closed
        "#PF page fault", "#PF page fault (pager gone)",
        # mem.aspace_destroy
        "address space destroyed",
        # cpu.flags_fault's pager, cpu.flags_trap's single-stepping thread, cpu.fsgsbase_off
        "killed by thread_kill", "#DB debug", "#UD invalid opcode",
        # ioport.kill: in on port 0x80, then just below the range it was given
        "I/O port not granted", "I/O port not granted",
        # ipcbuf.calls' and ipcbuf.unmapped's servers; ipcbuf.shared_frame's remote server
        "killed by thread_kill", "killed by thread_kill", "address space destroyed",
        # ipcbuf.top_of_user's server; ipcbuf.receiver_gone's two; ipcbuf.large_page's server
        "killed by thread_kill", "killed by thread_kill", "killed by thread_kill",
        "killed by thread_kill",
    ]), run.log
    assert not run.has("PANIC"), run.log


def test_exit_codes_reported(run):
    codes = [int(c) for c in re.findall(r"^thread \d+ exited: code (-?\d+)$", run.log, re.M)]
    # main 0, the endpoint-closed waiter 0, the receiver-closed sender 0, the echo server 7 (asked to die), spinners 100,
    # 101, thread.exit_notice 5, the reply_lost server 0, handle.give's thread in another
    # address space 21, thread.priority_limits' two threads 0 and 0, sched.no_starvation's
    # producer and other thread 0 and 0, sched.wake_preempts' receiver 0, cpu.flags_switch's
    # holder and new thread 0 and 0, cpu.flags_fault's toucher 0, cpu.fpu_switch's two
    # workers and cpu.fpu_fresh's thread 0, 0 and 0, cpu.segs_per_thread's two workers 0 and 0;
    # and the time.* helpers, 0 each: recv_in_time 2, fast_path_deadline 2, poll 1,
    # leaves_queue 2, endpoint_closed 1, call_timeout 1, deadline_race 16 (8 rounds of 2),
    # wake_priority 2; the notify.* helpers, 0 each: no_lost_wakeup, closed, timeout,
    # bound_receive; trace.call's server 0; the ipc.fast_* servers (local, remote) 0 and 0;
    # ipcbuf.fs_per_thread's three workers 0, 0 and 0; ipcbuf.sender_gone's caller 0;
    # ipc.fast_local.ymm's server 0
    assert sorted(codes) == [0] * (17 + 27 + 4 + 1 + 2 + 3 + 1 + 1) + [5, 7, 21, 100, 101], run.log


MEMSTATS = re.compile(r"^memstats: reserve=(\d+) reserve_free=(\d+) pool=(\d+) pool_mapped=(\d+) "
                      r"mappings=(\d+) tables=(\d+) objects=(\d+)$", re.M)


def test_counts_return_to_their_boot_values(run):
    """Before the first task and after its last thread: the same kernel counts.

    The only change allowed is the frames ktest donated (mem.map_large, mem.donate, mem.enomem),
    which move from the pool to the reserve, and are free there.
    """
    (r0, f0, p0, m0, n0, t0, o0), (r1, f1, p1, m1, n1, t1, o1) = [
        tuple(map(int, m)) for m in MEMSTATS.findall(run.log)]
    donated = r1 - r0
    assert donated == 10, run.log
    assert (p1, f1) == (p0 - donated, f0 + donated), run.log
    assert (m1, n1, t1, o1) == (m0, n0, t0, o0) == (0, 0, t0, 1), run.log


def test_pool_is_handed_over(run):
    """Every usable frame is the kernel's reserve or the pager's pool."""
    total = int(re.search(r"^frames: total=(\d+)", run.log, re.M).group(1))
    reserve, _, pool = (int(x) for x in MEMSTATS.search(run.log).groups()[:3])
    assert reserve + pool == total, run.log
    assert reserve >= 1024 and pool > total * 3 // 4, run.log


def test_kernel_stacks_have_room(run):
    """kstack=measure: the deepest any thread's kernel stack went in the whole ktest run.

    A thread's block is 8 KiB with its object and FPU area (docs/ARCHITECTURE.md); the
    deepest path must leave at least half of its stack unused.
    """
    m = re.search(r"^kstack: deepest (\d+) of (\d+) bytes \(thread \d+\)$", run.log, re.M)
    assert m, run.log
    deepest, size = int(m[1]), int(m[2])
    assert 6 * 1024 < size < 8 * 1024, run.log
    assert 0 < deepest <= size // 2, run.log


def test_ipc_fast_path_with_fxsave():
    """ipcfast.asm's FPU switch on a CPU without XSAVE (qemu64: fxsave/fxrstor):
    the fast path's register tests and the FPU tests pass there too."""
    r = mica.boot(cmdline="idle=exit", modules=[KTEST], cpu="qemu64")
    assert r.line("cpu:") == "cpu: fxsave, fpu area 512 bytes", r.log
    for test_id in ["ipc.fast_local.regs", "ipc.fast_local.fallbacks", "ipc.fast_local.peer_gone",
                    "ipc.fast_remote.regs", "ipc.fast_remote.fallbacks",
                    "ipc.fast_remote.peer_gone", "cpu.fpu_switch"]:
        assert r.results(test_id) == [f"TEST {test_id} PASS"], r.log
