"""tools/trace.py on a recorded serial log (traces/kv.log: the kv scenario
booted with trace=syscall,ipc,switch trace.dump=exit): parsing, the text
timeline with IDL names, the Chrome trace-event JSON, and its errors. No
QEMU here."""

import importlib.util
import json
import subprocess

import mica
import pytest

# Loaded by path: the module name `trace` is also the standard library's.
_spec = importlib.util.spec_from_file_location("mica_trace_tool", mica.ROOT / "tools" / "trace.py")
tracetool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tracetool)

LOG = mica.ROOT / "tests" / "system" / "traces" / "kv.log"
TOOL = mica.ROOT / "tools" / "trace.py"


@pytest.fixture(scope="module")
def dump():
    dumps = tracetool.parse_dumps(LOG.read_text())
    assert len(dumps) == 1
    return dumps[0]


def test_parse_recorded_dump(dump):
    assert (len(dump.events), dump.lost, dump.mask, dump.ring) == (693, 0, 0xE, 4096)
    e = dump.events[0]
    assert (e.type, e.tid, e.x) == ("switch", 0, 2)


def test_labels_come_from_the_idl_files():
    labels = tracetool.idl_labels()
    assert labels[(3 << 16) | 1] == "kv.put"
    assert labels[(3 << 16) | 4] == "kv.count"
    assert all("." in v for v in labels.values())


def test_syscall_names_come_from_the_header():
    names = tracetool.syscall_names()
    assert names[11] == "ipc_call" and names[12] == "ipc_reply_recv" and names[34] == "trace"


def test_timeline_decodes_calls_and_pairs_replies(dump):
    lines = tracetool.timeline(dump).splitlines()
    assert lines[0].startswith("# 693 events, 0 lost (ring of 4096)")
    assert lines[1].split() == ["0", "t0", "switch", "->", "t2"]
    i = next(i for i, l in enumerate(lines) if "call kv.put" in l)
    assert lines[i - 1].split()[1:] == ["t5", "syscall", "ipc_call(0x2,", "0x30001)"]
    assert lines[i].split()[1:] == ["t5", "call", "kv.put", "t5", "->", "t4", "badge=0x1"]
    assert lines[i + 1].split()[1:] == ["t5", "switch", "->", "t4"]
    assert lines[i + 3].split()[1:] == ["t4", "reply", "kv.put", "reply", "status=0", "t4", "->",
                                        "t5", "badge=0x0"]
    assert "# t4 received calls of: kv" in lines
    assert "# t2 received calls of: pager" in lines


def test_chrome_json(dump):
    doc = json.loads(json.dumps(tracetool.chrome(dump)))
    ev = doc["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names[4] == "t4 (serves kv)"
    slices = [e for e in ev if e["ph"] == "X"]
    assert slices and all(e["dur"] >= 0 for e in slices)
    # One running slice per switch, plus the last thread's.
    assert len(slices) == sum(e.type == "switch" for e in dump.events) + 1
    puts = [e for e in ev if e["ph"] == "i" and e["name"] == "kv.put"]
    assert puts and puts[0]["args"]["from"] == 5 and puts[0]["args"]["to"] == 4
    starts = {e["id"]: e for e in ev if e["ph"] == "s"}
    ends = {e["id"]: e for e in ev if e["ph"] == "f"}
    assert starts.keys() == ends.keys() and len(starts) == sum(e.type == "ipc" for e in dump.events)
    assert all(ends[i]["ts"] == starts[i]["ts"] for i in starts)


def test_command_line_json(tmp_path):
    out = tmp_path / "t.json"
    p = subprocess.run([str(TOOL), str(LOG), "--json", str(out)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout == f"trace: 693 events to {out}\n", p.stderr
    assert json.loads(out.read_text())["displayTimeUnit"] == "ns"


def test_command_line_timeline_of_standard_input():
    p = subprocess.run([str(TOOL), "-"], input=LOG.read_text(), capture_output=True, text=True)
    assert p.returncode == 0 and "call kv.get t5 -> t4" in p.stdout


@pytest.mark.parametrize("text,why", [
    ("no dump here\n", "no trace dump in the log"),
    ("trace begin events=1 lost=0 mask=2 ring=4096\ntrace 1 2 bogus 0 0 0 0 0\ntrace end\n",
     "line 2: not a trace event"),
    ("trace begin events=1 lost=0 mask=2 ring=4096\ntrace 1 2 ipc 0 0 0\ntrace end\n",
     "line 2: not a trace event"),
    ("trace begin events=2 lost=0 mask=2 ring=4096\ntrace 1 2 irq 0 0 0 0 0\ntrace end\n",
     "line 3: dump has 1 events, its header says 2"),
])
def test_errors(tmp_path, text, why):
    f = tmp_path / "log"
    f.write_text(text)
    p = subprocess.run([str(TOOL), str(f)], capture_output=True, text=True)
    assert p.returncode == 1 and p.stderr.startswith(f"trace: {why}"), p.stderr


def test_dump_choice(tmp_path):
    one = "trace begin events=1 lost=0 mask=20 ring=4096\ntrace 5 1 irq 4 0 0 0 0\ntrace end\n"
    two = "trace begin events=1 lost=3 mask=20 ring=4096\ntrace 9 1 irq 0 0 0 0 0\ntrace end\n"
    f = tmp_path / "log"
    f.write_text("boot\n" + one + "more\n" + two)
    p = subprocess.run([str(TOOL), str(f), "--dump", "1"], capture_output=True, text=True)
    assert p.returncode == 0 and "irq 4" in p.stdout
    p = subprocess.run([str(TOOL), str(f)], capture_output=True, text=True)
    assert "irq 0" in p.stdout and "1 events, 3 lost" in p.stdout
    p = subprocess.run([str(TOOL), str(f), "--dump", "3"], capture_output=True, text=True)
    assert p.returncode == 1 and "--dump 3: the log has 2 dump(s)" in p.stderr
