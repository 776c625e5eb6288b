"""Programs run from files (pager.spawn_object, the runtime's spawn_file): the
scenario `exec` runs tests/user/exectest/ under init; it starts the file
server itself, copies its own image into fs files and runs them: the data,
bss and the page they share; two processes running one file share its text
frames (pager.dump) while their data pages are their own; fork in such a
program; every bad image and argument (not an ELF, empty, cut short,
misplaced segments, no such file or object, a boot module, a bad name, a memory limit
too small for the pages backed at spawn (MICA_ELIMIT), an
object granted to another process); hostile headers (a segment over the stack
or its guard page, an entry outside every segment, program headers past the
first page, two segments on a page, addresses outside the user half, a huge
memory size: all MICA_ENOEXEC, every frame back); the file's object cache is
its creator's (memobj_write, WRITEBACK, RESIZE, GRANT, DESTROY refused with
MICA_EPERM); an exit watch (refused without the signal right, signalled at
once and at a process's end, gone with its process); our fs handle's pid
badge can be neither replaced nor shed through the names (fs_badge_fixed); the file removed or cut short while a
program runs from it (the program is killed with BUS) and fs killed (SERVER);
the pool's frames back after each case and at the end."""

import mica
import pytest

IDS = ["copied", "runs", "fork", "text_shared", "data_private", "two_run", "dump_keeps_shared_write",
       "dump_frames_back", "not_elf", "empty",
       "truncated", "misaligned", "missing", "bad_name", "spawn_mem_limit", "no_rights", "cache_ops_refused", "exit_watch_signals", "fs_badge_fixed", "errors_frames_back",
       "stack_segment", "hostile_headers", "hostile_frames_back", "removed_bus", "removed_frames_back", "shrunk_bus", "shrunk_frames_back",
       "fs_dead_server", "fs_dead_refused", "frames_back"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot_scenario("exec", timeout=600)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_exec(run, test_id):
    assert run.results(f"exec.{test_id}") == [f"TEST exec.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("exec") == sorted(IDS), run.log


def test_kills_are_logged(run):
    assert run.has("past the memory object's end"), run.log
    assert run.has("memory server failed"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
