"""Provoked kernel faults end in the PANIC dump and a failure exit."""

import re

import pytest

import mica

REGS = ["rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15"]

CASES = {
    # kind: (vector name on the PANIC line, expected error-code line or None)
    "pf": ("#PF page fault (vector 14)", "error 0x2: not-present write supervisor"),
    "wrodata": ("#PF page fault (vector 14)", "error 0x3: present write supervisor"),
    "xdata": ("#PF page fault (vector 14)",
              "error 0x11: present read supervisor instruction-fetch"),
    "wtext": ("#PF page fault (vector 14)", "error 0x3: present write supervisor"),
    "xstack": ("#PF page fault (vector 14)",
               "error 0x11: present read supervisor instruction-fetch"),
    "wdirect": ("#PF page fault (vector 14)", "error 0x3: present write supervisor"),
    "gp": ("#GP general protection (vector 13)", "error 0x0"),
    "ud": ("#UD invalid opcode (vector 6)", "error 0x0"),
    "de": ("#DE divide error (vector 0)", "error 0x0"),
    "stack": ("#DF double fault (vector 8)", "error 0x0"),
    # SMAP: a read of a user page in ring 0; SMEP: a call into one (both present pages)
    "smap": ("#PF page fault (vector 14)", "error 0x1: present read supervisor"),
    "smep": ("#PF page fault (vector 14)",
             "error 0x11: present read supervisor instruction-fetch"),
}


def register_values(run):
    values = {}
    for ln in run.lines:
        for name, val in re.findall(r"\b(r\w+|cr\d)\s+0x([0-9a-f]+)", ln):
            values.setdefault(name, int(val, 16))
    return values


@pytest.mark.parametrize("kind", sorted(CASES))
def test_exception_dump(kind):
    name, error = CASES[kind]
    run = mica.boot(cmdline=f"fault={kind} ready=exit")
    assert run.rc == mica.EXIT_FAILURE, run.log
    assert not run.has("kernel: ready"), run.log
    panic = [ln for ln in run.lines if ln.startswith("PANIC:")]
    assert panic == [f"PANIC: {name} in kernel mode"], run.log
    assert run.has(f"  {error}"), run.log
    regs = register_values(run)
    for r in ["cr2", "cr3", "rip", "rsp", "rflags"] + REGS:
        assert r in regs, f"{r} missing:\n{run.log}"
    assert regs["rip"] >= 0xFFFFFFFF80000000 or kind in ("xdata", "xstack", "smep"), run.log
    assert run.has("backtrace:"), run.log


def test_page_fault_reports_cr2():
    run = mica.boot(cmdline="fault=pf ready=exit")
    assert register_values(run)["cr2"] == 0xDEADB000, run.log


def test_execute_data_faults_at_the_data():
    """W^X: the fetch from .data faults with RIP = CR2 = the data's address."""
    run = mica.boot(cmdline="fault=xdata ready=exit")
    regs = register_values(run)
    assert regs["rip"] == regs["cr2"] >= 0xFFFFFFFF80000000, run.log


def test_smap_and_smep_fault_at_the_user_page():
    """The kernel touching (fault=smap) or running (fault=smep) a user page faults there."""
    for kind in ("smap", "smep"):
        regs = register_values(mica.boot(cmdline=f"fault={kind} ready=exit"))
        assert regs["cr2"] == 0x10000000, kind
        assert kind == "smap" or regs["rip"] == 0x10000000


def test_cpu_line_names_the_protections():
    """The boot line says what the CPU enforces: all of it on QEMU's max CPU, none on qemu64."""
    assert mica.boot().line("cpu:") == "cpu: smep smap xsave avx, fpu area 832 bytes"
    assert mica.boot(cpu="qemu64").line("cpu:") == "cpu: fxsave, fpu area 512 bytes"


def test_kernel_stack_overflow_is_caught():
    """A kernel thread's stack run past its canary (fault=kstack) panics at its next switch."""
    run = mica.boot(cmdline="fault=kstack ready=exit")
    assert run.rc == mica.EXIT_FAILURE, run.log
    assert not run.has("kernel: ready"), run.log
    panic = run.line("PANIC:")
    assert re.fullmatch(r"PANIC: kernel stack overflow: thread \d+ ran past its \d+-byte stack "
                        r"\(canary at 0xffff8[0-9a-f]+\)", panic), run.log
    assert not run.has("the overflowed thread was resumed"), run.log


def test_software_panic():
    run = mica.boot(cmdline="fault=panic ready=exit")
    assert run.rc == mica.EXIT_FAILURE, run.log
    assert run.line("PANIC:") == "PANIC: provoked by fault=panic", run.log
    assert run.has("backtrace: 0xffffffff8"), run.log


def test_unknown_fault_kind_is_ignored():
    run = mica.boot(cmdline="fault=bogus ready=exit")
    assert run.rc == mica.EXIT_SUCCESS, run.log
    assert run.has("crash: unknown fault kind 'bogus' ignored"), run.log
    assert run.has("kernel: ready"), run.log
