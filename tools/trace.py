#!/usr/bin/python3
"""Read a kernel trace dump from a serial log (docs/TRACING.md).

  tools/trace.py LOG                     a text timeline
  tools/trace.py LOG --json OUT.json     Chrome trace-event JSON (ui.perfetto.dev opens it)
  tools/trace.py LOG --dump N            the Nth dump of the log (default: the last)

The kernel prints its trace ring as lines between `trace begin ...` and
`trace end` (a dump by the trace system call, or trace.dump=exit). Each
event line is `trace TSC TID TYPE SUB X Y A B`, numbers in hex. IPC labels
are decoded to `interface.method` from idl/*.idl (read by tools/idlc's own
parser); system-call numbers to names from include/mica/syscall.h; the
kernel's labels (fault, exit, notify) from include/mica/fault.h and
notify.h. A reply is matched with the call it answers and named after it.
Times are time stamp counter values, which under QEMU -icount count
instructions; the timeline shows them relative to the first event.
"""
import argparse
import glob
import json
import os
import re
import sys
from dataclasses import dataclass

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools", "idlc"))

import idlc  # noqa: E402  (tools/idlc/idlc.py: load() parses and checks one .idl)

TYPES = ("syscall", "ipc", "switch", "fault", "irq")
IPC_KINDS = {0: "send", 1: "call", 2: "reply", 3: "kernel"}
LABEL_KERNEL = 0xFFFFFFFFFFFF0000
KERNEL_LABELS = {LABEL_KERNEL + 1: "fault", LABEL_KERNEL + 2: "exit", LABEL_KERNEL + 3: "notify"}
BEGIN = re.compile(r"^trace begin events=(\d+) lost=(\d+) mask=([0-9a-f]+) ring=(\d+)$")
EVENT = re.compile(r"^trace ([0-9a-f]+) ([0-9a-f]+) (\w+) ([0-9a-f]+) ([0-9a-f]+) ([0-9a-f]+) "
                   r"([0-9a-f]+) ([0-9a-f]+)$")


class TraceError(Exception):
    pass


@dataclass
class Event:
    tsc: int
    tid: int
    type: str
    sub: int
    x: int
    y: int
    a: int
    b: int


@dataclass
class Dump:
    events: list
    lost: int
    mask: int
    ring: int


def parse_dumps(text):
    """Every complete dump in a serial log, in order. Raises TraceError on a malformed line
    inside a dump, or a dump whose event count differs from its header."""
    dumps, cur = [], None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.rstrip("\r")
        m = BEGIN.match(line)
        if m:
            cur = (int(m.group(1)), Dump([], int(m.group(2)), int(m.group(3), 16), int(m.group(4))))
            continue
        if cur is None or not line.startswith("trace"):
            continue
        if line == "trace end":
            if len(cur[1].events) != cur[0]:
                raise TraceError(f"line {n}: dump has {len(cur[1].events)} events, "
                                 f"its header says {cur[0]}")
            dumps.append(cur[1])
            cur = None
            continue
        m = EVENT.match(line)
        if not m or m.group(3) not in TYPES:
            raise TraceError(f"line {n}: not a trace event: {line!r}")
        g = m.groups()
        cur[1].events.append(Event(int(g[0], 16), int(g[1], 16), g[2], *(int(v, 16) for v in g[3:])))
    return dumps


def idl_labels(idl_dir=None):
    """label -> "interface.method" for every method of idl/*.idl."""
    labels = {}
    for path in sorted(glob.glob(os.path.join(idl_dir or os.path.join(ROOT, "idl"), "*.idl"))):
        iface = idlc.load(path)
        for m in iface.methods:
            labels[(iface.number << 16) | m.number] = f"{iface.name}.{m.name}"
    return labels


def syscall_names(header=None):
    """number -> name (lower case, MICA_SYS_ dropped) from include/mica/syscall.h."""
    with open(header or os.path.join(ROOT, "include", "mica", "syscall.h"), encoding="utf-8") as f:
        text = f.read()
    return {int(n): name.lower() for name, n in re.findall(r"MICA_SYS_(\w+) = (\d+)", text)}


class Decoder:
    """Names for labels and calls, and the pairing of replies with calls."""

    def __init__(self, labels=None, syscalls=None):
        self.labels = idl_labels() if labels is None else labels
        self.syscalls = syscall_names() if syscalls is None else syscalls
        self.pending = {}  # server tid -> label of the call it owes a reply to
        self.serves = {}   # tid -> interfaces it received calls of

    def label(self, v):
        if v in self.labels:
            return self.labels[v]
        if v in KERNEL_LABELS:
            return KERNEL_LABELS[v]
        return f"label {v:#x}"

    def ipc(self, e):
        """(kind, name) of an IPC event; updates the call/reply pairing."""
        kind = IPC_KINDS.get(e.sub, f"kind{e.sub}")
        if kind == "reply":
            call = self.pending.pop(e.x, None)
            status = e.a if e.a < (1 << 63) else e.a - (1 << 64)
            name = f"{self.label(call)} reply" if call is not None else "reply"
            return kind, f"{name} status={status}"
        if kind == "call":
            self.pending[e.y] = e.a
        name = self.label(e.a)
        if e.a in self.labels:
            self.serves.setdefault(e.y, set()).add(name.split(".")[0])
        return kind, name

    def describe(self, e):
        """One line of text for event e."""
        if e.type == "syscall":
            return f"syscall {self.syscalls.get(e.sub, e.sub)}({e.a:#x}, {e.b:#x})"
        if e.type == "ipc":
            kind, name = self.ipc(e)
            return f"{kind} {name} t{e.x} -> t{e.y} badge={e.b:#x}"
        if e.type == "switch":
            return f"switch -> t{e.x}"
        if e.type == "fault":
            return f"fault vector {e.sub} addr={e.a:#x} rip={e.b:#x}"
        return f"irq {e.sub}"


def timeline(dump, decoder=None):
    """The text timeline: one line per event, time relative to the first."""
    d = decoder or Decoder()
    out = [f"# {len(dump.events)} events, {dump.lost} lost (ring of {dump.ring}), "
           f"times in TSC units from the first (instructions under -icount)"]
    t0 = dump.events[0].tsc if dump.events else 0
    for e in dump.events:
        out.append(f"{e.tsc - t0:>12}  t{e.tid:<4} {d.describe(e)}")
    for tid, ifaces in sorted(d.serves.items()):
        out.append(f"# t{tid} received calls of: {', '.join(sorted(ifaces))}")
    return "\n".join(out) + "\n"


def chrome(dump, decoder=None):
    """Chrome trace-event JSON (a dict): a slice per thread while it runs, an instant
    per system call, IPC, fault and interrupt, and a flow arrow from sender to receiver.
    One TSC unit is shown as one nanosecond."""
    d = decoder or Decoder()
    ev, t0 = [], dump.events[0].tsc if dump.events else 0
    us = lambda tsc: (tsc - t0) / 1000.0  # noqa: E731
    running, since, tids = None, None, set()
    for i, e in enumerate(dump.events):
        tids.add(e.tid)
        if running is None:
            running, since = e.tid, e.tsc
        base = {"pid": 1, "tid": e.tid, "ts": us(e.tsc)}
        if e.type == "switch":
            ev.append({"name": "running", "ph": "X", "pid": 1, "tid": running, "ts": us(since),
                       "dur": us(e.tsc) - us(since)})
            running, since = e.x, e.tsc
            tids.add(e.x)
            continue
        if e.type == "ipc":
            kind, name = d.ipc(e)
            ev.append(dict(base, name=name, ph="i", s="t", cat=kind,
                           args={"kind": kind, "from": e.x, "to": e.y, "label": hex(e.a),
                                 "badge": hex(e.b)}))
            ev.append(dict(base, name=name, ph="s", id=i, cat="ipc"))
            ev.append({"name": name, "ph": "f", "bp": "e", "id": i, "cat": "ipc", "pid": 1,
                       "tid": e.y, "ts": us(e.tsc)})
            tids.add(e.y)
            continue
        ev.append(dict(base, name=d.describe(e), ph="i", s="t", cat=e.type,
                       args={"sub": e.sub, "a": hex(e.a), "b": hex(e.b)}))
    if running is not None and dump.events:
        ev.append({"name": "running", "ph": "X", "pid": 1, "tid": running, "ts": us(since),
                   "dur": us(dump.events[-1].tsc) - us(since)})
    for tid in sorted(tids):
        name = f"t{tid}"
        if tid in d.serves:
            name += " (serves " + ", ".join(sorted(d.serves[tid])) + ")"
        ev.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid, "args": {"name": name}})
    ev.append({"name": "process_name", "ph": "M", "pid": 1, "args": {"name": "mica"}})
    return {"traceEvents": ev, "displayTimeUnit": "ns"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="a serial log with a trace dump ('-': standard input)")
    ap.add_argument("--json", metavar="OUT", help="write Chrome trace-event JSON to OUT")
    ap.add_argument("--dump", type=int, default=-1, help="which dump, from 1 (default: the last)")
    args = ap.parse_args(argv)
    try:
        text = sys.stdin.read() if args.log == "-" else open(args.log, encoding="utf-8",
                                                             errors="replace").read()
        dumps = parse_dumps(text)
        if not dumps:
            raise TraceError("no trace dump in the log (trace begin ... trace end)")
        if args.dump != -1 and not 1 <= args.dump <= len(dumps):
            raise TraceError(f"--dump {args.dump}: the log has {len(dumps)} dump(s)")
        dump = dumps[args.dump - 1 if args.dump != -1 else -1]
        if args.json:
            with open(args.json, "w", encoding="utf-8") as f:
                json.dump(chrome(dump), f, indent=0)
            print(f"trace: {len(dump.events)} events to {args.json}")
        else:
            sys.stdout.write(timeline(dump))
    except (OSError, TraceError) as e:
        print(f"trace: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
