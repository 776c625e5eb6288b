"""tools/testrun.py (make test-one, make test-inside): finding a test by its id."""

import subprocess

import mica

TOOL = ["/usr/bin/python3", str(mica.ROOT / "tools" / "testrun.py")]


def test_unknown_id_is_refused():
    p = subprocess.run(TOOL + ["one", "no.such.id"], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2, p.stdout + p.stderr
    assert "no test with id 'no.such.id'" in p.stderr


def test_one_id_runs_only_that_test():
    p = subprocess.run(TOOL + ["one", "kv.count_empty"], capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "test_kv.py::test_kv[count_empty] PASSED" in p.stdout, p.stdout
    assert " 1 passed" in p.stdout, p.stdout


def test_usage():
    p = subprocess.run(TOOL, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and "inside" in p.stderr
