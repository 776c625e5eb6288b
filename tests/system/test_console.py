"""The serial console in user space (servers/console, docs/DRIVERS.md).

init starts the console driver with IRQ 4 and COM1's ports, and the echo
program (tests/user/consoleclient; manifests/echo: `make run` starts the shell,
tests/system/test_shell.py, in its place). Bytes written
to QEMU's serial input reach the driver through the interrupt; the echo
program reads them as lines and writes them back through the console.
"""

import re
import subprocess
import threading
import time

import mica

SYSTEM = [mica.BUILD / "user" / m for m in ("pager.elf", "init.elf")] + \
    [mica.ROOT / "tests" / "system" / "manifests" / "echo" / "manifest"] + \
    [mica.BUILD / "user" / m for m in ("console.elf", "consoleclient.elf")]
# Without init.exit_when_done: the echo program runs until it reads "exit".
CMDLINE = "idle=exit pager.exit_when_idle init=init.elf"


class Serial:
    """QEMU with its serial line on a pipe: read what Mica writes, type into it."""

    def __init__(self, cmdline=CMDLINE, modules=SYSTEM):
        self.p = subprocess.Popen(
            ["qemu-system-x86_64", "-m", "128M", "-cdrom", str(mica.iso(cmdline, "multiboot2", modules)),
             "-boot", "d", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot",
             "-cpu", "max", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            b = self.p.stdout.read1(4096)
            if not b:
                return
            with self.lock:
                self.out += b

    @property
    def log(self):
        with self.lock:
            return self.out.decode("utf-8", "replace").replace("\r", "")

    def wait_for(self, text, timeout=60):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.log:
                return True
            if self.p.poll() is not None:
                time.sleep(0.2)
                return text in self.log
            time.sleep(0.05)
        return False

    def type(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def close(self):
        if self.p.poll() is None:
            self.p.kill()
        self.p.wait()


def test_typed_lines_come_back_through_the_console():
    s = Serial()
    try:
        assert s.wait_for("consoleclient: ready, type a line"), s.log
        assert "consoleclient: errors ok" in s.log, s.log
        s.type(b"hello mica\r")
        assert s.wait_for("echo: hello mica\n"), s.log
        # Typed in pieces, with a backspace: one line comes back, as corrected.
        s.type(b"sec")
        time.sleep(0.3)
        s.type(b"onx\x7fd line\r")
        assert s.wait_for("echo: second line\n"), s.log
        # Several lines at once: each comes back, in order.
        s.type(b"one\rtwo\r")
        assert s.wait_for("echo: two\n"), s.log
        assert s.log.index("echo: one\n") < s.log.index("echo: two\n"), s.log
        s.type(b"exit\r")
        assert s.wait_for("consoleclient: bye"), s.log
        assert "PANIC" not in s.log, s.log
    finally:
        s.close()


def manifest_run(name):
    return mica.boot(cmdline=mica.SYSTEM_CMDLINE + f" init.args=manifest={name}",
                     modules=[mica.BUILD / "user" / m for m in ("pager.elf", "init.elf", "console.elf",
                                                                 "rthello.elf", "consoleclient.elf")]
                     + [mica.ROOT / "tests" / "system" / "manifests" / name / name])


def test_devices_are_handed_out_once():
    """A line or a port range held by a running driver is refused to the next entry
    (MICA_EBUSY, -8), a line the kernel keeps is refused (MICA_EINVAL, -1), bad options
    are reported and skipped; a driver with a free line and range starts."""
    r = manifest_run("drivers")
    assert r.rc is not None and not r.has("PANIC"), r.log
    assert r.has("init: console registered"), r.log
    assert len(re.findall(r"^init: cannot start rthello\.elf: error EBUSY$", r.log, re.M)) == 2, r.log
    assert len(re.findall(r"^init: cannot start rthello\.elf: error EINVAL$", r.log, re.M)) == 1, r.log
    assert r.has("init: manifest line 7: bad irq, skipped"), r.log
    for n in (8, 9, 10):
        assert r.has(f"init: manifest line {n}: bad ports, skipped"), r.log
    # The last entry (IRQ 3, COM2's ports) runs.
    assert len(re.findall(r"^rthello: 2 arguments", r.log, re.M)) == 1, r.log


def test_a_dead_drivers_line_and_ports_are_handed_out_again():
    """console crash ends holding IRQ 4 and COM1's ports; init restarts it 3 times and the
    pager can make the line and the range each time (the last holder's went with it)."""
    r = manifest_run("drivercrash")
    assert r.rc is not None and not r.has("PANIC"), r.log
    assert len(re.findall(r"^init: started console\.elf pid \d+$", r.log, re.M)) == 4, r.log
    assert r.log.count("console: crashing with the line and the ports") == 4, r.log
    assert not r.has("cannot start"), r.log


def test_a_process_is_killed_at_its_first_in_on_a_port_not_given():
    """consoleclient poke: in on COM4's first port without any (killed, MICA_EXIT_PORT 4 and the
    port as code), one past the range it was given (killed), and one inside it (read)."""
    r = manifest_run("drivers")
    exits = re.findall(r"^init: consoleclient\.elf pid \d+ exited: reason (\d+) code (\d+)$", r.log,
                       re.M)
    assert sorted(exits) == sorted([("4", str(0x2e8)), ("4", str(0x2f0)), ("0", "0")]), r.log
    assert r.log.count("I/O port not granted") == 2, r.log
    assert r.has("consoleclient: port 0x2e1 read 0x"), r.log


SPAM_LINE = re.compile(r"^spam ([AB]) (\d{3}) (\S+) end$")


def spam_lines(log, tags="AB", n=60):
    """Every line of the spam programs whole (tag, number, 300 of the tag, end), each
    program's in order and none missing; returns the tags in the order their lines came."""
    order = []
    seen = {t: [] for t in tags}
    for line in log.splitlines():
        if not (line.startswith("spam ") or "A" * 8 in line or "B" * 8 in line):
            continue
        m = SPAM_LINE.match(line)
        assert m and m.group(3) == m.group(1) * 300, f"a broken line: {line!r}"
        seen[m.group(1)].append(int(m.group(2)))
        order.append(m.group(1))
    for t in tags:
        assert seen[t] == list(range(n)), (t, seen[t])
    return order


def test_printf_goes_through_the_console():
    """A runtime program's printf lines are the console's writes (its stats grow by one write
    and the line's bytes per line), but not after rt_stdout_direct(): the two programs run at
    once, and the direct one's 30 lines are none of the console's writes."""
    r = manifest_run("stdout")
    assert r.rc is not None and not r.has("PANIC"), r.log
    counted = dict((int(n), (int(w), int(b), int(ln))) for w, b, n, ln in re.findall(
        r"^consoleclient: console counted (\d+) writes (\d+) bytes for (\d+) lines of (\d+) "
        r"bytes$", r.log, re.M))
    line = len("consoleclient: count line   1 of  20\n")
    assert counted[20] == (20, 20 * line, line), r.log
    assert counted[30][0] <= 21, r.log  # at most the other's 20 lines and its report
    assert r.has("consoleclient: count line  20 of  20"), r.log
    assert r.has("consoleclient: count line  30 of  30"), r.log


def test_concurrent_printers_never_split_a_line():
    """Two programs print 300-byte lines at once: every line comes out whole, in order."""
    r = manifest_run("stdoutspam")
    assert r.rc is not None and not r.has("PANIC"), r.log
    order = spam_lines(r.log)
    print("switches between the printers:", sum(a != b for a, b in zip(order, order[1:])))


def test_printf_falls_back_when_the_console_dies():
    """The console ends at its 41st write with the call unanswered (exit-after=40) while two
    programs print: the caller gets MICA_EPEER and writes the line itself, the other finds
    the console gone; every line comes out once, whole and in order."""
    r = manifest_run("stdoutfall")
    assert r.rc is not None and not r.has("PANIC"), r.log
    assert r.has("console: exiting after 40 writes"), r.log
    spam_lines(r.log)


def test_printf_finds_a_restarted_console():
    """The console dies at every 41st write and init restarts it: a second console serves
    writes (so the printers looked the name up again after the failure), and every line
    comes out once, whole and in order."""
    r = manifest_run("stdoutrestart")
    assert r.rc is not None and not r.has("PANIC"), r.log
    assert r.log.count("console: exiting after 40 writes") >= 2, r.log
    assert len(re.findall(r"^init: started console\.elf pid \d+$", r.log, re.M)) >= 2, r.log
    spam_lines(r.log, n=150)
