"""init and the name service: the pager starts init, which reads the manifest
module, starts the nametest servers (one crashes and is restarted) and its
client, serves the names they register and look up, and with
init.exit_when_done ends them all (servers/init/, tests/user/nametest/)."""

import re

import mica
import pytest

USER = mica.BUILD / "user"
MODULES = [USER / "pager.elf", USER / "init.elf", USER / "nametest.elf",
           mica.ROOT / "tests" / "system" / "manifests" / "init" / "manifest"]
# The test programs init runs at once, as the scenario `tests` boots them (make test-inside).
INSIDE = [USER / n for n in ("pager.elf", "init.elf", "nametest.elf", "kv.elf", "kvclient.elf",
                             "rthello.elf")] + [mica.ROOT / "boot" / "tests"]
INSIDE_CMDLINE = mica.SYSTEM_CMDLINE + " init.args=manifest=tests"
IDS = ["duplicate", "names_handle", "lookup_call", "unknown", "bad_name", "duplicate_client",
       "nested_call",
       "restart", "set_names_refused", "module_read", "orphan_set_names", "names_after_orphan",
       "leave"]


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE, modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.mark.parametrize("test_id", IDS)
def test_init(run, test_id):
    assert run.results(f"init.{test_id}") == [f"TEST init.{test_id} PASS"], run.log


def test_every_result_is_known(run):
    assert run.result_ids("init") == sorted(IDS), run.log


def test_ready_once_after_the_servers_registered(run):
    assert run.lines.count("init: ready") == 1, run.log
    ready = run.lines.index("init: ready")
    assert run.line("init: nt.echo registered by pid") in run.lines[:ready], run.log
    assert run.line("init: nt.crash registered by pid") in run.lines[:ready], run.log


def test_bad_manifest_lines_are_skipped(run):
    assert run.has("init: manifest line 6: unknown kind, skipped"), run.log
    assert run.has("init: manifest line 7: bad restart policy, skipped"), run.log
    assert run.has("init: manifest line 8: no module, skipped"), run.log
    assert run.has("init: 3 entries"), run.log


def test_exits_logged_and_crash_restarted(run):
    exits = re.findall(r"^init: nametest\.elf pid (\d+) exited: reason (\d+) code (\d+)$",
                       run.log, re.M)
    reasons = sorted((int(r), int(c)) for _, r, c in exits)
    # The crash (a pager kill: MICA_EXIT_PAGER 2, no region 1), the client (0 0),
    # and both servers killed at the end (MICA_EXIT_KILLED 3).
    assert reasons == [(0, 0), (2, 1), (3, 0), (3, 0)], run.log
    assert run.lines.count("init: restarting nametest.elf (1 of 3)") == 1, run.log
    assert run.has("init: done"), run.log
    assert run.has("pager: init.elf pid 1 ended: reason 0 code 0"), run.log


def test_orphans_pass_to_init_and_are_ended(run):
    """The orphan that ends by itself and the one that blocks for ever both pass to init; init
    waits for the first and, when its programs are done, kills the second, and the run ends."""
    adopted = re.findall(r"^pager: nametest\.elf pid (\d+) adopted by init$", run.log, re.M)
    assert len(adopted) == 2, run.log
    ended = dict(re.findall(r"^init: adopted pid (\d+) exited: reason (\d+) code \d+$", run.log,
                            re.M))
    killed = re.findall(r"^init: killing adopted pid (\d+)$", run.log, re.M)
    assert sorted(ended) == sorted(adopted), run.log
    assert len(killed) == 1 and ended[killed[0]] == "3", run.log
    assert ended[(set(adopted) - set(killed)).pop()] == "0", run.log
    assert run.lines.index(f"init: killing adopted pid {killed[0]}") < \
        run.lines.index("init: done, 0 programs failed"), run.log


def test_the_exit_hint_is_a_notification(run):
    """init binds a notification to its receive and the pager signals it (pager.set_exit_hint)."""
    assert not run.has("names.exited it is"), run.log


def test_every_frame_back_in_the_pager(run):
    assert run.frames_back(), run.log


def test_a_failing_program_fails_the_run():
    """A program that always exits non-zero: restarted 3 times (restart=always), then given up;
    init says so, exits 1, and QEMU exits with failure."""
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE,
                  modules=[USER / "pager.elf", USER / "init.elf", USER / "ptest.elf",
                           mica.ROOT / "tests" / "system" / "manifests" / "fail" / "manifest"])
    assert r.rc == mica.EXIT_FAILURE, r.log
    exits = re.findall(r"^init: ptest\.elf pid \d+ exited: reason 0 code 7$", r.log, re.M)
    assert len(exits) == 4, r.log
    for n in (1, 2, 3):
        assert r.has(f"init: restarting ptest.elf ({n} of 3)"), r.log
    assert r.has("init: ptest.elf restarted 3 times, given up"), r.log
    assert r.has("init: done, 1 program failed"), r.log
    assert r.has("kernel: the first task failed"), r.log


def test_every_test_program_inside_mica():
    """make test-inside: init runs every test program from one manifest; all pass, QEMU says so."""
    r = mica.boot(cmdline=INSIDE_CMDLINE, modules=INSIDE)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    results = re.findall(r"^TEST (\S+) (PASS|FAIL)", r.log, re.M)
    assert len(results) > 20 and all(v == "PASS" for _, v in results), r.log
    assert r.has("init: done, 0 programs failed"), r.log


def test_a_server_that_never_registers_is_passed_by():
    """A server that never registers (nametest silent, deadline=300): init logs it once its
    deadline passes, leaves it running, and starts the entries after it, which work; the run
    is not ready but passes, and the silent server is killed at the end like the others.
    The manifest is the module `deadline` (init.args=manifest=deadline)."""
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE + " init.args=manifest=deadline",
                  modules=[USER / "pager.elf", USER / "init.elf", USER / "nametest.elf",
                           mica.ROOT / "tests" / "system" / "manifests" / "deadline" / "deadline"])
    assert r.rc == mica.EXIT_SUCCESS, r.log
    for n in (8, 9, 10, 11):
        assert r.has(f"init: manifest line {n}: bad deadline, skipped"), r.log
    assert r.has("init: 3 entries"), r.log
    started = re.findall(r"^init: started nametest\.elf pid (\d+)$", r.log, re.M)
    assert len(started) == 3, r.log
    late = re.findall(r"^init: nametest\.elf pid (\d+) did not register within (\d+) ms$",
                      r.log, re.M)
    assert late == [(started[0], "300")], r.log
    # Logged before the next entry started, which registered and served the program after it.
    assert r.lines.index(f"init: nametest.elf pid {started[0]} did not register within 300 ms") \
        < r.lines.index(f"init: started nametest.elf pid {started[1]}"), r.log
    assert r.line("init: nt.echo registered by pid") is not None, r.log
    assert r.results("init.after_deadline") == ["TEST init.after_deadline PASS"], r.log
    assert r.has("init: not ready: 1 server(s) did not register"), r.log
    # Left running until the end: killed then (MICA_EXIT_KILLED 3), as the echo server.
    assert r.has(f"init: nametest.elf pid {started[0]} exited: reason 3 code 0"), r.log
    assert r.has("init: done, 0 programs failed"), r.log


def test_servers_that_register_meet_their_deadline(run):
    assert not run.has("did not register"), run.log
