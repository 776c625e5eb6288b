"""The shell, msh (servers/msh/), in the system `make run` boots (scenarios/default).

One boot for the whole file: the tests type commands into QEMU's serial input
as a person would (test_console.Serial) and read what comes back up to the next
prompt; the last one halts the machine, and QEMU must exit with success.
"""

import re
import time

import pytest

import mica
from test_console import Serial

PROMPT = "mica> "


class Shell:
    def __init__(self, modules=None):
        cmdline = ""
        if modules is None:  # what make run boots
            s = mica.scenario("default")
            modules, cmdline = s.modules, s.cmdline
        self.serial = Serial(cmdline=cmdline, modules=[mica.ROOT / m for m in modules])
        self.modules = modules

    def ready(self):
        return self.serial.wait_for("init: ready", 120) and self.serial.wait_for(PROMPT, 60)

    def run(self, text, timeout=60, prompt=True):
        """Type text and Enter; the output up to the next prompt (or what came, on timeout)."""
        start = len(self.serial.log)
        self.serial.type(text.encode() + b"\r")
        end = time.time() + timeout
        while time.time() < end:
            out = self.serial.log[start:]
            if prompt and PROMPT in out[1:]:
                return out
            if self.serial.p.poll() is not None:
                return out
            time.sleep(0.05)
        return self.serial.log[start:]

    def until(self, start, text, timeout=60):
        """Wait for text in what came after log position start; that output."""
        end = time.time() + timeout
        while time.time() < end and text not in self.serial.log[start:]:
            if self.serial.p.poll() is not None:
                break
            time.sleep(0.05)
        return self.serial.log[start:]

    def pids(self):
        """ps, as {name: [(pid, parent, state), ...]}."""
        out = self.run("ps")
        rows = {}
        for m in re.finditer(r"^ *(\d+) +(\d+) (\S+) +(run|ended) ", out, re.M):
            rows.setdefault(m[3], []).append((int(m[1]), int(m[2]), m[4]))
        return rows


@pytest.fixture(scope="module")
def sh():
    s = Shell()
    try:
        assert s.ready(), s.serial.log
        yield s
    finally:
        s.serial.close()


def test_the_shell_starts_as_the_consoles_reader(sh):
    log = sh.serial.log
    assert re.search(r"^init: msh registered by pid \d+$", log, re.M), log
    assert "msh: the Mica shell; type help" in log and "PANIC" not in log, log
    assert "consoleclient" not in log, log


def test_help_lists_every_command(sh):
    out = sh.run("help")
    for cmd in ("help", "ps", "mem", "regions PID", "vm PID", "pmap", "spawn MODULE", "kill PID",
                "wait", "modules", "ls", "cat FILE", "cp FROM TO", "rm FILE", "run FILE",
                "trace start|stop|dump", "halt"):
        assert f"\n  {cmd}" in out, out


def test_ps_lists_every_process(sh):
    out = sh.run("ps")
    assert re.search(r"PID +PARENT +NAME +STATE +THR +PAGES +REGS", out), out
    rows = sh.pids()
    for name in ("init.elf", "console.elf", "kv.elf", "msh.elf"):
        assert name in rows and rows[name][0][2] == "run", out
    init = rows["init.elf"][0][0]
    assert rows["init.elf"][0][1] == 0, out  # the pager's own
    assert rows["msh.elf"][0][1] == init, out
    # A running process has its one thread, pages mapped and regions; init's limits.
    m = re.search(r"^ *\d+ +\d+ msh\.elf +run +1 +(\d+) +(\d+) +(\d+)/(\S+) +(\d+)/(\S+)", out, re.M)
    assert m and int(m[1]) > 0 and int(m[2]) >= 5, out
    assert m[4] == "-" and m[6] == "16", out  # no memory limit, init's default procs=16
    assert re.search(r"^\d+ processes$", out, re.M), out
    # kv is idle once its client is done: its pages are what its regions have backed.
    kv = re.search(r"^ *(\d+) +\d+ kv\.elf +run +1 +(\d+) +(\d+) +(\d+)/", out, re.M)
    regions = sh.run(f"regions {kv[1]}")
    m = re.search(r"^(\d+) regions, (\d+) pages backed$", regions, re.M)
    assert m and (m[1], m[2]) == (kv[3], kv[2]) and kv[4] == kv[2], (out, regions)


def test_mem_shows_the_kernel_the_pager_and_each_process(sh):
    out = sh.run("mem")
    m = re.search(r"^kernel: reserve (\d+) frames, (\d+) free; pool (\d+) frames, (\d+) mapped", out,
                  re.M)
    assert m and int(m[1]) >= 1024 and int(m[2]) <= int(m[1]), out
    p = re.search(r"^pager: (\d+) of (\d+) frames free, largest block order (-?\d+)", out, re.M)
    assert p and 0 < int(p[1]) <= int(p[2]) and int(p[3]) >= 0, out
    orders = re.search(r"^free blocks by order:((?: \d+:\d+)+)$", out, re.M)
    assert orders, out
    counts = [int(x.split(":")[1]) for x in orders[1].split()]
    assert len(counts) == 19 and sum(n << k for k, n in enumerate(counts)) == int(p[1]), out
    assert re.search(r"^frames per process:.* msh\.elf\(\d+\)=\d+", out, re.M), out


def test_regions_of_any_process(sh):
    init = sh.pids()["init.elf"][0][0]
    out = sh.run(f"regions {init}")  # not msh's child: any running process may be named
    assert re.search(r"^0x0000000000400000 0x[0-9a-f]{16} r-x +image +\d+$", out, re.M), out
    assert re.search(r"^0x[0-9a-f]{16} 0x00007f0000000000 rw- +stack +\d+$", out, re.M), out
    assert re.search(r" guard +stack +0$", out, re.M), out
    assert re.search(r"^\d+ regions, \d+ pages backed$", out, re.M), out
    out = sh.run("regions 99999")
    assert "regions: no running process has pid 99999 (error ENOENT)" in out, out
    out = sh.run("regions init")
    assert 'regions: bad pid "init": a number is wanted' in out, out


def test_modules_lists_the_boot_modules(sh):
    out = sh.run("modules")
    listed = dict(re.findall(r"^(\S+) (\d+)$", out, re.M))
    for m in sh.modules:
        name = m.split("/")[-1]
        assert name in listed, out
        assert int(listed[name]) == (mica.ROOT / m).stat().st_size, (name, out)


def test_ls_lists_the_files(sh):
    """The file server's files: every boot module, with its size."""
    out = sh.run("ls")
    listed = dict(re.findall(r"^(\S+) (\d+)$", out, re.M))
    for m in sh.modules:
        name = m.split("/")[-1]
        assert int(listed[name]) == (mica.ROOT / m).stat().st_size, (name, out)
    assert list(listed) == sorted(listed), out
    assert re.search(rf"^{len(listed)} files$", out, re.M), out


def test_cat_prints_a_file(sh):
    out = sh.run("cat manifest")  # the boot module boot/manifest, through fs and the pager
    text = (mica.ROOT / "boot" / "manifest").read_text()
    assert text.replace("\n", "\r\n") in out or text in out, out
    out = sh.run("cat nosuch")
    assert "cat: nosuch: no such file (ls lists them)" in out, out
    out = sh.run("cat")
    assert "cat: usage: cat FILE" in out, out


def test_spawn_in_the_foreground(sh):
    out = sh.run("spawn rthello.elf one")
    assert "rthello: 2 arguments: rthello.elf one" in out, out
    assert re.search(r"^msh: rthello\.elf pid \d+ ended: exit 0$", out, re.M), out
    assert "FAIL" not in out, out
    out = sh.run("spawn nosuch.elf")
    assert "spawn: nosuch.elf not found" in out, out
    out = sh.run("spawn")
    assert "spawn: usage: spawn MODULE [ARGS] [&]" in out, out
    out = sh.run("spawn " + "x" * 48)
    assert "spawn: module name longer than 47 characters" in out, out


def test_run_a_program_from_a_file(sh):
    """cp makes a file of a boot module, run starts it from fs (pager.spawn_object), rm removes it."""
    size = (mica.ROOT / "build" / "user" / "rthello.elf").stat().st_size
    out = sh.run("cp rthello.elf bin/rthello.elf")
    assert f"cp: bin/rthello.elf: {size} bytes" in out, out
    out = sh.run("run bin/rthello.elf one")
    assert "rthello: 2 arguments: rthello.elf one" in out, out
    assert re.search(r"^msh: bin/rthello\.elf pid \d+ ended: exit 0$", out, re.M), out
    assert "FAIL" not in out, out
    out = sh.run("run rthello.elf")
    assert "run: rthello.elf is a boot module: spawn runs it (or cp it to a file)" in out, out
    out = sh.run("run nosuch")
    assert "run: nosuch: no such file (ls lists them)" in out, out
    sh.run("cp manifest notes")
    out = sh.run("run notes")
    assert "run: notes: not a program (error ENOEXEC)" in out, out
    out = sh.run("cp manifest notes")
    assert "cp: notes: a file has that name already" in out, out
    sh.run("rm notes")
    sh.run("rm bin/rthello.elf")
    out = sh.run("rm bin/rthello.elf")
    assert "rm: bin/rthello.elf: no such file (ls lists them)" in out, out
    out = sh.run("rm manifest")
    assert "rm: manifest: a boot module (read-only)" in out, out
    out = sh.run("run")
    assert "run: usage: run FILE [ARGS] [&]" in out, out
    assert "bin/rthello.elf" not in sh.run("ls"), out


def test_ctrl_c_ends_the_foreground_program(sh):
    start = len(sh.serial.log)
    sh.serial.type(b"spawn nametest.elf block\r")
    time.sleep(2)  # it blocks for ever
    assert PROMPT not in sh.serial.log[start + 5:], sh.serial.log[start:]
    sh.serial.type(b"\x03")
    out = sh.until(start, "ended: killed, code 130")
    assert re.search(r"^msh: nametest\.elf pid \d+ ended: killed, code 130$", out, re.M), out
    assert "nametest.elf" not in sh.pids(), out  # killed and waited for


def test_background_kill_and_wait(sh):
    out = sh.run("spawn nametest.elf block &")
    m = re.search(r"^msh: nametest\.elf pid (\d+) in the background$", out, re.M)
    assert m, out
    pid = int(m[1])
    rows = sh.pids()
    msh = rows["msh.elf"][0][0]
    assert (pid, msh, "run") in rows["nametest.elf"], rows
    out = sh.run("spawn rthello.elf one &")
    assert re.search(r"^msh: rthello\.elf pid \d+ in the background$", out, re.M), out
    out = sh.run(f"kill {pid}")
    assert f"msh: killed pid {pid}" in out, out
    out = sh.run(f"kill {pid}")
    assert f"kill: pid {pid} has already ended (error EPEER)" in out, out
    init = rows["init.elf"][0][0]
    out = sh.run(f"kill {init}")
    assert f"kill: pid {init} is not a program msh started (error ENOENT)" in out, out
    out = sh.run("wait")
    assert re.search(rf"^msh: nametest\.elf pid {pid} ended: killed, code 143$", out, re.M), out
    assert re.search(r"^msh: rthello\.elf pid \d+ ended: exit 0$", out, re.M), out
    out = sh.run("wait")
    assert "wait: no background programs" in out, out


def test_ctrl_c_stops_a_wait_but_kills_nothing(sh):
    out = sh.run("spawn nametest.elf block &")
    pid = re.search(r"pid (\d+) in the background", out)[1]
    start = len(sh.serial.log)
    sh.serial.type(b"wait\r")
    time.sleep(1)
    sh.serial.type(b"\x03")
    out = sh.until(start, "wait: interrupted; 1 still in the background")
    assert "wait: interrupted; 1 still in the background" in out, out
    assert ("nametest.elf" in sh.pids()) and "killed" not in sh.serial.log[start:]
    sh.run(f"kill {pid}")
    assert re.search(rf"nametest\.elf pid {pid} ended: killed, code 143", sh.run("wait"))


def test_typed_ahead_while_a_program_runs(sh):
    """A line typed while a foreground program runs is kept and runs after it."""
    start = len(sh.serial.log)
    sh.serial.type(b"spawn rthello.elf one\rregions 0\r")
    out = sh.until(start, "pages backed\nmica> ")
    assert "pages backed" in out and out.index("rthello.elf pid") < out.index("regions, "), out


def test_a_line_too_long(sh):
    out = sh.run("x" * 1100)
    assert "msh: line too long (at most 1023 characters)" in out, out
    assert "unknown command" not in out, out
    assert "commands:" in sh.run("help")


def pool_free(sh):
    """The pager's free frames, with those it gave the kernel's reserve (mem)."""
    out = sh.run("mem")
    m = re.search(r"^pager: (\d+) of \d+ frames free, .*, (\d+) given to the kernel's reserve$",
                  out, re.M)
    assert m, out
    return int(m[1]) + int(m[2])


def test_frames_come_back_after_kill_and_wait(sh):
    """A program started, killed and waited for from the shell leaves no frame behind."""
    sh.run("spawn rthello.elf one")  # every page msh's own spawn path touches, once
    before = pool_free(sh)
    out = sh.run("spawn nametest.elf block &")
    pid = re.search(r"pid (\d+) in the background", out)[1]
    assert pool_free(sh) < before, out  # its image and stack are backed
    sh.run(f"kill {pid}")
    sh.run("wait")
    assert pool_free(sh) == before


def test_line_editing_and_ctrl_c_at_the_prompt(sh):
    out = sh.run("hex\x7flp")  # a backspace erases the x
    assert "commands:" in out and "unknown command" not in out, out
    start = len(sh.serial.log)
    sh.serial.type(b"frob\x03")  # Ctrl-C drops the line: a new prompt, no command
    assert "^C\nmica> " in sh.until(start, "^C\nmica> "), sh.serial.log[start:]
    out = sh.run("ps")
    assert "frob" not in sh.serial.log[start:].replace("frob\x03", "").replace("frob^C", ""), out
    assert "unknown command" not in sh.serial.log[start:], sh.serial.log[start:]


def test_unknown_commands_and_bad_arguments(sh):
    assert 'msh: unknown command "frobnicate"; help lists the commands' in sh.run("frobnicate")
    assert "kill: usage: kill PID" in sh.run("kill")
    assert "kill: usage: kill PID" in sh.run("kill 1 2")
    assert 'kill: bad pid "12x"' in sh.run("kill 12x")
    assert 'kill: bad pid "99999999999999999999999"' in sh.run("kill 99999999999999999999999")
    assert "ps: usage: ps" in sh.run("ps -a")
    assert 'trace: "go": start, stop or dump' in sh.run("trace go")
    assert "trace: usage: trace start|stop|dump" in sh.run("trace")
    assert 'halt: "now": ok or fail' in sh.run("halt now")
    assert "msh: too many words (at most 16)" in sh.run(" ".join(["a"] * 17))
    if not any(m.endswith("/memview.elf") for m in sh.modules):
        assert "vm: memview.elf not found" in sh.run("vm 1")
        assert "pmap: memview.elf not found" in sh.run("pmap")
    assert 'vm: bad pid "x"' in sh.run("vm x")
    # The shell still answers, and nothing crashed.
    assert "msh.elf" in sh.pids()
    log = sh.serial.log
    assert "PANIC" not in log and not re.search(r"^init: msh\.elf pid \d+ exited", log, re.M), log


def test_vm_and_pmap_draw_through_memview(sh):
    """The default scenario has memview.elf: vm draws kv's address space, pmap the pool."""
    kv = sh.pids()["kv.elf"][0][0]
    vm = sh.run(f"vm {kv}")
    assert re.search(rf"^vm {kv} kv\.elf: \d+ regions,", vm, re.M), vm
    assert re.search(r"^  [0-9a-f]{16}-[0-9a-f]{16} [r-][w-][x-] .*\|[#+.]+\|", vm, re.M), vm
    pm = sh.run("pmap")
    assert re.search(r"^pmap: \d+ frames in \d+ ranges, \d+ free", pm, re.M), pm
    assert re.search(rf"^  \S pid {kv} kv\.elf: \d+ frames$", pm, re.M), pm
    assert "memview.elf not found" not in vm + pm


def test_trace_start_stop_dump(sh):
    """The manifest gives the shell `trace`: the pager makes the kernel's trace calls for it.
    A traced ps shows the shell's pager.procs call in the dump tools/trace.py reads."""
    from test_trace_tool import tracetool
    assert "trace: recording every event" in sh.run("trace start")
    sh.run("ps")
    out = sh.run("trace stop")
    n = int(re.search(r"trace: stopped, (\d+) events in the ring", out)[1])
    assert n > 0, out
    start = len(sh.serial.log)
    out = sh.run("trace dump")
    assert re.search(rf"trace: {n} events dumped", out), out
    dumps = tracetool.parse_dumps(sh.serial.log[start:])
    assert len(dumps) == 1 and len(dumps[0].events) == n, out
    assert "pager.procs" in tracetool.timeline(dumps[0]), out


def test_halt_without_the_exit_port():
    """A shell the manifest gave no exit port: halt says so and the run goes on; a second
    shell cannot take the name msh, says so and ends, and the first is the console's again."""
    s = Shell(["build/user/pager.elf", "build/user/init.elf",
               "tests/system/manifests/shell/manifest", "build/user/console.elf",
               "build/user/msh.elf"])
    try:
        assert s.ready(), s.serial.log
        out = s.run("halt")
        assert "halt: msh was not given QEMU's exit port (manifest: ports=0xf4-0xf4)" in out, out
        out = s.run("trace start")
        assert "trace: not permitted (the shell's manifest entry needs the option trace)" in out
        out = s.run("spawn msh.elf")
        assert "msh: register: error EEXIST" in out, out
        assert re.search(r"^msh: msh\.elf pid \d+ ended: exit 3$", out, re.M), out
        assert "commands:" in s.run("help")
        assert s.serial.p.poll() is None and "PANIC" not in s.serial.log
    finally:
        s.serial.close()


def test_halt_fail_ends_the_run_with_failure():
    s = Shell()
    try:
        assert s.ready(), s.serial.log
        out = s.run("halt fail", prompt=False, timeout=30)
        s.serial.p.wait(timeout=30)
        assert "msh: halt: QEMU exits with status 35" in out, out
        assert s.serial.p.returncode == mica.EXIT_FAILURE, s.serial.log
    finally:
        s.serial.close()


def test_halt_ends_the_run_with_success(sh):
    out = sh.run("halt", prompt=False, timeout=30)
    sh.serial.p.wait(timeout=30)
    assert "msh: halt: QEMU exits with status 33" in out, out
    assert sh.serial.p.returncode == mica.EXIT_SUCCESS, sh.serial.log
    assert "PANIC" not in sh.serial.log
