#!/usr/bin/env python3
"""Pictures of the pager's memory (docs/MEMDUMP.md) as SVG.

    tools/memmap.py LOG [--out DIR]      render the dump found in a serial log
    tools/memmap.py --boot [SCENARIO]    boot scenarios/<SCENARIO> (memmap) first

It reads the `memdump ...` lines that `memview.elf dump` prints and writes
DIR/pool.svg (the physical pool as a strip coloured by owner, the buddy's
free blocks by order) and DIR/proc-<pid>.svg for each running process (its
regions and which pages are backed). DIR is build/memmap by default.
Python standard library only.
"""

import argparse
import colorsys
import sys
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
PAGE = 4096
FREE_COLOUR = "#e8e8e8"
DONATED_COLOUR = "#555555"
PAGER_COLOUR = "#c08040"


class DumpError(Exception):
    """A log without a whole dump, or a line the format does not allow."""


def parse(text):
    """The last whole dump (memdump begin .. end) in text, as a dict."""
    dump, cur = None, None
    for raw in text.splitlines():
        line = raw.strip()
        if not line.startswith("memdump "):
            continue
        w = line.split()
        kind = w[1]
        try:
            if kind == "begin":
                cur = {"version": int(w[2]), "pool": {}, "ranges": [], "orders": {},
                       "blocks": [], "procs": {}, "regions": [], "runs": []}
            elif cur is None:
                continue
            elif kind == "pool":
                cur["pool"] = {k: v for k, v in (x.split("=", 1) for x in w[2:])}
                for k in ("total", "free", "donated", "largest"):
                    cur["pool"][k] = int(cur["pool"][k])
                base, n = cur["pool"]["span"].split("+")
                cur["pool"]["span"] = (int(base, 0), int(n))
            elif kind == "range":
                cur["ranges"].append((int(w[2], 0), int(w[3])))
            elif kind == "order":
                cur["orders"][int(w[2])] = int(w[3])
            elif kind == "block":
                cur["blocks"].append((int(w[2], 0), int(w[3]), w[4]))
            elif kind == "proc":
                cur["procs"][int(w[2])] = {"pid": int(w[2]), "parent": int(w[3]), "state": w[4],
                                           "resident": int(w[5]), "nregions": int(w[6]),
                                           "name": " ".join(w[7:])}
            elif kind == "region":
                cur["regions"].append({"pid": int(w[2]), "start": int(w[3], 0),
                                       "end": int(w[4], 0), "rights": w[5], "kind": w[6],
                                       "backed": int(w[7])})
            elif kind == "run":
                cur["runs"].append((int(w[2]), int(w[3], 0), int(w[4], 0), int(w[5])))
            elif kind == "end":
                dump, cur = cur, None
            else:
                raise DumpError(f"unknown line: {line}")
        except (IndexError, ValueError, KeyError) as e:
            raise DumpError(f"bad line: {line} ({e})") from None
    if dump is None:
        raise DumpError("no whole dump (memdump begin ... memdump end) in the log")
    return dump


def owner_colours(dump):
    """A colour per process (by pid, in the dump's order), spread around the hue circle."""
    pids = list(dump["procs"])
    out = {}
    for i, pid in enumerate(pids):
        r, g, b = colorsys.hls_to_rgb((i * 0.618) % 1.0, 0.5, 0.65)
        out[pid] = "#%02x%02x%02x" % (int(r * 255), int(g * 255), int(b * 255))
    return out


def frame_owners(dump):
    """{frame: owner}: a pid, 'free' or 'donated', for every frame the dump accounts for."""
    owner = {}
    for frame, order, what in dump["blocks"]:
        for f in range(frame, frame + (1 << order)):
            owner[f] = what
    for pid, _va, frame, count in dump["runs"]:
        for f in range(frame, frame + count):
            owner.setdefault(f, pid)
    return owner


def svg(width, height, body):
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'font-family="monospace" font-size="12" shape-rendering="crispEdges">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(body) +
            "\n</svg>\n")


def rect(x, y, w, h, fill, title=None):
    t = f"<title>{escape(title)}</title>" if title else ""
    return (f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(w, 0.5):.2f}" height="{h:.2f}" '
            f'fill="{fill}">{t}</rect>')


def text(x, y, s, anchor="start"):
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}">{escape(str(s))}</text>'


LEFT = 80  # the strips' left edge: the order labels go before it


def strip(dump, owner, colours, lo, hi, y, body, left=LEFT, width=1000, height=40):
    """Frames [lo, hi) as a strip coloured by owner, free blocks by order under it; the new y."""
    scale = (width - left - 10) / (hi - lo)
    f = lo
    while f < hi:  # runs of frames with one owner, one rectangle each
        who = owner.get(f, "pager")
        g = f + 1
        while g < hi and owner.get(g, "pager") == who:
            g += 1
        body.append(rect(left + (f - lo) * scale, y, (g - f) * scale, height, fill_of(who, colours),
                         f"0x{f:x}+{g - f}: {owner_name(dump, who)}"))
        f = g
    body.append(text(left - 6, y + height / 2 + 4, "owner", "end"))
    y += height
    # The free blocks under the strip: a row per order, one mark per block.
    for order in sorted({o for f, o, w in dump["blocks"]
                         if w == "free" and f < hi and f + (1 << o) > lo}):
        y += 13
        body.append(text(left - 6, y + 8, f"order {order}", "end"))
        for frame, o, w in dump["blocks"]:
            a, b = max(frame, lo), min(frame + (1 << o), hi)
            if w == "free" and o == order and a < b:
                body.append(rect(left + (a - lo) * scale, y, (b - a) * scale, 9, "#4a90d9",
                                 f"free block 0x{frame:x} order {o}"))
    return y + 16


def packed(dump, owner, colours, lo, hi, y, body, left=LEFT, width=1000, height=40):
    """The frames of [lo, hi) in use, side by side in frame order (free ones left out, a white
    line where they were): in a large pool the frames in use are slivers of the strip."""
    used = sorted(f for f, who in owner.items() if who != "free" and lo <= f < hi)
    meta = [f for f in range(lo, hi) if f not in owner]  # the pager's: its metadata
    used = sorted(set(used) | set(meta))
    if not used:
        return y
    y += 14
    body.append(text(left, y, "the frames in use only, in frame order (a black line: free "
                              "frames left out)"))
    y += 6
    scale = (width - left - 10) / len(used)
    i = 0
    while i < len(used):
        who = owner.get(used[i], "pager")
        j = i + 1
        while j < len(used) and used[j] == used[j - 1] + 1 and owner.get(used[j], "pager") == who:
            j += 1
        body.append(rect(left + i * scale, y, (j - i) * scale, height, fill_of(who, colours),
                         f"0x{used[i]:x}+{j - i}: {owner_name(dump, who)}"))
        if j < len(used) and used[j] != used[j - 1] + 1:
            body.append(f'<line x1="{left + j * scale:.2f}" y1="{y - 3}" '
                        f'x2="{left + j * scale:.2f}" y2="{y + height + 3}" stroke="black"/>')
        i = j
    body.append(text(left - 6, y + height / 2 + 4, "in use", "end"))
    return y + height + 12


def fill_of(who, colours):
    return {"free": FREE_COLOUR, "donated": DONATED_COLOUR,
            "pager": PAGER_COLOUR}.get(who) or colours[who]


def owner_name(dump, who):
    return who if isinstance(who, str) else f"pid {who} {dump['procs'][who]['name']}"


def render_pool(dump):
    """The pool: per range a strip coloured by owner with the free blocks by order under it,
    and its frames in use packed side by side; then the free blocks per order, the legend."""
    colours = owner_colours(dump)
    owner = frame_owners(dump)
    width, left = 1000, 10
    body, y = [], 20
    p = dump["pool"]
    body.append(text(10, y, f"pool: {p['total']} frames, {p['free']} free, "
                              f"{p['donated']} donated, largest free order {p['largest']}"))
    y += 10
    for first, count in dump["ranges"]:
        end = first + count
        y += 16
        body.append(text(left, y, f"range frames 0x{first:x}-0x{end:x} ({count})"))
        y = strip(dump, owner, colours, first, end, y + 6, body)
        y = packed(dump, owner, colours, first, end, y, body)
    # Free blocks per order, as bars.
    y += 20
    body.append(text(left, y, "free blocks per order"))
    top = max(dump["orders"].values() or [1]) or 1
    for k in sorted(dump["orders"]):
        n = dump["orders"][k]
        x = left + k * 50
        h = 60 * n / top
        body.append(rect(x, y + 70 - h, 40, h, "#4a90d9", f"order {k}: {n}"))
        body.append(text(x + 20, y + 84, k, "middle"))
        body.append(text(x + 20, y + 66 - h, n, "middle"))
    y += 100
    # The legend.
    items = [("free", FREE_COLOUR), ("donated to the kernel", DONATED_COLOUR),
             ("the pager's", PAGER_COLOUR)]
    items += [(f"pid {pid} {pr['name']}", colours[pid]) for pid, pr in dump["procs"].items()]
    for i, (label, colour) in enumerate(items):
        body.append(rect(left, y + i * 16, 12, 12, colour))
        body.append(text(left + 18, y + i * 16 + 10, label))
    y += 16 * len(items) + 10
    return svg(width, y, body)


def render_proc(dump, pid):
    """One address space: a row per region (its own scale), backed pages filled."""
    pr = dump["procs"][pid]
    colour = owner_colours(dump)[pid]
    regions = [r for r in dump["regions"] if r["pid"] == pid]
    runs = [(va, count) for p, va, _f, count in dump["runs"] if p == pid]
    width, left, bar = 1000, 360, 16
    body = [text(10, 20, f"pid {pid} {pr['name']}: {len(regions)} regions, "
                         f"{pr['resident']} pages backed")]
    y = 40
    for r in regions:
        pages = (r["end"] - r["start"]) // PAGE
        scale = (width - left - 10) / pages
        body.append(text(10, y + 12, f"{r['start']:#014x}-{r['end']:#014x} {r['rights']} "
                                     f"{r['kind']:<6} {r['backed']}/{pages}"))
        body.append(f'<g class="region" data-kind="{r["kind"]}">')
        body.append(rect(left, y, pages * scale, bar, FREE_COLOUR,
                         f"{r['kind']} {r['rights']} {pages} pages"))
        for va, count in runs:
            a, b = max(va, r["start"]), min(va + count * PAGE, r["end"])
            if a < b:
                body.append(rect(left + (a - r["start"]) // PAGE * scale, y,
                                 (b - a) // PAGE * scale, bar, colour,
                                 f"backed {a:#x}+{(b - a) // PAGE}"))
        body.append("</g>")
        y += bar + 8
    return svg(width, y + 10, body)


def render(dump, out):
    """Write pool.svg and proc-<pid>.svg under out; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "pool.svg"]
    paths[0].write_text(render_pool(dump))
    for pid, pr in dump["procs"].items():
        if pr["state"] == "running":
            path = out / f"proc-{pid}.svg"
            path.write_text(render_proc(dump, pid))
            paths.append(path)
    return paths


def boot(scenario):
    """Boot the scenario (tests/system/mica.py) and return its serial log."""
    sys.path.insert(0, str(ROOT / "tests" / "system"))
    import mica
    return mica.boot_scenario(scenario, timeout=300).log


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", nargs="?", help="a serial log holding a dump")
    ap.add_argument("--boot", metavar="SCENARIO", nargs="?", const="memmap",
                    help="boot this scenario (memmap) and render its dump")
    ap.add_argument("--out", default=str(ROOT / "build" / "memmap"))
    a = ap.parse_args(argv)
    if bool(a.log) == bool(a.boot):
        ap.error("give a LOG or --boot")
    out = Path(a.out)
    if a.boot:
        log = boot(a.boot)
        out.mkdir(parents=True, exist_ok=True)
        (out / "serial.log").write_text(log)
    else:
        log = Path(a.log).read_text(errors="replace")
    try:
        dump = parse(log)
    except DumpError as e:
        print(f"memmap: {e}", file=sys.stderr)
        return 1
    for path in render(dump, out):
        print(f"memmap: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
