"""The file server (servers/fs/): init starts fs from the manifest with a
memory limit (tests/system/manifests/fs/manifest, the scenario `fs`), then
its client (tests/user/fsclient/), which calls every method of idl/fs.idl
with every error, reads the boot modules, writes large files and many,
runs fs out of memory and checks the frames come back; then maps a file as
a memory object (fs.map_object), shared with a child of its own and
private, cuts it by a truncate (a touch past the end kills with BUS) and
removes it, and checks the frames come back again."""

import mica
import pytest

IDS = ["lookup", "module_stat", "module_read", "module_tail", "module_past_end",
       "module_readonly", "module_name_taken", "create_open", "write_read", "overwrite_grow",
       "size_stat", "read_at_end", "read_past_end", "read_too_long", "write_past_end",
       "two_fds", "straddle", "truncate_zeros", "truncate_nomem", "close",
       "create_exists", "bad_name", "name_too_long", "missing", "bad_fd", "removed_while_open",
       "list", "list_after_last", "many_create", "many_read", "many_remove", "large_write",
       "large_read", "large_frames_back", "out_of_memory", "nomem_recovers",
       "object_made", "object_errors", "object_memobj_refused", "object_cache_write_refused",
       "object_reads_file",
       "object_shared", "object_written_back", "object_private", "object_truncate_bus",
       "object_grows", "object_removed", "object_frames_back", "object_write_shared",
       "object_write_private", "object_write_other_process",
       "object_read_sees_mapper", "object_read_hole_page", "object_write_merged", "object_truncate_tail",
       "object_truncate_regrow", "object_coherent_frames_back", "object_grants_reclaimed",
       "object_grants_released", "object_no_fixed_limits",
       "object_no_limits_frames_back", "client_death_fds_closed", "exit_watch_refused",
       "usage_clean"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot_scenario("fs", timeout=600)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_fs(run, test_id):
    assert run.results(f"fs.{test_id}") == [f"TEST fs.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("fs") == sorted(IDS), run.log


def test_ready_after_fs_registered(run):
    ready = run.lines.index("init: ready")
    assert run.line("init: fs registered by pid") in run.lines[:ready], run.log
    assert run.has("init: done"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
