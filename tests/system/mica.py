"""Booting Mica under QEMU for the system tests.

Every run has a timeout and -no-reboot, so a hang or a triple fault ends
the test instead of the test run. The kernel leaves QEMU through the
isa-debug-exit device: status 33 means success, 35 failure (panic or a
refused boot).
"""

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
KERNEL = BUILD / "kernel.elf"
ISO_CACHE = BUILD / "test-isos"

EXIT_SUCCESS = 33  # kernel wrote QEMU_EXIT_SUCCESS (0x10)
EXIT_FAILURE = 35  # kernel wrote QEMU_EXIT_FAILURE (0x11)
BOOT_TIMEOUT = 120  # seconds; a normal boot takes about 4


@dataclass
class Run:
    rc: int
    log: str

    @property
    def lines(self):
        return self.log.splitlines()

    def line(self, prefix):
        """The first serial line starting with prefix, or None."""
        for ln in self.lines:
            if ln.startswith(prefix):
                return ln
        return None

    def has(self, text):
        return any(text in ln for ln in self.lines)


def iso(cmdline="", loader="multiboot2"):
    """An ISO whose GRUB entry boots the kernel with this command line."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", f"{loader}_{cmdline}").strip("_") or "plain"
    out = ISO_CACHE / f"{name}.iso"
    if not out.exists() or out.stat().st_mtime < KERNEL.stat().st_mtime:
        ISO_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(ROOT / "tools" / "mkiso.sh"), str(KERNEL), str(out), cmdline, loader],
            check=True,
        )
    return out


def boot(cmdline="ready=exit", mem="128M", cpu=None, loader="multiboot2", timeout=BOOT_TIMEOUT):
    """Boot Mica and return its exit status and serial log."""
    cmd = [
        "qemu-system-x86_64",
        "-m", mem,
        "-cdrom", str(iso(cmdline, loader)),
        "-boot", "d",
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",
        "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    if cpu:
        cmd += ["-cpu", cpu]
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace")
        raise AssertionError(f"QEMU did not exit within {timeout}s; serial log:\n{out}") from None
    log = p.stdout.decode("utf-8", "replace").replace("\r", "")
    return Run(p.returncode, log)
