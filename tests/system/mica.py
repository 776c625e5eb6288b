"""Booting Mica under QEMU for the system tests.

Every run has a timeout and -no-reboot, so a hang or a triple fault ends
the test instead of the test run. The kernel leaves QEMU through the
isa-debug-exit device: status 33 means success, 35 failure (panic or a
refused boot).
"""

import hashlib
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

# The whole system, ending on its own: the pager starts init, init runs its
# manifest and exits when its programs are done, and the run ends with them.
SYSTEM_CMDLINE = "idle=exit pager.exit_when_idle init=init.elf init.exit_when_done"
PAGER_COUNTS = re.compile(r"^pager: (start|idle) free=(\d+) total=(\d+) largest=(-?\d+) "
                          r"donated=(\d+)$", re.M)


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

    def results(self, test_id):
        """The `TEST <test_id> ...` lines (exactly one, PASS, when it passed)."""
        return [ln for ln in self.lines if ln.startswith(f"TEST {test_id} ")]

    def result_ids(self, group=None):
        """The ids of every TEST line, or of those in `group` (`TEST <group>.<id>`), sorted."""
        if group is None:
            return sorted(re.findall(r"^TEST (\S+) ", self.log, re.M))
        return sorted(re.findall(rf"^TEST {re.escape(group)}\.(\S+) ", self.log, re.M))

    def frames_back(self):
        """Did the pager's free count at its end (`pager: idle`), with what it donated to
        the kernel, come back to its count at start?"""
        counts = {m[0]: [int(v) for v in m[1:]] for m in PAGER_COUNTS.findall(self.log)}
        if "start" not in counts or "idle" not in counts:
            return False
        start_free, idle_free, idle_donated = counts["start"][0], counts["idle"][0], counts["idle"][3]
        return idle_free + idle_donated == start_free


def iso(cmdline="", loader="multiboot2", modules=()):
    """An ISO whose GRUB entry boots the kernel with this command line and modules."""
    key = " ".join([loader, cmdline] + [Path(m).name for m in modules])
    name = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")
    if len(name) > 120:  # a long command line: a short name, told apart by a hash
        name = name[:80] + "_" + hashlib.sha256(key.encode()).hexdigest()[:16]
    out = ISO_CACHE / f"{name}.iso"
    newest = max([KERNEL.stat().st_mtime] + [Path(m).stat().st_mtime for m in modules])
    if not out.exists() or out.stat().st_mtime < newest:
        ISO_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [str(ROOT / "tools" / "mkiso.sh"), str(KERNEL), str(out), cmdline, loader,
             " ".join(str(m) for m in modules)],
            check=True,
        )
    return out


def boot(cmdline="ready=exit", mem="128M", cpu="max", loader="multiboot2", modules=(),
         timeout=BOOT_TIMEOUT, stays_up=False, qemu_args=()):
    """Boot Mica and return its exit status and serial log.

    With stays_up, QEMU is expected to still run at the timeout: it is
    stopped then, and the run's rc is None. qemu_args are added to QEMU's
    command line (make bench adds -icount). The CPU is QEMU's "max" unless
    a test asks for another: it has SMEP, SMAP, XSAVE and AVX, so every run
    has the kernel's protections on.
    """
    cmd = [
        "qemu-system-x86_64",
        "-m", mem,
        "-cdrom", str(iso(cmdline, loader, modules)),
        "-boot", "d",
        "-display", "none",
        "-monitor", "none",
        "-serial", "stdio",
        "-no-reboot",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
    ]
    if cpu:
        cmd += ["-cpu", cpu]
    cmd += list(qemu_args)
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace").replace("\r", "")
        if stays_up:
            return Run(None, out)
        raise AssertionError(f"QEMU did not exit within {timeout}s; serial log:\n{out}") from None
    log = p.stdout.decode("utf-8", "replace").replace("\r", "")
    if stays_up:
        raise AssertionError(f"QEMU exited with {p.returncode}, expected it to stay up:\n{log}")
    return Run(p.returncode, log)


def scenario(name):
    """The scenario scenarios/<name> (tools/scenario.py), its inline manifest written."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("scenario", ROOT / "tools" / "scenario.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    s = tool.parse(name)
    tool.write_inline(s)
    return s


def boot_scenario(name, cmdline="", **kw):
    """Boot scenarios/<name> as `make run SCENARIO=<name>` does (its modules, memory size and
    command line, with cmdline added) and return the Run; other arguments go to boot()."""
    s = scenario(name)
    kw.setdefault("mem", s.mem)
    return boot(cmdline=" ".join(w for w in (s.cmdline, cmdline) if w),
                modules=[ROOT / m for m in s.modules], **kw)
