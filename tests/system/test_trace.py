"""The kernel trace buffer (kernel/trace.c, docs/TRACING.md) in a whole
system: booted with trace=syscall,ipc,switch and trace.dump=exit, the kv
client's put and get appear in the dump as the expected sequence of events;
a bad trace= leaves tracing off. The trace system call's errors are ktest's
trace.errors (test_kernel.py); tools/trace.py's own tests are
test_trace_tool.py."""

import mica
import pytest
from test_kv import MODULES
from test_trace_tool import tracetool

KV_PUT, KV_GET = (3 << 16) | 1, (3 << 16) | 2  # idl/kv.idl: interface 3, methods 1 and 2
SYS = tracetool.syscall_names()
CALL = next(n for n, s in SYS.items() if s == "ipc_call")
REPLY_RECV = next(n for n, s in SYS.items() if s == "ipc_reply_recv")


@pytest.fixture(scope="module")
def run():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE + " trace=syscall,ipc,switch trace.dump=exit",
                  modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    return r


@pytest.fixture(scope="module")
def dump(run):
    dumps = tracetool.parse_dumps(run.log)
    assert len(dumps) == 1, run.log
    return dumps[0]


def test_kv_still_passes_while_traced(run):
    assert run.line("trace: on, mask e, ring of 4096 events"), run.log
    assert run.results("kv.put_get") == ["TEST kv.put_get PASS"], run.log
    assert run.frames_back(), run.log


def test_dump_comes_at_exit_with_the_mask(run, dump):
    begin = next(i for i, l in enumerate(run.lines) if l.startswith("trace begin"))
    assert run.lines.index("kernel: all user threads have exited") < begin, run.log
    assert dump.mask == 0b1110 and dump.ring == 4096
    assert 100 < len(dump.events) <= 4096
    assert {e.type for e in dump.events} == {"syscall", "ipc", "switch"}
    assert all(a.tsc <= b.tsc for a, b in zip(dump.events, dump.events[1:]))


def expect_round_trip(events, i, label):
    """events[i] is the client's call syscall with `label`: check what follows.
    Returns the index after the client runs again."""
    c = events[i]
    assert c.type == "syscall" and c.sub == CALL and c.b == label
    client = c.tid
    # The message: a call with the label, from the client, with the client handle's badge.
    msg = events[i + 1]
    assert (msg.type, msg.sub, msg.x, msg.a) == ("ipc", 1, client, label), msg
    assert msg.b != 0  # init gives the client a badged handle to kv
    server = msg.y
    assert server != client
    # The server runs (the fast path hands the CPU over), receives, replies.
    seq = [e for e in events[i + 2:] if e.tid in (client, server)]
    assert (seq[0].type, seq[0].tid, seq[0].x) == ("switch", client, server), seq[:4]
    assert (seq[1].type, seq[1].tid, seq[1].sub) == ("syscall", server, REPLY_RECV), seq[:4]
    r = seq[2]
    assert (r.type, r.sub, r.x, r.y, r.a, r.b) == ("ipc", 2, server, client, 0, 0), r
    assert (seq[3].type, seq[3].tid, seq[3].x) == ("switch", server, client), seq[:4]
    return server


def test_kv_put_then_get_is_traced_as_call_receive_reply(dump):
    ev = dump.events
    puts = [i for i, e in enumerate(ev) if e.type == "syscall" and e.sub == CALL and e.b == KV_PUT]
    assert puts, "no kv.put call in the trace"
    server = expect_round_trip(ev, puts[0], KV_PUT)
    # kvclient's put_get test: the next call is the get of the same key, to the same server.
    nxt = next(i for i in range(puts[0] + 1, len(ev))
               if ev[i].type == "syscall" and ev[i].sub == CALL and ev[i].tid == ev[puts[0]].tid)
    assert ev[nxt].b == KV_GET
    assert expect_round_trip(ev, nxt, KV_GET) == server


def test_timeline_names_the_kv_methods(dump):
    text = tracetool.timeline(dump)
    assert "call kv.put t" in text and "kv.put reply status=0" in text
    assert "call kv.get t" in text and "syscall ipc_call(" in text
    assert "received calls of: kv" in text


def test_bad_trace_option_leaves_tracing_off():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE + " trace=ipc,bogus trace.dump=exit",
                  modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    assert r.line("trace: trace=ipc,bogus: not on, off or a list of syscall,ipc,switch,fault,irq;"
                  " tracing stays off"), r.log
    dumps = tracetool.parse_dumps(r.log)
    assert len(dumps) == 1 and dumps[0].events == [] and dumps[0].mask == 0, r.log


def test_trace_on_records_faults_and_interrupts():
    r = mica.boot(cmdline=mica.SYSTEM_CMDLINE + " trace=on trace.dump=exit", modules=MODULES)
    assert r.rc == mica.EXIT_SUCCESS, r.log
    (dump,) = tracetool.parse_dumps(r.log)
    assert dump.mask == 0b111110
    ev = dump.events
    assert {e.type for e in ev} == set(tracetool.TYPES)
    assert any(e.type == "irq" and e.sub == 0 for e in ev)  # the timer
    # A page fault: the kernel's fault message from the faulting thread to its pager.
    i = next(i for i, e in enumerate(ev) if e.type == "fault")
    f = ev[i]
    assert f.sub == 14 and f.a >> 12 << 12 and f.b
    msg = next(e for e in ev[i + 1:] if e.type == "ipc" and e.x == f.tid)
    assert (msg.sub, msg.a) == (3, tracetool.LABEL_KERNEL + 1), msg
    assert "kernel fault t%d -> t%d" % (f.tid, msg.y) in tracetool.timeline(dump)
