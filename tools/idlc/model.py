"""What an IDL file describes: an interface, its structs and methods, and the
message layout of each method's request and reply (docs/IDL.md)."""

# The kernel's message (include/mica/ipc.h) and the IDL numbering
# (include/mica/idl.h); the generated code asserts they agree.
MSG_WORDS = 8
BUF_MAX = 4096
NUMBER_MAX = 0xFFFF
VERSION_MAX = 0xFFFFFFFF

# name: (bits, signed)
INT_TYPES = {
    "i8": (8, True), "i16": (16, True), "i32": (32, True), "i64": (64, True),
    "u8": (8, False), "u16": (16, False), "u32": (32, False), "u64": (64, False),
}
BUILTIN_TYPES = set(INT_TYPES) | {"bool", "handle", "bytes", "string"}


class Type:
    """A type as written: kind is int, bool, handle, bytes, string or struct."""

    def __init__(self, kind, pos, name, xfer=None, bound=None, bound_pos=None):
        self.kind, self.pos, self.name = kind, pos, name
        self.xfer = xfer  # handle: "copy" or "move"
        self.bound, self.bound_pos = bound, bound_pos  # bytes<N>, string<N>: N
        self.struct = None  # struct: the Struct, once resolved
        if kind == "int":
            self.bits, self.signed = INT_TYPES[name]

    def spelled(self):
        if self.kind == "handle":
            return f"handle<{self.xfer}>"
        if self.kind in ("bytes", "string"):
            return f"{self.kind}<{self.bound}>"
        return self.name

    def is_array(self):
        return self.kind in ("bytes", "string")

    def data_max(self):
        """Buffer bytes its data takes at most: a string also carries its NUL."""
        return self.bound + 1 if self.kind == "string" else self.bound


class Field:
    def __init__(self, name, type_, pos, doc):
        self.name, self.type, self.pos, self.doc = name, type_, pos, doc


class Struct:
    def __init__(self, name, pos, doc, fields):
        self.name, self.pos, self.doc, self.fields = name, pos, doc, fields

    def leaves(self, path=()):
        """Its scalar fields, depth first: (path of field names, Type)."""
        for f in self.fields:
            if f.type.kind == "struct":
                yield from f.type.struct.leaves(path + (f.name,))
            else:
                yield path + (f.name,), f.type


class Param:
    def __init__(self, name, type_, pos):
        self.name, self.type, self.pos = name, type_, pos


class Leaf:
    """One slot of a message: a scalar (or a struct's scalar field at `path`),
    or the length of a bytes or string parameter."""

    def __init__(self, slot, param, path, type_, is_len):
        self.slot, self.param, self.path, self.type, self.is_len = slot, param, path, type_, is_len

    def head_offset(self):
        """Where a slot past the message words lies in the buffer head."""
        return 8 * (self.slot - MSG_WORDS)


class Layout:
    """How one direction of a method (its in- or out-parameters) travels."""

    def __init__(self, params):
        self.params = params
        self.leaves = []
        self.arrays = [p for p in params if p.type.is_array()]
        handles = [p for p in params if p.type.kind == "handle"]
        self.handles = handles
        self.handle = handles[0] if handles else None
        for p in params:
            if p.type.kind == "struct":
                for path, t in p.type.struct.leaves():
                    self.leaves.append(Leaf(len(self.leaves), p, path, t, False))
            elif p.type.kind in ("int", "bool"):
                self.leaves.append(Leaf(len(self.leaves), p, (), p.type, False))
            elif p.type.is_array():
                self.leaves.append(Leaf(len(self.leaves), p, (), p.type, True))
        self.slots = len(self.leaves)
        self.head = 8 * max(0, self.slots - MSG_WORDS)
        self.data_max = sum(p.type.data_max() for p in self.arrays)
        self.buf_max = self.head + self.data_max

    def length_leaf(self, param):
        return next(lf for lf in self.leaves if lf.is_len and lf.param is param)


class Method:
    def __init__(self, name, pos, number, number_pos, doc, ins, outs):
        self.name, self.pos, self.doc = name, pos, doc
        self.number, self.number_pos = number, number_pos
        self.ins, self.outs = ins, outs
        self.req = self.rep = None  # Layouts, once the types are resolved


class Interface:
    def __init__(self, path, name, pos, number, number_pos, version, version_pos, doc):
        self.path, self.name, self.pos, self.doc = path, name, pos, doc
        self.number, self.number_pos = number, number_pos
        self.version, self.version_pos = version, version_pos
        self.structs = []
        self.methods = []

    def struct(self, name):
        return next((s for s in self.structs if s.name == name), None)
