"""Memory objects served by memory servers (docs/MEMORY_SERVERS.md), in QEMU.

The pager starts tests/user/memtest/ as init. memtest is a memory server
itself (a thread serving idl/memobj.idl from a store in its memory) and
runs the cases (twice: a warm-up pass, then the one it reports),
printing "TEST memobj.<id> PASS|FAIL": two processes
sharing an object see each other's writes and the dirty pages reach the
store on sync and unmap; a private mapping's writes are its own; a touch
past the object's end (after a shrink, after a destroy) kills the toucher
alone; a server that dies mid-fault, and one that never answers (the boot
sets a 300 ms timeout), fail only the fault waiting on them; with more
faults waiting than the pager has workers, the extra one retries and a
sync or unmap says MICA_EBUSY, changing nothing. After every
case the pool's free frames are what they were, and at the end of the run
every frame is back.
"""

import re

import pytest

import mica

IDS = ["shared", "private", "past_end", "errors", "server_dies", "server_hangs", "workers_busy"]
COUNTS = mica.PAGER_COUNTS


@pytest.fixture(scope="module")
def run():
    r = mica.boot_scenario("memobj")  # scenarios/memobj: the pager, memtest, a 300 ms timeout
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_memobj(run, test_id):
    assert run.results(f"memobj.{test_id}") == [f"TEST memobj.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("memobj") == sorted(IDS), run.log


def test_kills_name_the_reason(run):
    """Each refused touch is logged with its reason: past the end, a failed or silent server
    (memtest runs its cases twice: a warm-up pass, then the counted one)."""
    kills = re.findall(r"^pager: killing memtest\.elf pid \d+: (.+) at 0x", run.log, re.M)
    assert sorted(kills) == sorted(2 * ([
        "past the memory object's end",
        "past the memory object's end",
        "past the memory object's end",
        "memory server failed",
        "memory server failed",
        "memory server timed out",
        "memory server failed",
    ] + 7 * ["memory server timed out"])), run.log
    assert not run.has("PANIC"), run.log


def test_frames_all_back(run):
    """Every frame is back in the pool (or given to the kernel) once all processes ended."""
    start, idle = COUNTS.findall(run.log)
    assert int(idle[1]) + int(idle[4]) == int(start[1]), run.log


def test_kernel_counts_back(run):
    """Nothing is left mapped once the pager's threads and every process are gone."""
    stats = [dict(kv.split("=") for kv in line.split())
             for line in re.findall(r"^memstats: (.*)$", run.log, re.M)]
    assert len(stats) == 2, run.log
    before, after = ({k: int(v) for k, v in s.items()} for s in stats)
    assert after["pool_mapped"] == after["mappings"] == 0, run.log
    assert (after["tables"], after["objects"]) == (before["tables"], before["objects"]), run.log
