"""The pager's dump (pager.dump, docs/MEMDUMP.md), memview and tools/memmap.py.

The renderer is tested on a recorded dump (tests/system/memdump.txt); the
rest boots kv and its client, then memview one run at a time
(tests/system/manifests/memview/manifest) and checks its output against the
pager's own figures."""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import mica
import pytest

sys.path.insert(0, str(mica.ROOT / "tools"))
import memmap  # noqa: E402

USER = mica.BUILD / "user"
RECORDED = mica.ROOT / "tests" / "system" / "memdump.txt"
MODULES = [USER / "pager.elf", USER / "init.elf", USER / "kv.elf", USER / "kvclient.elf",
           USER / "memview.elf", mica.ROOT / "tests" / "system" / "manifests" / "memview" / "manifest"]
SVG = "{http://www.w3.org/2000/svg}"
# How memview's lines begin (other programs' and the kernel's do not).
USAGE = "usage: memview.elf dump [sleep=MS] | vm PID | pmap | check | selftest"
MEMVIEW_LINES = ("memview:", "memdump ", "vm ", "  ", "pmap:", "range ", "legend:", "free blocks",
                 "usage:", "TEST memview.")


# ---- the renderer, on the recorded dump ----

@pytest.fixture(scope="module")
def recorded():
    return memmap.parse(RECORDED.read_text())


def test_parse_recorded(recorded):
    assert recorded["version"] == 1
    assert recorded["pool"]["total"] == 29853 and recorded["pool"]["free"] == 29617
    assert sorted(recorded["procs"]) == [257, 258, 2563]
    assert len(recorded["regions"]) == 16
    free = sum(1 << o for _f, o, w in recorded["blocks"] if w == "free")
    assert free == recorded["pool"]["free"]


def test_render_recorded(recorded, tmp_path):
    paths = memmap.render(recorded, tmp_path)
    assert {p.name for p in paths} == {"pool.svg", "proc-257.svg", "proc-258.svg",
                                       "proc-2563.svg"}
    pool = ET.parse(tmp_path / "pool.svg").getroot()
    assert pool.tag == SVG + "svg"
    fills = {r.get("fill") for r in pool.iter(SVG + "rect")}
    colours = memmap.owner_colours(recorded)
    # Every owner's colour, free frames and the pager's metadata are drawn.
    assert set(colours.values()) | {memmap.FREE_COLOUR, memmap.PAGER_COLOUR} <= fills
    texts = " ".join(t.text or "" for t in pool.iter(SVG + "text"))
    for pid, p in recorded["procs"].items():
        assert f"pid {pid} {p['name']}" in texts
    kv = ET.parse(tmp_path / "proc-258.svg").getroot()
    groups = [g for g in kv.iter(SVG + "g") if g.get("class") == "region"]
    assert len(groups) == 5
    assert {g.get("data-kind") for g in groups} == {"image", "stack"}


def test_parse_refuses_bad_input():
    with pytest.raises(memmap.DumpError):
        memmap.parse("no dump here\n")
    with pytest.raises(memmap.DumpError):
        memmap.parse("memdump begin 1\nmemdump range zz 3\nmemdump end\n")
    with pytest.raises(memmap.DumpError):
        memmap.parse("memdump begin 1\nmemdump frob\nmemdump end\n")
    # A dump cut short (no end line) is not a dump.
    with pytest.raises(memmap.DumpError):
        memmap.parse(RECORDED.read_text().replace("memdump end", ""))


def test_main_writes_files(tmp_path, capsys):
    assert memmap.main([str(RECORDED), "--out", str(tmp_path)]) == 0
    assert "pool.svg" in capsys.readouterr().out
    bad = tmp_path / "bad.log"
    bad.write_text("nothing\n")
    assert memmap.main([str(bad), "--out", str(tmp_path)]) == 1


# ---- in Mica ----

@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE, modules=MODULES)
    assert "PANIC" not in r.log, r.log
    return r


def outputs(run):
    """Each memview run's lines, by its pid, in start order."""
    out, pid = [], None
    for line in run.lines:
        m = re.match(r"init: started memview\.elf pid (\d+)", line)
        if m:
            out.append([])
            continue
        if out and line.startswith(MEMVIEW_LINES):
            out[-1].append(line)
    return out


def ends(run):
    """The exit codes of the memview runs, in order."""
    names = {m.group(1) for m in re.finditer(r"init: started memview\.elf pid (\d+)", run.log)}
    codes = re.findall(r"pager: memview\.elf pid (\d+) ended: reason 0 code (\d+)", run.log)
    return [int(c) for p, c in codes if p in names]


def test_run_ended_well(run):
    assert run.rc == mica.EXIT_SUCCESS, run.log
    assert run.frames_back(), run.log


def test_check_agrees_with_pager(run):
    # memview check: pool totals = pager.stats, free blocks = pager.free_blocks,
    # each region's backed count = its pages in the dump, its own = pager.regions.
    assert re.search(r"^memview: check ok: \d+ processes", run.log, re.M), run.log
    assert "memview: check " not in run.log.replace("memview: check ok", ""), run.log


def test_exit_codes(run):
    # selftest, check, vm 2, vm 999, vm 0x2, pmap, frob, vm, dump sleep=x, dump, dump
    assert ends(run) == [0, 0, 0, 1, 0, 0, 2, 2, 2, 0, 0], run.log


SELFTEST = ["bad_part", "bad_part_high", "unknown_pid", "pid_zero", "pool_cursor",
            "blocks_cursor", "procs_cursor", "regions_cursor", "pages_unaligned",
            "pages_kernel_half", "dense_pieces", "contents_kept", "sparse_pieces",
            "sparse_contents_kept"]


@pytest.mark.parametrize("test_id", SELFTEST)
def test_dump_call(run, test_id):
    assert run.results(f"memview.{test_id}") == [f"TEST memview.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("memview") == sorted(SELFTEST), run.log


def test_vm_picture(run):
    vm = outputs(run)[2]
    assert vm[0].startswith("vm 2 kv.elf: 5 regions,"), vm
    rows = [l for l in vm if re.match(r"  [0-9a-f]{16}-[0-9a-f]{16} [r-][w-][x-] ", l)]
    assert len(rows) == 5, vm
    for row in rows:
        m = re.search(r" (\d+)/(\d+) +\|([#+.]+)\|", row)
        backed, pages, picture = int(m.group(1)), int(m.group(2)), m.group(3)
        assert len(picture) == min(pages, 64), row
        assert picture.count("#") == backed or pages > 64, row
    assert vm[-1].startswith("  legend:"), vm
    # The same picture for the pid in hex.
    assert outputs(run)[4] == vm


def test_bad_arguments(run):
    out = outputs(run)
    assert out[3] == ["memview: pager.dump part 3 pid 999: ENOENT"], out[3]
    for i in (6, 7, 8):
        assert out[i] == [USAGE], out[i]


def test_pmap_picture(run):
    pm = outputs(run)[5]
    m = re.match(r"pmap: (\d+) frames in (\d+) ranges, (\d+) free, (\d+) donated, "
                 r"1 char = (\d+) frames", pm[0])
    assert m, pm
    rows = [l for l in pm if re.match(r"  [0-9a-f]{8} \|", l)]
    assert rows and all(len(r.split("|")[1]) <= 64 for r in rows), pm
    assert any("." in r for r in rows) and any("b" in r for r in rows), pm
    assert re.search(r"^  b pid 2 kv\.elf: \d+ frames$", "\n".join(pm), re.M), pm
    assert pm[-1].startswith("free blocks by order:"), pm


@pytest.fixture(scope="module")
def dumped(run):
    return memmap.parse("\n".join(outputs(run)[9]))


def test_dump_matches_pager(run, dumped):
    # The pager's own count line at start and the frames the dump accounts for.
    start = re.search(r"pager: start free=(\d+) total=(\d+)", run.log)
    assert dumped["pool"]["total"] == int(start.group(2))
    free = sum(1 << o for _f, o, w in dumped["blocks"] if w == "free")
    assert free == dumped["pool"]["free"]
    assert sum(dumped["orders"].values()) == len([b for b in dumped["blocks"] if b[2] == "free"])
    owned = set()
    for pid, _va, frame, count in dumped["runs"]:
        owned |= set(range(frame, frame + count))
    free_frames = {f for fr, o, w in dumped["blocks"] for f in range(fr, fr + (1 << o))}
    assert not owned & free_frames
    # Every frame a process has is in the pool, and no two processes share one here.
    assert sum(c for _p, _v, _f, c in dumped["runs"]) == len(owned)
    assert len(owned) + free <= dumped["pool"]["total"]


def test_dump_lists_every_process(run, dumped):
    running = {1, 2}  # init and kv; kvclient and the memviews before have ended
    me = [int(p) for p in re.findall(r"init: started memview\.elf pid (\d+)", run.log)][9]
    live = {pid for pid, p in dumped["procs"].items() if p["state"] == "running"}
    assert live == running | {me}, dumped["procs"]
    assert dumped["procs"][2]["name"] == "kv.elf" and dumped["procs"][2]["parent"] == 1


def test_dump_backed_counts(dumped):
    for pid, p in dumped["procs"].items():
        regions = [r for r in dumped["regions"] if r["pid"] == pid]
        assert len(regions) == p["nregions"]
        assert sum(r["backed"] for r in regions) == p["resident"]
        for r in regions:
            pages = sum(max(0, min(va + c * 4096, r["end"]) - max(va, r["start"])) // 4096
                        for q, va, _f, c in dumped["runs"] if q == pid)
            assert pages == r["backed"], r


def test_last_dump_after_sleep(run):
    # dump sleep=10, the last entry: a whole dump, after the sleep.
    last = memmap.parse("\n".join(outputs(run)[10]))
    assert {1, 2} <= set(last["procs"]), last["procs"]


# ---- make memmap ----

def test_memmap_boots_and_renders(tmp_path, capsys):
    # What make memmap runs: boot scenarios/memmap, render its dump.
    assert memmap.main(["--boot", "memmap", "--out", str(tmp_path)]) == 0
    dump = memmap.parse((tmp_path / "serial.log").read_text())
    names = {p["name"] for p in dump["procs"].values()}
    assert {"init.elf", "kv.elf", "memview.elf"} <= names, names
    written = capsys.readouterr().out
    assert f"memmap: wrote {tmp_path / 'pool.svg'}" in written
    for pid, p in dump["procs"].items():
        if p["state"] == "running":
            ET.parse(tmp_path / f"proc-{pid}.svg")
    ET.parse(tmp_path / "pool.svg")


def test_make_memmap_target():
    r = subprocess.run(["make", "-n", "--no-print-directory", "memmap"], cwd=mica.ROOT,
                       capture_output=True, text=True, timeout=60,
                       env={k: v for k, v in os.environ.items()
                            if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")})
    assert "tools/memmap.py --boot memmap --out build/memmap" in r.stdout, r.stdout + r.stderr
