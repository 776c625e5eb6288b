"""Attacks from inside Mica (docs/TESTING.md): the system-call fuzzer
(tests/user/sysfuzz/), the memory-call fuzzer (tests/user/kfuzz/, the first
task), the IPC fuzzer (tests/user/ipcfuzz/), and death at every point and
stress (tests/user/ordeal/). Each but kfuzz boots the pager and init with kv
and one attack program; its TEST lines must pass, nothing may panic, and
every frame must be back in the pager at the end.

Run as a script, it is `make fuzz`: `test_attack.py SEED CALLS [TRACE]` boots
the system-call fuzzer with that seed and number of calls (printing every
call from index TRACE on) and exits 0 only if every check passed.
"""

import re
import sys
import time
from pathlib import Path

import mica
import pytest

USER = mica.BUILD / "user"
SERVERS = [USER / "pager.elf", USER / "init.elf", USER / "kv.elf"]

# The seed and calls make test uses; the fuzzer spawns 5 children making calls/8 each.
FUZZ_SEED = 1
FUZZ_CALLS = 200000


def manifest(name, lines):
    """A manifest module build/attack/attack-<name> (kv first, then `lines`); its own name
    keeps each boot's ISO apart (mica.iso names them by their modules)."""
    d = mica.BUILD / "attack"
    d.mkdir(parents=True, exist_ok=True)
    p = d / f"attack-{name}"
    text = "# Written by tests/system/test_attack.py.\nserver kv.elf\n" + "".join(
        ln + "\n" for ln in lines)
    if not p.exists() or p.read_text() != text:
        p.write_text(text)
    return p


def boot_attack(name, programs, lines, timeout=mica.BOOT_TIMEOUT):
    mods = SERVERS + [USER / p for p in programs] + [manifest(name, lines)]
    return mica.boot(cmdline=f"{mica.SYSTEM_CMDLINE} init.args=manifest=attack-{name}",
                     modules=mods, timeout=timeout)


def check_clean(r):
    """No panic, no failed TEST line, QEMU exit status success, every frame back."""
    assert "PANIC" not in r.log, r.log
    assert not re.search(r"^TEST \S+ FAIL", r.log, re.M), r.log
    assert r.rc == mica.EXIT_SUCCESS, r.log
    assert r.frames_back(), r.log


def fuzz(seed, calls, timeout=None, trace=None):
    """Boot the system-call fuzzer with this seed and number of calls (printing every call
    from index `trace` on, if given)."""
    timeout = timeout or 60 + calls // 10000
    extra = f" trace={trace}" if trace is not None else ""
    return boot_attack("fuzz", ["sysfuzz.elf"],
                       [f"program sysfuzz.elf seed={seed} calls={calls}{extra}"], timeout=timeout)


# ---- the system-call fuzzer ----

FUZZ_IDS = ["plant", "calls", "children", "health", "frames"]


@pytest.fixture(scope="module")
def fuzz_run():
    return fuzz(FUZZ_SEED, FUZZ_CALLS)


def test_fuzz_clean(fuzz_run):
    check_clean(fuzz_run)


@pytest.mark.parametrize("test_id", FUZZ_IDS)
def test_fuzz(fuzz_run, test_id):
    assert fuzz_run.results(f"fuzz.{test_id}") == [f"TEST fuzz.{test_id} PASS"], fuzz_run.log


def test_fuzz_every_result_is_known(fuzz_run):
    assert fuzz_run.result_ids("fuzz") == sorted(FUZZ_IDS), fuzz_run.log


def test_fuzz_made_every_call(fuzz_run):
    """The summary line: as many calls as asked, here and in 5 children."""
    m = re.search(r"^sysfuzz: seed (\d+): (\d+) calls here, (\d+) in (\d+) children", fuzz_run.log,
                  re.M)
    assert m, fuzz_run.log
    assert [int(v) for v in m.groups()] == [FUZZ_SEED, FUZZ_CALLS, FUZZ_CALLS // 8 * 5, 5]
    assert fuzz_run.has(f"sysfuzz: seed {FUZZ_SEED} calls {FUZZ_CALLS} children 5")


def test_fuzz_children_ended_as_chosen(fuzz_run):
    """Children end by exit, thread_exit(77), a null-page write, ud2 and a kernel read."""
    ends = re.findall(r"^pager: sysfuzz\.elf pid \d+ ended: reason (\d+) code (\d+)$",
                      fuzz_run.log, re.M)
    got = sorted((int(a), int(b)) for a, b in ends)
    assert (0, 0) in got and (0, 77) in got and (1, 6) in got and (2, 1) in got, fuzz_run.log
    assert len(got) == 6, fuzz_run.log  # 5 children and the fuzzer


# ---- the memory-call fuzzer: the first task, with an address space of its own ----

KFUZZ_CALLS = 100000


@pytest.fixture(scope="module")
def kfuzz_run():
    return mica.boot(cmdline=f"idle=exit kfuzz.seed=1 kfuzz.calls={KFUZZ_CALLS}",
                     modules=[USER / "kfuzz.elf"])


@pytest.mark.parametrize("test_id", ["calls", "frames"])
def test_kfuzz(kfuzz_run, test_id):
    assert kfuzz_run.results(f"kfuzz.{test_id}") == [f"TEST kfuzz.{test_id} PASS"], kfuzz_run.log


def test_kfuzz_clean(kfuzz_run):
    assert "PANIC" not in kfuzz_run.log and kfuzz_run.rc == mica.EXIT_SUCCESS, kfuzz_run.log
    assert kfuzz_run.has(f"kfuzz: seed 1 calls {KFUZZ_CALLS}"), kfuzz_run.log


def test_kfuzz_reached_the_memory_paths(kfuzz_run):
    """Not only refusals: maps, unmaps, grants and destroys that succeeded."""
    m = re.search(r"^kfuzz: succeeded: map (\d+) unmap (\d+) grant (\d+) aspace_create (\d+) "
                  r"aspace_destroy (\d+)", kfuzz_run.log, re.M)
    assert m and all(int(v) > 10 for v in m.groups()), kfuzz_run.log


# ---- the IPC fuzzer ----

IPC_IDS = ["unknown", "extra_buffer", "long_buffer", "short_buffer", "bad_string",
           "handle_unasked", "handle_missing", "bad_words", "random", "reply_cut", "child",
           "health", "frames"]


@pytest.fixture(scope="module")
def ipc_run():
    return boot_attack("ipc", ["fs.elf", "ipcfuzz.elf"],
                       ["server fs.elf", "program ipcfuzz.elf seed=1 batch=300"])


def test_ipc_clean(ipc_run):
    check_clean(ipc_run)


@pytest.mark.parametrize("test_id", IPC_IDS)
def test_ipc(ipc_run, test_id):
    assert ipc_run.results(f"ipcfuzz.{test_id}") == [f"TEST ipcfuzz.{test_id} PASS"], ipc_run.log


def test_ipc_every_result_is_known(ipc_run):
    assert ipc_run.result_ids("ipcfuzz") == sorted(IPC_IDS), ipc_run.log


def test_ipc_every_request_answered(ipc_run):
    """10 classes x 4 servers (pager, names, kv, fs) x 300 requests, all answered; all but
    the random and reply_cut ones (and the classes a server has no method for) refused."""
    m = re.search(r"^ipcfuzz: seed 1: (\d+) requests, (\d+) refused$", ipc_run.log, re.M)
    assert m, ipc_run.log
    sent, refused = int(m[1]), int(m[2])
    assert sent >= 10500 and refused >= 9300, ipc_run.log


# ---- death at every point, and stress ----

ORDEAL_IDS = ["death.exit_after_spawn", "death.client_queued", "death.client_in_call",
              "death.spawner_killed", "stress.spawn_churn", "stress.heap_churn",
              "stress.many_clients", "stress.exhaust"]


@pytest.fixture(scope="module")
def ordeal_run():
    return boot_attack("ordeal", ["ordeal.elf"], ["program ordeal.elf rounds=1"])


def test_ordeal_clean(ordeal_run):
    check_clean(ordeal_run)


@pytest.mark.parametrize("test_id", ORDEAL_IDS)
def test_ordeal(ordeal_run, test_id):
    assert ordeal_run.results(f"ordeal.{test_id}") == [f"TEST ordeal.{test_id} PASS"], \
        ordeal_run.log


def test_ordeal_every_result_is_known(ordeal_run):
    assert ordeal_run.result_ids("ordeal") == sorted(ORDEAL_IDS), ordeal_run.log


def test_ordeal_killed_children_reported(ordeal_run):
    """The pager saw the kills: the queued client (42), the one in a call (43)."""
    for code in (42, 43):
        assert re.search(rf"^pager: ordeal\.elf pid \d+ ended: reason 3 code {code}$",
                         ordeal_run.log, re.M), ordeal_run.log


def test_ordeal_memory_exhausted(ordeal_run):
    """The hog reached ENOMEM twice, with (nearly) the whole pool mapped each time."""
    pages = re.findall(r"^ordeal: hog round \d+: (\d+) pages until ENOMEM$", ordeal_run.log,
                       re.M)
    assert len(pages) == 2, ordeal_run.log
    start = int(re.search(r"^pager: start free=(\d+)", ordeal_run.log, re.M)[1])
    assert min(int(p) for p in pages) > start * 9 // 10, ordeal_run.log  # the pool ran out


@pytest.fixture(scope="module")
def server_killed_run():
    return boot_attack("srvkill", ["ordeal.elf"], ["program ordeal.elf server_killed"])


def test_ordeal_server_killed_with_clients_queued(server_killed_run):
    """A server child takes one call and is killed with two more callers queued: all three
    must end with MICA_EPEER (exit code 15) within a bound, and the counts come back."""
    r = server_killed_run
    assert r.results("ordeal.death.server_killed") == ["TEST ordeal.death.server_killed PASS"], \
        r.log
    check_clean(r)


def test_ordeal_dead_servers_name_dropped(server_killed_run):
    """After the server child is killed, looking up its name gives MICA_ENOENT."""
    r = server_killed_run
    assert r.results("ordeal.death.server_name_dropped") == [
        "TEST ordeal.death.server_name_dropped PASS"], r.log


def test_dead_servers_name_dropped_unasked(server_killed_run):
    """Init drops the killed server's name before anyone looks it up: the pager's
    names.exited hint (sent for every process that ends), or init's sweep every second."""
    log = server_killed_run.log
    # Twice: the warm-up pass and the counted one; each drop comes before its lookup.
    before = log.split("ordeal: looking up ordeal.srv")[:-1]
    assert len(before) == 2, log
    for part in before:
        assert re.search(r"^init: ordeal\.srv dropped: pid \d+ has ended$", part, re.M), log


def main(argv):
    if len(argv) not in (3, 4) or not all(a.isdigit() for a in argv[1:]):
        print("usage: test_attack.py SEED CALLS [TRACE]", file=sys.stderr)
        return 2
    seed, calls = int(argv[1]), int(argv[2])
    trace = int(argv[3]) if len(argv) == 4 else None
    print(f"fuzz: seed {seed} calls {calls} (and 5 children making {calls // 8} each)")
    t = time.time()
    try:
        r = fuzz(seed, calls, trace=trace)
    except AssertionError as e:  # a hang: the last progress or trace line says where
        (mica.BUILD / "attack" / "fuzz.log").write_text(str(e))
        tail = str(e).splitlines()[-15:]
        print("\n".join(tail))
        print(f"fuzz: seed {seed}: FAILED, QEMU did not exit (a hang) after {time.time() - t:.0f} s")
        return 1
    for ln in r.lines:
        if ln.startswith(("TEST ", "sysfuzz", "PANIC", "kernel: ", "init: done")) or "seed" in ln:
            print(ln)
    ok = (r.rc == mica.EXIT_SUCCESS and "PANIC" not in r.log and r.frames_back()
          and not re.search(r"^TEST \S+ FAIL", r.log, re.M))
    print(f"fuzz: seed {seed}: {'passed' if ok else 'FAILED'} in {time.time() - t:.0f} s "
          f"(QEMU exit status {r.rc}); full log in {Path(mica.BUILD / 'attack' / 'fuzz.log')}")
    (mica.BUILD / "attack" / "fuzz.log").write_text(r.log)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
