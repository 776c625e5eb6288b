#!/usr/bin/python3
"""Named scenarios (docs/SCENARIOS.md): scenarios/<name> says what one boot of
Mica is, its GRUB modules, init's manifest, the kernel command line and the
memory size, in one small file. `make run SCENARIO=<name>` boots it, the
system tests boot it (tests/system/mica.py, boot_scenario) and `make
test-inside` boots each one marked `test`.

  tools/scenario.py mk NAME       write build/scenarios/NAME.mk (and NAME's
                                  inline manifest) for the Makefile; print its path
  tools/scenario.py show NAME     print what NAME boots
  tools/scenario.py list          the scenarios, one a line ("test" after those marked so)

Standard library only; a bad scenario is refused with file:line: why, exit 2.
"""

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIR = ROOT / "scenarios"
BUILD = ROOT / "build"
USER = "build/user"  # where a module given by its bare name is built
NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*")
MEM_RE = re.compile(r"[1-9][0-9]*[MG]")
MEM_DEFAULT = "128M"
ENTRY_WORDS = ("server", "program")  # init's manifest lines (servers/init/README.md)


class Refused(Exception):
    pass


@dataclass
class Scenario:
    name: str
    mem: str = MEM_DEFAULT
    cmdline: str = ""
    test: bool = False
    modules: list = field(default_factory=list)  # paths relative to ROOT, in boot order
    manifests: list = field(default_factory=list)  # manifest files named by `manifest`
    inline: list = field(default_factory=list)  # manifest lines written in the scenario

    def inline_manifest(self):
        """The path of the manifest made from the inline lines (build/scenarios/<name>/manifest)."""
        return BUILD / "scenarios" / self.name / "manifest"


def module_path(word):
    """A module word: a bare file name is a program of build/user/, a path is from the root."""
    return word if "/" in word else f"{USER}/{word}"


def entries(lines):
    """The module each manifest entry starts (`server X.elf ...`, `program X.elf ...`)."""
    out = []
    for ln in lines:
        words = ln.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] in ENTRY_WORDS:
            out.append(words[1])
    return out


def parse(name, text=None):
    """The scenario scenarios/<name> (or text), with its module list complete."""
    if not NAME_RE.fullmatch(name or ""):
        raise Refused(f'bad scenario name "{name}": use [a-z0-9][a-z0-9_-]*')
    path = DIR / name
    if text is None:
        if not path.is_file():
            have = " ".join(list_names()) or "none"
            raise Refused(f'no scenario "{name}" (scenarios/{name}); there are: {have}')
        text = path.read_text()
    s = Scenario(name)
    explicit = []
    seen = set()
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line.startswith(ENTRY_WORDS):  # init's own lines go to it as they are
            line = line.split("#", 1)[0].strip()
        if not line:
            continue
        word, _, rest = line.partition(" ")
        rest = rest.strip()

        def bad(why):
            return Refused(f"scenarios/{name}:{n}: {why}")

        if word in seen and word in ("mem", "cmdline", "test"):
            raise bad(f"{word} given twice")
        seen.add(word)
        if word == "mem":
            if not MEM_RE.fullmatch(rest):
                raise bad(f'mem "{rest}": a size such as 128M or 5G')
            s.mem = rest
        elif word == "cmdline":
            s.cmdline = rest
        elif word == "test":
            if rest:
                raise bad("test takes nothing after it")
            s.test = True
        elif word == "module":
            if not rest or " " in rest:
                raise bad("module takes one file: a name in build/user/ or a path")
            explicit.append(module_path(rest))
        elif word == "manifest":
            if not rest or " " in rest or not (ROOT / rest).is_file():
                raise bad(f'manifest "{rest}": no such file')
            s.manifests.append(rest)
        elif word in ENTRY_WORDS:
            if len(line.split()) < 2:
                raise bad(f"{word} needs a module")
            s.inline.append(line)
        else:
            raise bad(f'unknown word "{word}" (mem, cmdline, test, module, manifest, server, '
                      f'program)')
    if s.inline and any(Path(m).name == "manifest" for m in s.manifests):
        raise Refused(f"scenarios/{name}: inline manifest lines and a manifest file named "
                      f"`manifest`: init would read only one")
    # The boot order: the explicit modules (the first is the first task), the manifests,
    # then every program a manifest starts that is not there yet.
    mods = explicit + list(s.manifests)
    if s.inline:
        mods.append(str(s.inline_manifest().relative_to(ROOT)))
    names = {Path(m).name for m in mods}
    for f in s.manifests:
        for mod in entries((ROOT / f).read_text().splitlines()):
            if mod not in names:
                mods.append(module_path(mod))
                names.add(mod)
    for mod in entries(s.inline):
        if mod not in names:
            mods.append(module_path(mod))
            names.add(mod)
    if not mods:
        raise Refused(f"scenarios/{name}: no modules (the first is the first task)")
    s.modules = mods
    return s


def write_inline(s):
    """Write s's inline manifest (only when it changed, so nothing rebuilds for nothing)."""
    if not s.inline:
        return
    p = s.inline_manifest()
    text = (f"# Written by tools/scenario.py from scenarios/{s.name}: edit that.\n"
            + "".join(ln + "\n" for ln in s.inline))
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists() or p.read_text() != text:
        p.write_text(text)


def list_names():
    if not DIR.is_dir():
        return []
    return sorted(p.name for p in DIR.iterdir() if p.is_file() and NAME_RE.fullmatch(p.name))


def make_fragment(s):
    """The Makefile's view of s: SCENARIO_MODULES, SCENARIO_CMDLINE, SCENARIO_MEM."""
    esc = s.cmdline.replace("$", "$$")
    return (f"# Written by tools/scenario.py from scenarios/{s.name}: edit that.\n"
            f"SCENARIO_MODULES := {' '.join(s.modules)}\n"
            f"SCENARIO_CMDLINE := {esc}\n"
            f"SCENARIO_MEM := {s.mem}\n"
            f"SCENARIO_FILE := scenarios/{s.name}\n")


def main(argv):
    args = argv[1:]
    try:
        if len(args) == 2 and args[0] == "mk":
            s = parse(args[1])
            write_inline(s)
            out = BUILD / "scenarios" / f"{s.name}.mk"
            out.parent.mkdir(parents=True, exist_ok=True)
            text = make_fragment(s)
            if not out.exists() or out.read_text() != text:
                out.write_text(text)
            print(out.relative_to(ROOT))
            return 0
        if len(args) == 2 and args[0] == "show":
            s = parse(args[1])
            print(f"scenario {s.name}: mem {s.mem}, cmdline \"{s.cmdline}\""
                  f"{', test' if s.test else ''}")
            for m in s.modules:
                print(f"  module {m}")
            for ln in s.inline:
                print(f"  manifest: {ln}")
            return 0
        if args == ["list"]:
            for n in list_names():
                print(n + (" test" if parse(n).test else ""))
            return 0
    except Refused as e:
        print(f"scenario: {e}", file=sys.stderr)
        return 2
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
