"""The checks: names, numbers, types, bounds and message sizes of an Interface,
and of several interfaces compiled together. Every problem found becomes an
IdlError; all of them are reported, in source order."""

import os

import cnames
from diag import IdlError, IdlErrors
from model import BUF_MAX, BUILTIN_TYPES, MSG_WORDS, NUMBER_MAX, VERSION_MAX, Layout

C_KEYWORDS = set("""
    auto break case char const continue default do double else enum extern float for goto if
    inline int long register restrict return short signed sizeof static struct switch typedef
    union unsigned void volatile while asm typeof bool true false NULL offsetof alignof
""".split())

# Slots one message can hold: the words, then the whole buffer.
MAX_SLOTS = MSG_WORDS + BUF_MAX // 8

# How deep structs may nest ("small structs").
MAX_DEPTH = 8

# Names the generated functions use for their own parameters.
RESERVED_PARAMS = {"ep", "ctx", "badge", "ops", "req", "rep"}
RESERVED_PREFIXES = ("idl_", "ipc_", "mica_")


class Checker:
    def __init__(self, iface):
        self.iface = iface
        self.errors = []

    def error(self, pos, message):
        self.errors.append(IdlError(pos, message))

    def name_ok(self, name, pos, what):
        """Is name usable in C as a `what`? Reports why not."""
        if not (name[0].isascii() and name[0].islower()) or any(
                not (c.isascii() and (c.islower() or c.isdigit() or c == "_")) for c in name):
            self.error(pos, f"{what} name '{name}' must be lower case: a letter, then letters, "
                            f"digits or '_'")
        elif name in C_KEYWORDS or name.endswith("_t") or "__" in name:
            self.error(pos, f"{what} name '{name}' is reserved in C")
        elif name.startswith(RESERVED_PREFIXES) or name + "_" in RESERVED_PREFIXES:
            self.error(pos, f"{what} name '{name}' is reserved (prefixes "
                            f"{', '.join(RESERVED_PREFIXES)} belong to the generated code "
                            f"and libipc)")
        else:
            return True
        return False

    def run(self):
        i = self.iface
        if self.name_ok(i.name, i.pos, "interface"):
            stem = os.path.splitext(os.path.basename(i.path))[0]
            if stem != i.name:
                self.error(i.pos, f"interface '{i.name}' must be in a file named '{i.name}.idl'")
        if not 1 <= i.number <= NUMBER_MAX:
            self.error(i.number_pos, f"interface number {i.number} out of range 1..{NUMBER_MAX}")
        if not 0 <= i.version <= VERSION_MAX:
            self.error(i.version_pos, f"version {i.version} out of range 0..{VERSION_MAX}")
        self.structs()
        self.methods()
        if not i.methods:
            self.error(i.pos, f"interface '{i.name}' has no methods")
        return self.errors

    def structs(self):
        seen = {}
        for s in self.iface.structs:
            fresh = False
            if s.name in BUILTIN_TYPES:
                self.error(s.pos, f"struct name '{s.name}' is a built-in type")
            elif self.name_ok(s.name, s.pos, "struct"):
                if s.name in seen:
                    self.error(s.pos, f"struct '{s.name}' is already declared "
                                      f"(line {seen[s.name].pos.line})")
                else:
                    fresh = True
            fields = {}
            for f in s.fields:
                if self.name_ok(f.name, f.pos, "field"):
                    if f.name in fields:
                        self.error(f.pos, f"field '{f.name}' is already declared in struct "
                                          f"'{s.name}' (line {fields[f.name].pos.line})")
                    fields[f.name] = f
                t = f.type
                if t.kind in ("handle", "bytes", "string"):
                    self.error(t.pos, f"a struct field cannot be {t.spelled()}: handles, bytes "
                                      f"and strings are method parameters only")
                    s.broken = True
                elif t.kind == "struct":
                    if not self.resolve(t, seen, s):
                        s.broken = True
                    elif getattr(t.struct, "broken", False):
                        s.broken = True
            if not getattr(s, "broken", False):
                # Counted, not listed: nesting could multiply the fields.
                s.nleaves = sum(f.type.struct.nleaves if f.type.kind == "struct" else 1
                                for f in s.fields)
                s.depth = 1 + max((f.type.struct.depth for f in s.fields
                                   if f.type.kind == "struct"), default=0)
                if s.nleaves > MAX_SLOTS:
                    self.error(s.pos, f"struct '{s.name}' has {s.nleaves} scalar fields; a "
                                      f"message holds at most {MAX_SLOTS}")
                    s.broken = True
                elif s.depth > MAX_DEPTH:
                    self.error(s.pos, f"struct '{s.name}' nests {s.depth} structs deep; at "
                                      f"most {MAX_DEPTH}")
                    s.broken = True
            if fresh:
                seen[s.name] = s  # usable from the next declaration on

    def resolve(self, t, declared, inside=None):
        """Find the struct t names among those declared so far."""
        if t.name in declared:
            t.struct = declared[t.name]
            return True
        if inside is not None and t.name == inside.name:
            self.error(t.pos, f"struct '{t.name}' cannot contain itself")
        elif self.iface.struct(t.name):
            self.error(t.pos, f"struct '{t.name}' is used before it is declared")
        else:
            self.error(t.pos, f"unknown type '{t.name}'")
        return False

    def methods(self):
        names, numbers = {}, {}
        declared = {s.name: s for s in self.iface.structs}
        for m in self.iface.methods:
            if self.name_ok(m.name, m.pos, "method"):
                if m.name in names:
                    self.error(m.pos, f"method '{m.name}' is already declared "
                                      f"(line {names[m.name].pos.line})")
                else:
                    names[m.name] = m
            if not 1 <= m.number <= NUMBER_MAX:
                self.error(m.number_pos, f"method number {m.number} out of range 1..{NUMBER_MAX}")
            elif m.number in numbers:
                self.error(m.number_pos, f"method number {m.number} is already used by "
                                         f"'{numbers[m.number].name}' "
                                         f"(line {numbers[m.number].pos.line})")
            else:
                numbers[m.number] = m
            self.params(m)
            ok = all(self.param_type(p.type, declared) for p in m.ins + m.outs)
            ok = self.handles(m, m.ins, "request") and ok
            ok = self.handles(m, m.outs, "reply") and ok
            if ok:
                m.req, m.rep = Layout(m.ins), Layout(m.outs)
                self.size(m, m.req, "request")
                self.size(m, m.rep, "reply")

    def params(self, m):
        """Parameter names, and the C names generated beside them, are distinct."""
        taken = {}
        for p in m.ins + m.outs:
            if not self.name_ok(p.name, p.pos, "parameter"):
                continue
            if p.name in RESERVED_PARAMS:
                self.error(p.pos, f"parameter name '{p.name}' is reserved (the generated "
                                  f"functions use {', '.join(sorted(RESERVED_PARAMS))})")
                continue
            mine = [(p.name, f"parameter '{p.name}'")]
            if p.type.is_array():
                mine.append((p.name + "_len", f"the length of '{p.name}' ({p.name}_len)"))
            for cname, what in mine:
                if cname in taken:
                    self.error(p.pos, f"{what} clashes with {taken[cname]} in method "
                                      f"'{m.name}'")
                else:
                    taken[cname] = what

    def param_type(self, t, declared):
        if t.kind == "struct":
            if t.name in declared:
                t.struct = declared[t.name]
                return not getattr(t.struct, "broken", False)
            self.error(t.pos, f"unknown type '{t.name}'")
            return False
        if t.is_array():
            most = BUF_MAX - 1 if t.kind == "string" else BUF_MAX
            if not 1 <= t.bound <= most:
                extra = " (its NUL travels too)" if t.kind == "string" else ""
                self.error(t.bound_pos, f"{t.kind} bound {t.bound} out of range 1..{most}{extra}")
                return False
        return True

    def handles(self, m, params, what):
        hs = [p for p in params if p.type.kind == "handle"]
        if len(hs) > 1:
            self.error(hs[1].type.pos, f"method '{m.name}' passes {len(hs)} handles in its {what}; "
                                  f"a message carries at most one")
            return False
        return True

    def size(self, m, layout, what):
        if layout.buf_max > BUF_MAX:
            self.error(m.pos, f"the {what} of method '{m.name}' is too large: {layout.slots} "
                              f"slots and {layout.data_max} bytes of data need up to "
                              f"{layout.buf_max} buffer bytes beyond the {MSG_WORDS} words; "
                              f"a message carries {BUF_MAX}")


def check(iface):
    """Check one interface; returns its IdlErrors (empty if it is sound)."""
    return Checker(iface).run()


def check_all(ifaces):
    """Interfaces compiled together: distinct numbers, names and generated C names."""
    errors = []
    numbers, names, cids = {}, {}, {}
    for i in ifaces:
        if i.number in numbers:
            o = numbers[i.number]
            errors.append(IdlError(i.number_pos, f"interface number {i.number} is already used "
                                                 f"by '{o.name}' ({o.pos})"))
        else:
            numbers[i.number] = i
        if i.name in names:
            errors.append(IdlError(i.pos, f"interface '{i.name}' is already declared "
                                          f"({names[i.name].pos})"))
            continue
        names[i.name] = i
        clashed = set()  # one diagnostic per pair of declarations
        for key, pos, what in cnames.globals_of(i):
            if key in cids and (pos.key(), what, cids[key]) not in clashed:
                clashed.add((pos.key(), what, cids[key]))
                other, opos = cids[key]
                where = f"line {opos.line}" if opos.file == pos.file else str(opos)
                errors.append(IdlError(pos, f"the generated name {key[1]} of {what} clashes with "
                                            f"the one of {other} ({where})"))
            elif key not in cids:
                cids[key] = (what, pos)
    return errors


def raise_if(errors):
    if errors:
        raise IdlErrors(errors)
