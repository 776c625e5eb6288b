"""The key-value store (servers/kv/): init starts the kv server from the
manifest, then its client (tests/user/kvclient/), which looks kv up and
calls every method of idl/kv.idl, with its errors."""

import mica
import pytest

USER = mica.BUILD / "user"
MODULES = [USER / "pager.elf", USER / "init.elf", USER / "kv.elf", USER / "kvclient.elf",
           mica.ROOT / "tests" / "system" / "manifests" / "kv" / "manifest"]
IDS = ["lookup", "count_empty", "put_get", "replace", "big_value", "get_unknown", "empty_key",
       "count", "remove", "remove_unknown", "full", "full_replace_and_free", "count_full"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE, modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_kv(run, test_id):
    assert run.results(f"kv.{test_id}") == [f"TEST kv.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("kv") == sorted(IDS), run.log


def test_ready_after_kv_registered(run):
    assert run.lines.count("init: ready") == 1, run.log
    ready = run.lines.index("init: ready")
    assert run.line("init: kv registered by pid") in run.lines[:ready], run.log
    assert run.has("init: done"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log
