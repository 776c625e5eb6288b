"""make bench's guard (tools/bench.py): reading the figures, checking them
against a baseline, rewriting the baseline. No QEMU: make bench-check runs the
benchmarks themselves; these prove its verdicts."""

import json
import sys

import pytest

import mica

sys.path.insert(0, str(mica.ROOT / "tools"))
import bench  # noqa: E402


def result(**values):
    return {"commit": "test", "figures": {k.replace("_", "."): {"value": v, "unit": "instr/op"}
                                          for k, v in values.items()}}


def baseline(**values):
    return {"tolerance": 0.10,
            "figures": {k.replace("_", "."): {"value": v, "unit": "instr/op", "goal": 1}
                        for k, v in values.items()}}


def test_parse_bench_lines():
    lines = ["bench syscall.null 89 instr/op n=10000", "bench: done",
             "bench meta.kernel_bits_per_frame 18.44 bits/frame",
             "bench meta.kernel_bytes_per_endpoint 4096 bytes n=32", "benchmark 3 x"]
    figs = bench.parse_bench_lines(lines, ".4G")
    assert figs == {
        "syscall.null.4G": {"value": 89, "unit": "instr/op", "n": 10000},
        "meta.kernel_bits_per_frame.4G": {"value": 18.44, "unit": "bits/frame"},
        "meta.kernel_bytes_per_endpoint.4G": {"value": 4096, "unit": "bytes", "n": 32},
    }


def test_boot_figures_subtract_the_entry():
    lines = ["boot: kernel_entry 1000", "boot: kernel_ready 5000", "kernel: ready",
             "boot: init_ready 9000", "init: ready"]
    assert bench.boot_figures(lines) == {
        "boot.kernel_ready": {"value": 4000, "unit": "instr"},
        "boot.init_ready": {"value": 8000, "unit": "instr"},
    }
    assert bench.boot_figures(["boot: kernel_ready 5000"]) == {}


@pytest.mark.parametrize("value,ok", [(100, True), (110, True), (111, False), (50, True)])
def test_tolerance(value, ok, capsys):
    bad = bench.check(result(syscall_null=value), baseline(syscall_null=100))
    assert (bad == []) == ok, bad
    if value == 50:
        assert "below its baseline" in capsys.readouterr().out


def test_missing_figure_fails():
    bad = bench.check(result(syscall_null=100), baseline(syscall_null=100, pager_spawn=5))
    assert len(bad) == 1 and bad[0].startswith("pager.spawn: missing"), bad


def test_new_figure_is_only_a_note(capsys):
    assert bench.check(result(syscall_null=100, new_one=3), baseline(syscall_null=100)) == []
    assert "new.one: new figure" in capsys.readouterr().out


def test_update_keeps_goals(tmp_path, monkeypatch):
    path = tmp_path / "baseline.json"
    monkeypatch.setattr(bench, "BASELINE", path)
    monkeypatch.setattr(bench, "ROOT", tmp_path)
    base = baseline(syscall_null=100, old_one=7)
    bench.update_baseline(result(syscall_null=80, new_one=3), base)
    written = json.loads(path.read_text())
    assert written["figures"]["syscall.null"] == {"value": 80, "unit": "instr/op", "goal": 1}
    assert written["figures"]["new.one"] == {"value": 3, "unit": "instr/op", "goal": None}
    assert written["figures"]["old.one"]["value"] == 7  # not measured: kept
    assert written["commit"] == "test"


def test_committed_baseline_is_complete():
    """Every goal of the performance issue has a baselined value to be held to."""
    base = json.loads(bench.BASELINE.read_text())
    for name, fig in base["figures"].items():
        assert fig["value"] is not None, f"{name} has no baseline value (make bench-baseline)"
    for name in ("syscall.null", "ipc.call_reply.remote", "ipc.call_reply.buf64",
                 "ipc.call_reply.buf4k", "pager.fault.zero", "pager.window.map",
                 "pager.window.unmap", "pager.spawn_exit", "boot.init_ready",
                 "boot.init_ready.4G", "buddy.order0.pair", "buddy.order9.pair",
                 "meta.kernel_bits_per_frame", "meta.pager_bytes_per_frame",
                 "meta.kernel_bytes_per_endpoint", "meta.kernel_bytes_per_thread"):
        assert base["figures"][name]["goal"] is not None, name
