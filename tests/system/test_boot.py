"""Boot at several memory sizes; the frame counts must match the E820 map."""

import re

import pytest

import mica

PAGE = 4096
PHYS_LIMIT = 1 << 40  # MICA_PHYS_LIMIT in include/mica/layout.h

E820_RE = re.compile(r"^E820: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] (.+)$")
FRAMES_RE = re.compile(r"^frames: total=(\d+) free=(\d+) used=(\d+)$")


def parse_e820(run):
    entries = []
    for ln in run.lines:
        m = E820_RE.match(ln)
        if m:
            entries.append((int(m.group(1), 16), int(m.group(2), 16) + 1, m.group(3)))
    return entries


def usable_runs(entries):
    """Maximal runs of bytes inside available memory and no other entry.

    Computed independently of the kernel's algorithm: cut the address line
    at every entry boundary, classify each piece, and merge the usable ones.
    """
    points = sorted({p for s, e, _ in entries for p in (s, e)} | {PHYS_LIMIT})
    runs = []
    for lo, hi in zip(points, points[1:]):
        if lo >= PHYS_LIMIT:
            break
        covering = [kind for s, e, kind in entries if s <= lo and hi <= e]
        if covering and all(kind == "available" for kind in covering):
            if runs and runs[-1][1] == lo:
                runs[-1][1] = hi
            else:
                runs.append([lo, hi])
    return runs


def usable_frames(entries):
    """Frames wholly inside a usable run."""
    return sum(max(0, hi // PAGE - (lo + PAGE - 1) // PAGE) for lo, hi in usable_runs(entries))


def last_usable_frame(entries):
    """The address of the highest frame wholly inside a usable run."""
    return max(hi // PAGE * PAGE - PAGE for lo, hi in usable_runs(entries)
               if hi // PAGE > (lo + PAGE - 1) // PAGE)


SELFTEST_RE = re.compile(r"^selftest: frames ok: allocated and freed (\d+), highest 0x([0-9a-f]+)$")


@pytest.mark.parametrize("mem", ["32M", "128M", "1G", "5G"])
def test_frames_match_e820(mem):
    """The frames: line agrees with the E820 lines, and the bitmap backs it.

    selftest=frames makes the kernel allocate every free frame, write to it
    through the direct map and free it again, so the counts printed are the
    bitmap's, not the memory map's.
    """
    run = mica.boot(cmdline="selftest=frames ready=exit", mem=mem)
    assert run.rc == mica.EXIT_SUCCESS, run.log
    assert run.has("kernel: ready"), run.log
    entries = parse_e820(run)
    assert entries, "no E820 lines:\n" + run.log
    m = FRAMES_RE.match(run.line("frames:") or "")
    assert m, "no frames: line:\n" + run.log
    total, free, used = map(int, m.groups())
    assert total == usable_frames(entries)
    assert total == free + used
    # In use: every usable frame of the low MiB, then the kernel image, the
    # boot information, the bitmap and the kernel's page tables: a few
    # hundred KiB, never more than 2 MiB.
    low = usable_frames([(s, min(e, 1 << 20), k) for s, e, k in entries if s < 1 << 20])
    assert low < used < low + 512, run.log
    # The RAM size QEMU was given is all accounted for, less holes and ROMs.
    size = int(mem[:-1]) << (30 if mem[-1] == "G" else 20)
    assert size - 2 * 1024 * 1024 < total * PAGE <= size
    # Every free frame could be allocated, written and freed, up to the last.
    st = SELFTEST_RE.match(run.line("selftest:") or "")
    assert st, run.log
    assert int(st.group(1)) == free
    assert int(st.group(2), 16) == last_usable_frame(entries)
def test_ram_above_4g_is_used():
    """-m 5G puts RAM past the PCI hole; the bitmap must cover it."""
    run = mica.boot(mem="5G")
    assert run.rc == mica.EXIT_SUCCESS, run.log
    high = [(s, e) for s, e, kind in parse_e820(run) if kind == "available" and s >= 1 << 32]
    assert high, run.log
    total = int(FRAMES_RE.match(run.line("frames:")).group(1))
    assert total * PAGE > 4 << 30


def test_kernel_image_is_wx_and_direct_map_uses_large_pages():
    run = mica.boot(mem="128M")
    assert run.rc == mica.EXIT_SUCCESS, run.log
    vm = run.line("vm: kernel image")
    assert vm and vm.endswith("text r-x, rodata r--, data rw-, stack guard ---"), run.log
    dm = re.match(r"vm: direct map at 0xffff800000000000: (\d+) x 2 MiB \+ (\d+) x 4 KiB pages",
                  run.line("vm: direct map") or "")
    assert dm, run.log
    large, small = int(dm.group(1)), int(dm.group(2))
    total = int(FRAMES_RE.match(run.line("frames:")).group(1))
    # Every usable frame is mapped exactly once, mostly through 2 MiB pages.
    assert large * 512 + small == total
    assert large * 512 > total // 2


def test_command_line_reaches_kernel():
    run = mica.boot(cmdline="ready=exit hello=world")
    assert run.rc == mica.EXIT_SUCCESS, run.log
    assert run.has('command line "ready=exit hello=world"'), run.log


def test_without_exit_option_kernel_stays_up():
    """Without ready=exit the kernel halts after boot; QEMU keeps running."""
    run = mica.boot(cmdline="", timeout=20, stays_up=True)
    assert run.has("kernel: ready"), run.log
    assert not run.has("PANIC"), run.log


def test_modules_are_kept_out_of_the_allocator(tmp_path):
    """GRUB modules are listed, and no frame of theirs is ever handed out."""
    blob = tmp_path / "blob.bin"
    blob.write_bytes(bytes(range(256)) * 1024)  # 256 KiB
    # The first module is the first task; the blob rides along as the second.
    ktest = mica.BUILD / "user" / "ktest.elf"
    run = mica.boot(cmdline="selftest=frames ready=exit", modules=[ktest, blob])
    assert run.rc == mica.EXIT_SUCCESS, run.log
    m = re.search(r'^module: \[mem 0x([0-9a-f]+)-0x([0-9a-f]+)\] "blob.bin"$', run.log, re.M)
    assert m, run.log
    assert int(m.group(2), 16) - int(m.group(1), 16) + 1 == 256 * 1024
    assert run.has(", 2 modules"), run.log
    assert run.line("selftest: frames ok"), run.log
