"""tools/itrace.py's own logic (no QEMU: a trace run takes minutes, see docs/PERFORMANCE.md):
naming addresses after the ELF symbols and finding a loop's head."""

import sys
from array import array

import mica

sys.path.insert(0, str(mica.ROOT / "tools"))
import itrace  # noqa: E402


def test_symbols_name_addresses(tmp_path):
    syms = itrace.Symbols()
    syms.add(mica.KERNEL, "kernel")
    out = itrace.subprocess.run(["nm", "--defined-only", str(mica.KERNEL)], check=True,
                                capture_output=True, text=True).stdout
    kmain = next(int(ln.split()[0], 16) for ln in out.splitlines() if ln.endswith(" kmain"))
    assert syms.name(kmain) == "kernel:kmain"
    assert syms.name(kmain + 1) == "kernel:kmain"
    assert syms.name(0x1234).startswith("?:")


def test_loop_head_is_the_first_address_visited_once_per_operation():
    # Three operations of: program 0x10 (loop head), kernel 0x90 twice, program 0x11.
    region = array("Q", [0x5] + [0x10, 0x90, 0x90, 0x11] * 3)
    mine = lambda pc: pc < 0x80  # noqa: E731
    assert itrace.loop_head(region, 3, mine) == 0x10
    assert itrace.loop_head(region, 6, mine) is None  # 0x90 is visited 6 times, not the program
