"""The serial console in user space (servers/console, docs/DRIVERS.md).

The system `make run` boots: init starts the console driver with IRQ 4 and
COM1's ports, and the echo program (tests/user/consoleclient). Bytes written
to QEMU's serial input reach the driver through the interrupt; the echo
program reads them as lines and writes them back through the console.
"""

import subprocess
import threading
import time

import mica

SYSTEM = [mica.BUILD / "user" / m for m in ("pager.elf", "init.elf")] + \
    [mica.ROOT / "boot" / "manifest"] + \
    [mica.BUILD / "user" / m for m in ("console.elf", "consoleclient.elf", "kv.elf",
                                        "kvclient.elf", "rthello.elf")]
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
