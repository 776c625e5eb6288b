"""`make debug`: QEMU halted with its gdb stub, tools/gdbinit attaching to it, and
tools/gdb/mica.py's commands (docs/DEBUGGING.md): mica ps, mica symbols, and
mica break, whose breakpoints stop only in their own process."""

import os
import re
import socket
import subprocess

import mica

GDB_TIMEOUT = 120  # seconds for a whole gdb session; one takes a few (gdb: tools/deps.sh)


def free_port():
    """A TCP port nobody listens on now: several test runs may debug at once, so not 1234."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def debug_session(commands, scenario=None):
    """Boot an ISO halted under QEMU's gdb stub (the scenario's, or the kernel alone), run
    tools/gdbinit then commands in gdb's batch mode, and return what gdb printed. QEMU and
    gdb end by the end of the call, whatever happens."""
    if scenario:
        s = mica.scenario(scenario)
        iso, mem = mica.iso(s.cmdline, modules=[mica.ROOT / m for m in s.modules]), s.mem
    else:
        iso, mem = mica.iso(), "128M"
    port = free_port()
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-m", mem, "-cpu", "max", "-cdrom", str(iso), "-boot", "d",
         "-display", "none", "-monitor", "none", "-serial", "null", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
         "-gdb", f"tcp:127.0.0.1:{port}", "-S"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        args = ["gdb", "-nx", "-q", "-batch", "-x", "tools/gdbinit"]
        for c in commands:
            args += ["-ex", c]
        gdb = subprocess.run(args, cwd=mica.ROOT, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, timeout=GDB_TIMEOUT,
                             env=dict(os.environ, MICA_GDB_PORT=str(port)))
    except subprocess.TimeoutExpired as e:  # subprocess.run has killed gdb
        out = e.stdout.decode("utf-8", "replace") if isinstance(e.stdout, bytes) else e.stdout
        raise AssertionError(f"gdb did not finish within {GDB_TIMEOUT}s:\n{out}") from None
    finally:
        qemu.kill()
        qemu.wait()
    return gdb.stdout


def test_gdb_script_stops_in_kmain():
    """Also: mica ps before the kernel runs (at the reset vector) and before the first task."""
    out = debug_session(["mica ps", "continue", "info symbol $pc", "mica ps", "kill"])
    assert "Breakpoint 1, kmain" in out, out
    assert "kmain in section .text" in out, out
    assert "mica: cannot read the kernel's structures yet" in out, out
    assert "mica: no processes yet" in out, out


def ps_rows(text):
    """The rows of one `mica ps`: (current, pid, cr3, image)."""
    return [(m[1] == "*", m[2], int(m[3], 16), m[4])
            for m in re.finditer(r"^([* ]) +(\S+) +\d+ +(0x[0-9a-f]+) +\d+  (\S+)$", text, re.M)]


def test_mica_break_stops_only_in_its_process():
    """kv's put handler while kvclient calls it, and kv's _start, which every program has at
    the same address (0x400000): each breakpoint stops in kv, never in another process."""
    out = debug_session([
        "delete",  # gdbinit's kmain breakpoint
        "mica break kv _start",
        "mica break kv op_put",
        "continue",
        "echo ==start\\n",
        "mica ps",
        "print/x $cr3",
        "echo ==put\\n",
        "continue",
        "print key",
        "mica ps",
        "python print('skipped', gdb.breakpoints()[0].skipped)",
        "kill",
    ], scenario="default")
    m = re.search(r"mica: breakpoint (\d+) at 0x400000 \(_start\), only in kv", out)
    assert m, out
    put_bp = int(m[1]) + 1
    start, put = out.split("==start\n", 1)[1].split("==put\n", 1)

    # The first stop: kv's _start, after the pager, init and the servers before kv ran the
    # same address in their own processes.
    assert re.search(r"mica: stop in kv \(cr3 0x[0-9a-f]+\) at _start; (\d+) hits", out), out
    rows = ps_rows(start)
    images = [r[3] for r in rows]
    assert images[:2] == ["pager.elf", "init.elf"] and "kv.elf" in images, start
    current = [r for r in rows if r[0]]
    assert [r[3] for r in current] == ["kv.elf"], start
    cr3 = int(re.search(r"= (0x[0-9a-f]+)", start)[1], 16)
    assert cr3 & ~0xFFF == current[0][2], start
    assert len({r[2] for r in rows}) == len(rows), start  # a CR3 each
    before = [r for r in rows[:images.index("kv.elf")]]
    assert len(before) >= 2, start

    # The second: kv's handler for put, with kvclient's first key as its argument.
    assert f"Breakpoint {put_bp}, op_put (" in put, put
    assert re.search(r'^\$\d+ = 0x[0-9a-f]+ .*"colour"$', put, re.M), put
    assert [r[3] for r in ps_rows(put) if r[0]] == ["kv.elf"], put
    assert "kvclient.elf" in [r[3] for r in ps_rows(put)], put
    # _start's hits in the processes started before kv were passed over, not stopped at.
    skipped = int(re.search(r"^skipped (\d+)$", out, re.M)[1])
    assert skipped >= len(before), out


def test_mica_commands_without_a_target():
    """The commands' errors, and symbols one program at a time, with no QEMU attached."""
    cmds = ["set architecture i386:x86-64", "symbol-file build/kernel.elf",
            "source tools/gdb/mica.py",
            "mica symbols",
            "mica break nosuch main",
            "mica break kv no_such_function",
            "mica break kv",
            "mica break kv op_put",
            "mica symbols",
            "info symbol 0x400040",
            "mica symbols kvclient",
            "info symbol 0x400000",
            "mica break kv *0x400000",
            "mica finish",
            "mica ps",
            "help mica"]
    args = ["gdb", "-nx", "-q", "-batch"]
    for c in cmds:
        args += ["-ex", c]
    out = subprocess.run(args, cwd=mica.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=GDB_TIMEOUT).stdout
    assert "mica: user symbols: none" in out, out
    assert "build/user/nosuch.elf (make builds it)" in out, out
    assert "no_such_function in kv" in out, out
    assert "usage: mica break PROGRAM LOCATION [if EXPR]" in out, out
    assert re.search(r"mica: breakpoint \d+ at 0x[0-9a-f]+ \(op_put\), only in kv", out), out
    assert "mica: user symbols: kv" in out, out
    assert "op_put in section .text of " in out and "build/user/kv.elf" in out, out
    assert "_start in section .text of " in out and "build/user/kvclient.elf" in out, out
    assert "mica: breakpoint 2 at 0x400000 (*0x400000), only in kv" in out, out
    assert out.count("mica: no target: attach to QEMU first") == 2, out
    # docs/DEBUGGING.md's table names every command there is, and no other.
    commands = set(re.findall(r"^(mica \w+) -- ", out, re.M))
    assert {"mica ps", "mica symbols", "mica break", "mica finish"} <= commands, out
    doc = (mica.ROOT / "docs" / "DEBUGGING.md").read_text()
    assert commands == set(re.findall(r"^\| `(mica \w+)", doc, re.M)), (commands, out)


def test_mica_break_in_the_kernel_for_one_process():
    """A kernel location: the kernel runs on the CR3 of the process it works for, so a
    system call's handler stops only while kvclient's call is in it (its first kv call:
    kvclient prints through the console, so a debug_write is not sure to come)."""
    out = debug_session(["delete", "mica break kvclient fastpath_call", "continue",
                         "echo ==stop\\n", "mica ps", "bt 2",
                         "python print('skipped', gdb.breakpoints()[0].skipped)", "kill"],
                        scenario="default")
    stop = out.split("==stop\n", 1)[1]
    assert [r[3] for r in ps_rows(stop) if r[0]] == ["kvclient.elf"], out
    assert "fastpath_call (s=" in stop and "syscall_entry" in stop, out
    # The pager's, init's and the servers' calls came before kvclient's.
    assert int(re.search(r"^skipped (\d+)$", out, re.M)[1]) >= 2, out


def test_mica_finish_returns_in_its_process():
    """A condition (the second put), then mica finish from kv's put handler: back in kv's
    IDL dispatch, the handler's result (MICA_OK) in rax, and the temporary breakpoint gone."""
    out = debug_session(["delete", "mica break kv op_put if value_len == 6", "continue",
                         "mica finish",
                         "echo ==back\\n", "mica ps", "print $rax", "info breakpoints", "kill"],
                        scenario="default")
    assert "only in kv, if value_len == 6" in out, out
    # kvclient's first put is "colour" = "blue"; its second, with 6 bytes, "green!".
    assert re.search(r'Breakpoint \d+, op_put \(.*value=0x[0-9a-f]+ .*"green!"', out), out
    assert re.search(r"mica: run until op_put returns to 0x[0-9a-f]+ in kv", out), out
    back = out.split("==back\n", 1)[1]
    assert "in idl_serve_put (" in out.split("==back\n", 1)[0], out
    assert [r[3] for r in ps_rows(back) if r[0]] == ["kv.elf"], out
    assert re.search(r"^\$\d+ = 0$", back, re.M), out
    assert "Temporary breakpoint" not in back and "in op_put at" in back, out


def test_mica_break_in_the_pager_and_init():
    """The first task (the pager) and the process it starts first (init) by name too."""
    out = debug_session(["delete", "mica break init main", "mica break pager process_spawn",
                         "continue", "echo ==pager\\n", "mica ps", "print name", "continue",
                         "echo ==init\\n", "mica ps", "kill"], scenario="default")
    pager, init = out.split("==pager\n", 1)[1].split("==init\n", 1)
    assert [r[3] for r in ps_rows(pager) if r[0]] == ["pager.elf"], out
    assert re.search(r'^\$\d+ = 0x[0-9a-f]+ "init.elf"$', pager, re.M), out
    assert re.search(r"Breakpoint \d+, main \(argc=", pager), out  # printed before ==init
    assert [r[3] for r in ps_rows(init) if r[0]] == ["init.elf"], out
