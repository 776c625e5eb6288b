"""tools/testrun.py (make test-one, make test-inside): finding a test by its id."""

import importlib.util
import re
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


def test_the_usage_examples_exist():
    """The ids testrun's usage gives as examples are real tests."""
    spec = importlib.util.spec_from_file_location("testrun", mica.ROOT / "tools" / "testrun.py")
    testrun = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(testrun)
    examples = re.search(r"\(e\.g\.(.*?)\)", testrun.__doc__, re.S).group(1)
    ids = [w.strip(" ,\n") for w in examples.split(",")]
    assert len(ids) >= 3, ids
    for test_id in ids:
        assert testrun.nodes(test_id), f"no test with id {test_id!r}"
