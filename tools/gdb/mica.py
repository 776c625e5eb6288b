"""gdb commands for debugging Mica's processes (docs/DEBUGGING.md).

Loaded by tools/gdbinit after the kernel's symbols (build/kernel.elf):

    mica ps                      the processes: pid, address space, CR3, image
    mica symbols PROGRAM         PROGRAM's symbols (build/user/PROGRAM.elf) for user code
    mica symbols                 which program's symbols are loaded
    mica break PROGRAM LOCATION  a breakpoint that stops only in PROGRAM's process
    mica finish                  run until the selected frame returns, in this process

Every user program is linked at 0x400000, so a plain breakpoint in user code
stops in whichever process runs that address. `mica break` sets an ordinary
breakpoint whose stop() compares the CPU's CR3 with the page-table root of
a process running PROGRAM, found when the breakpoint is hit: processes
started after the breakpoint was set are found too.

Where the processes come from, all read through the kernel's direct map so
that it works whichever address space the CPU is in:
- the first task (normally the pager): the kernel's first_thread (thread.c),
  its address space (struct aspace: root, id), its name from the boot-info
  page the kernel mapped in it (struct mica_bootinfo, module[0].name);
- every other process: the pager starts them all. Its list `space_first`
  (servers/pager/pager.h, struct space: name, pid, as) is read from the
  pager's memory by walking the pager's page tables; each entry's `as`
  handle is looked up in the pager's handle table (struct aspace.handles)
  to find the kernel's struct aspace, whose root is the process's CR3.
The layouts come from the DWARF of build/kernel.elf and build/user/pager.elf,
not from constants here; the only constants are read from include/mica/.
"""

import os
import re

import gdb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
USER_DIR = os.path.join(ROOT, "build", "user")
PAGE = 4096
PTE_PRESENT = 1 << 0
PTE_LARGE = 1 << 7  # PS: a 1 GiB (PDPT) or 2 MiB (PD) page
PTE_ADDR = 0x000FFFFFFFFFF000
CR3_ROOT = ~0xFFF & ((1 << 63) - 1)  # the root's frame: not the PCID bits, not bit 63
USER_TOP = 1 << 47


# ---- constants from include/mica (so a layout change there is followed) ----

def _defines():
    """The #define NAME VALUE lines of layout.h and bootinfo.h, as text."""
    out = {}
    for name in ("layout.h", "bootinfo.h"):
        path = os.path.join(ROOT, "include", "mica", name)
        try:
            with open(path) as f:
                for line in f:
                    m = re.match(r"\s*#define\s+(MICA_\w+)\s+(.*?)\s*(/\*.*)?$", line)
                    if m and "(" not in m.group(1):
                        out[m.group(1)] = m.group(2)
        except OSError:
            pass
    return out


def _const(name, defs=None, depth=0):
    """The value of the #define `name` (integers, shifts and other such defines only)."""
    defs = defs if defs is not None else _defines()
    if depth > 8 or name not in defs:
        raise gdb.GdbError(f"mica: cannot read {name} from include/mica")
    text = re.sub(r"MICA_UL\(([^)]*)\)", r"\1", defs[name])
    text = re.sub(r"\b(0x[0-9A-Fa-f]+|\d+)[uUlL]+\b", r"\1", text)
    text = re.sub(r"\bMICA_\w+\b", lambda m: str(_const(m.group(0), defs, depth + 1)), text)
    if not re.fullmatch(r"[0-9A-Fa-fx()<>|&+\-* ]+", text):
        raise gdb.GdbError(f"mica: cannot evaluate {name} = {defs[name]}")
    return int(eval(text, {"__builtins__": {}}))  # only digits and operators, checked above


_consts = {}


def const(name):
    if name not in _consts:
        _consts[name] = _const(name)
    return _consts[name]


# ---- memory: the kernel's direct map, and any address space's page tables ----

def inferior():
    return gdb.selected_inferior()


def read_phys(pa, n):
    """n bytes of physical memory at pa, through the kernel's direct map (in every CR3)."""
    return bytes(inferior().read_memory(const("MICA_DIRECT_MAP_BASE") + pa, n))


def read_u64_phys(pa):
    return int.from_bytes(read_phys(pa, 8), "little")


class Space:
    """User memory of the address space whose PML4 is at physical address root."""

    def __init__(self, root):
        self.root = root & CR3_ROOT
        self.pages = {}  # virtual page -> physical page (or None), for this object's life

    def translate(self, va):
        page = va & ~(PAGE - 1)
        if page not in self.pages:
            self.pages[page] = self._walk(page)
        pa = self.pages[page]
        return None if pa is None else pa + (va & (PAGE - 1))

    def _walk(self, va):
        table = self.root
        for level, shift in enumerate((39, 30, 21, 12)):
            e = read_u64_phys(table + ((va >> shift) & 511) * 8)
            if not e & PTE_PRESENT:
                return None
            if level in (1, 2) and e & PTE_LARGE:
                size = 1 << shift
                return (e & PTE_ADDR & ~(size - 1)) + (va & (size - 1))
            table = e & PTE_ADDR
        return table

    def read(self, va, n):
        """n bytes at va, or None if a page of them is not mapped."""
        out = b""
        while n > 0:
            chunk = min(n, PAGE - (va & (PAGE - 1)))
            pa = self.translate(va)
            if pa is None:
                return None
            out += read_phys(pa, chunk)
            va, n = va + chunk, n - chunk
        return out


def cstr(data):
    return data.split(b"\0", 1)[0].decode("utf-8", "replace") if data is not None else None


def le(data):
    return int.from_bytes(data, "little", signed=False) if data is not None else None


# ---- kernel structures (build/kernel.elf) ----

def kernel_var(name):
    sym = gdb.lookup_static_symbol(name) or gdb.lookup_global_symbol(name)
    if sym is None:
        raise gdb.GdbError(f"mica: no kernel symbol {name} (is build/kernel.elf loaded?)")
    return sym.value()


def aspace_of_handle(owner_as, h):
    """The struct aspace * that handle h of address space owner_as names, or None."""
    handles = owner_as["handles"]
    if h < 0 or h >= int(handles["cap"]):
        return None
    obj = handles["slot"][h]["obj"]
    if int(obj) == 0 or int(obj["type"]) != int(gdb.parse_and_eval("MICA_OBJ_ASPACE")):
        return None
    # struct kobj is the first member of struct aspace.
    return obj.cast(gdb.lookup_type("struct aspace").pointer())


# ---- the pager's table of processes (build/user/pager.elf) ----

_pager_layout = {}


def pager_layout():
    """Where the pager's list of processes starts (`space_first`, each `struct space`
    linked by `next`) and the offsets of the fields read, from its DWARF."""
    path = os.path.join(USER_DIR, "pager.elf")
    key = (path, os.path.getmtime(path))
    if key in _pager_layout:
        return _pager_layout[key]
    loaded = [o for o in gdb.objfiles() if o.filename and os.path.abspath(o.filename) == path]
    if not loaded:
        gdb.execute(f"add-symbol-file {path}", to_string=True)
    try:
        objfile = [o for o in gdb.objfiles() if o.filename and os.path.abspath(o.filename) == path][0]
        sym = objfile.lookup_global_symbol("space_first")
        if sym is None:
            raise gdb.GdbError("mica: pager.elf has no `space_first` list")
        entry = sym.type.strip_typedefs().target().strip_typedefs()
        fields = {f.name: f for f in entry.fields()}
        layout = {"first": int(sym.value().address)}
        for name in ("pid", "name", "as", "next"):
            f = fields.get(name)
            if f is None:
                raise gdb.GdbError(f"mica: pager.elf's struct space has no field {name}")
            layout[name] = (f.bitpos // 8, f.type.strip_typedefs().sizeof)
    finally:
        if not loaded:
            gdb.execute(f"remove-symbol-file {path}", to_string=True)
    _pager_layout.clear()
    _pager_layout[key] = layout
    return layout


# ---- the processes ----

class Process:
    def __init__(self, name, pid, aspace):
        self.name = name  # the image's name, e.g. "kv.elf"
        self.pid = pid  # the pager's pid; None for the first task
        self.aspace = aspace  # the kernel's struct aspace *
        self.root = int(aspace["root"])
        self.id = int(aspace["id"])
        self.threads = int(aspace["nthreads"])

    @property
    def program(self):
        return program_name(self.name)


def program_name(name):
    return name[:-4] if name.endswith(".elf") else name


def processes():
    """The processes now: the first task, then every process in the pager's table."""
    first = kernel_var("first_thread")
    if int(first) == 0 or int(first["as"]) == 0:
        return []
    first_as = first["as"]
    first_space = Space(int(first_as["root"]))
    bi = gdb.lookup_type("struct mica_bootinfo")
    mods = bi.fields()
    mod_off = [f for f in mods if f.name == "module"][0].bitpos // 8
    name_field = [f for f in mods if f.name == "module"][0].type.target().strip_typedefs()
    name_off = [f for f in name_field.fields() if f.name == "name"][0].bitpos // 8
    name = cstr(first_space.read(const("MICA_BOOTINFO_ADDR") + mod_off + name_off,
                                 const("MICA_BOOTINFO_NAME_MAX"))) or "first-task"
    out = [Process(name, None, first_as)]
    if program_name(name) != "pager":
        return out  # a test program as the first task: it starts no processes
    lay = pager_layout()
    at = first_space.read(lay["first"], 8)
    base = int.from_bytes(at, "little") if at else 0
    seen = set()
    while base and base not in seen and len(seen) < 100000:
        seen.add(base)

        def field(fname):
            off, size = lay[fname]
            return first_space.read(base + off, size)

        h, nxt, name, pid = field("as"), field("next"), field("name"), field("pid")
        base = int.from_bytes(nxt, "little") if nxt else 0
        if h is None:
            continue
        h = int.from_bytes(h, "little", signed=True)
        if h < 0:
            continue  # ended, not waited for: no address space
        aspace = aspace_of_handle(first_as, h)
        if aspace is None or int(aspace) == int(first_as):
            continue
        out.append(Process(cstr(name), le(pid), aspace))
    return out


def current_root():
    return int(gdb.parse_and_eval("$cr3")) & CR3_ROOT


def find(program):
    """The processes running build/user/<program>.elf."""
    want = program_name(program)
    return [p for p in processes() if p.program == want]


# ---- user symbols: one program's at a time (they all start at 0x400000) ----

_user_symbols = [None]  # the program whose symbols are loaded by `mica symbols`


def elf_path(program):
    path = os.path.join(USER_DIR, program_name(program) + ".elf")
    if not os.path.exists(path):
        raise gdb.GdbError(f"mica: no {path} (make builds it)")
    return path


def load_symbols(program):
    """Make build/user/<program>.elf the user program whose symbols gdb uses."""
    program = program_name(program)
    if _user_symbols[0] == program:
        return False
    path = elf_path(program)
    if _user_symbols[0]:
        gdb.execute(f"remove-symbol-file {elf_path(_user_symbols[0])}", to_string=True)
        _user_symbols[0] = None
    gdb.execute(f"add-symbol-file {path}", to_string=True)
    _user_symbols[0] = program
    return True


def location_pcs(location):
    """The addresses gdb resolves location to, with the loaded user symbols: those in user
    code if any (a runtime function such as memcpy is in the kernel too), else the kernel's
    (the kernel runs on the CR3 of the process it works for: a system call's handler)."""
    if location.startswith("*"):
        return [int(gdb.parse_and_eval(location[1:]))]
    _, sals = gdb.decode_line(location)
    pcs = {s.pc for s in (sals or ()) if s.pc}
    user = {pc for pc in pcs if pc < USER_TOP}
    return sorted(user or pcs)


class ProcessBreakpoint(gdb.Breakpoint):
    """A breakpoint at a user address that stops only when CR3 is PROGRAM's process's."""

    def __init__(self, program, location, pc, temporary=False, above_sp=None, cond=None):
        super().__init__(f"*0x{pc:x}", internal=False, temporary=temporary)
        self.program = program_name(program)
        self.where = location
        self.cond = cond  # `if EXPR`: gdb's own condition cannot go with a stop() method
        self.above_sp = above_sp  # mica finish: stop only once the stack is above this
        self.skipped = 0  # hits in other processes, passed over
        self.unmapped = 0  # hits in its process before the page was mapped (it comes back)
        self.deeper = 0  # mica finish: hits by deeper calls, passed over

    def stop(self):
        cr3 = current_root()
        try:
            mine = [p for p in processes() if p.program == self.program]
        except gdb.MemoryError:
            # The kernel's structures are not mapped: before the kernel's paging (the
            # firmware or GRUB at this address), not in any process.
            self.skipped += 1
            return False
        except (gdb.error, gdb.GdbError) as e:
            print(f"mica: cannot read the process table ({e}); stopping")
            return True
        if any(p.root & CR3_ROOT == cr3 for p in mine):
            if self.above_sp is not None and int(gdb.parse_and_eval("$sp")) <= self.above_sp:
                self.deeper += 1  # a deeper call of the same function returning
                return False
            pc = int(gdb.parse_and_eval("$pc"))
            if Space(cr3).translate(pc) is None:
                # Its page is not mapped yet: the fetch faults, the pager maps it
                # and the CPU comes back here. Stop then, not twice.
                self.unmapped += 1
                return False
            if _user_symbols[0] != self.program:
                load_symbols(self.program)
            if self.cond:
                try:
                    if not bool(gdb.parse_and_eval(self.cond)):
                        return False
                except gdb.error as e:
                    print(f"mica: condition {self.cond}: {e}; stopping")
            print(f"mica: stop in {self.program} (cr3 0x{cr3:x}) at {self.where}; "
                  f"{self.skipped} hits in other processes passed over so far")
            return True
        self.skipped += 1
        return False


# ---- the commands ----

class MicaPrefix(gdb.Command):
    """Mica's processes: mica ps, mica symbols PROGRAM, mica break PROGRAM LOCATION."""

    def __init__(self):
        super().__init__("mica", gdb.COMMAND_USER, prefix=True)


class MicaPs(gdb.Command):
    """List the processes: pid (the pager's), address space id, CR3 (the page-table
root), threads, image. '*' marks the one the CPU is in."""

    def __init__(self):
        super().__init__("mica ps", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        if gdb.selected_thread() is None:
            raise gdb.GdbError("mica: no target: attach to QEMU first (make debug; "
                               "gdb -x tools/gdbinit)")
        try:
            procs = processes()
        except gdb.MemoryError as e:
            raise gdb.GdbError(f"mica: cannot read the kernel's structures yet ({e})")
        if not procs:
            print("mica: no processes yet (the kernel has not started the first task)")
            return
        cr3 = current_root()
        print(f"  {'pid':>6} {'as':>4} {'cr3':>12} {'threads':>7}  image")
        for p in procs:
            mark = "*" if p.root & CR3_ROOT == cr3 else " "
            pid = "first" if p.pid is None else f"0x{p.pid:x}"
            print(f"{mark} {pid:>6} {p.id:>4} {p.root:#12x} {p.threads:>7}  {p.name}")


class MicaSymbols(gdb.Command):
    """mica symbols PROGRAM: use build/user/PROGRAM.elf's symbols for user code
(replacing the program loaded before: they all start at 0x400000).
mica symbols: say which program's symbols are loaded."""

    def __init__(self):
        super().__init__("mica symbols", gdb.COMMAND_USER)

    def invoke(self, arg, from_tty):
        arg = arg.strip()
        if not arg:
            print(f"mica: user symbols: {_user_symbols[0] or 'none'}")
            return
        load_symbols(arg)
        print(f"mica: user symbols: {elf_path(arg)}")


class MicaBreak(gdb.Command):
    """mica break PROGRAM LOCATION [if EXPR]: a breakpoint at LOCATION (a function,
FILE:LINE or *ADDRESS, in build/user/PROGRAM.elf) that stops only in a process running
PROGRAM, including one started later, and if EXPR is true there. Loads PROGRAM's
symbols (mica symbols)."""

    def __init__(self):
        super().__init__("mica break", gdb.COMMAND_BREAKPOINTS)

    def invoke(self, arg, from_tty):
        words = arg.split(None, 1)
        if len(words) != 2:
            raise gdb.GdbError("usage: mica break PROGRAM LOCATION [if EXPR]")
        program, location = words[0], words[1].strip()
        cond = None
        m = re.match(r"(.*?)\s+if\s+(.*)$", location)
        if m:
            location, cond = m[1], m[2]
        load_symbols(program)
        try:
            pcs = location_pcs(location)
        except gdb.error as e:
            raise gdb.GdbError(f"mica: {location} in {program}: {e}")
        if not pcs:
            raise gdb.GdbError(f"mica: no code at {location} in {program}")
        for pc in pcs:
            b = ProcessBreakpoint(program, location, pc, cond=cond)
            print(f"mica: breakpoint {b.number} at 0x{pc:x} ({location}), only in {program}"
                  + (f", if {cond}" if cond else ""))


def current_process():
    """The process the CPU is in, or None (the kernel's own threads, or before paging)."""
    cr3 = current_root()
    for p in processes():
        if p.root & CR3_ROOT == cr3:
            return p
    return None


class MicaFinish(gdb.Command):
    """mica finish: run until the selected frame returns to its caller in this process,
as `finish` does, but passing over other processes that run the caller's address."""

    def __init__(self):
        super().__init__("mica finish", gdb.COMMAND_RUNNING)

    def invoke(self, arg, from_tty):
        if gdb.selected_thread() is None:
            raise gdb.GdbError("mica: no target: attach to QEMU first")
        proc = current_process()
        if proc is None:
            raise gdb.GdbError("mica: the CPU is in no process (mica ps)")
        frame = gdb.selected_frame()
        caller = frame.older()
        if caller is None or caller.pc() == 0:
            raise gdb.GdbError("mica: the selected frame has no caller")
        sp = int(frame.read_register("sp"))
        b = ProcessBreakpoint(proc.program, "the return", caller.pc(), temporary=True,
                              above_sp=sp)
        print(f"mica: run until {frame.name() or '??'} returns to 0x{caller.pc():x} "
              f"in {proc.program}")
        try:
            gdb.execute("continue", from_tty)
        finally:
            if b.is_valid():  # not hit (the run was interrupted): not left behind
                b.delete()


MicaPrefix()
MicaPs()
MicaSymbols()
MicaBreak()
MicaFinish()
