"""The C names of what an interface generates (docs/IDL.md, "What is generated").

Everything global starts with the interface's name: `echo_ping()`,
`struct echo_point`, `ECHO_LABEL_PING`. globals_of lists them all so that
clashes are found before the C compiler meets them.
"""


def up(name):
    return name.upper()


def struct_tag(iface, s):
    return f"{iface.name}_{s.name}"


def func(iface, m):
    return f"{iface.name}_{m.name}"


def ops_tag(iface):
    return f"{iface.name}_ops"


def dispatch(iface):
    return f"{iface.name}_dispatch"


def dispatch_any(iface):
    return f"{iface.name}_dispatch_any"


def server_init(iface):
    return f"{iface.name}_server_init"


def number_macro(iface):
    return f"{up(iface.name)}_NUMBER"


def version_macro(iface):
    return f"{up(iface.name)}_VERSION"


def label_macro(iface, m):
    return f"{up(iface.name)}_LABEL_{up(m.name)}"


def req_max_macro(iface):
    return f"{up(iface.name)}_REQ_MAX"


def layout_macro(iface, m, direction, what):
    """direction: REQ or REP; what: SLOTS, HEAD or BUF_MAX."""
    return f"{up(iface.name)}_{up(m.name)}_{direction}_{what}"


def bound_macro(iface, m, p):
    return f"{up(iface.name)}_{up(m.name)}_{up(p.name)}_MAX"


def guard(iface, part):
    return f"IDL_{up(iface.name)}_{up(part)}_H"


def globals_of(iface):
    """((namespace, C name), position, what it is for) of each global name."""
    out = [
        (("id", number_macro(iface)), iface.pos, f"interface '{iface.name}'"),
        (("id", version_macro(iface)), iface.pos, f"interface '{iface.name}'"),
        (("tag", ops_tag(iface)), iface.pos, f"interface '{iface.name}' (its handlers)"),
        (("id", dispatch(iface)), iface.pos, f"interface '{iface.name}' (its dispatch)"),
        (("id", dispatch_any(iface)), iface.pos, f"interface '{iface.name}' (its dispatch)"),
        (("id", server_init(iface)), iface.pos, f"interface '{iface.name}' (its server)"),
    ]
    for part in ("types", "client", "server"):
        out.append((("id", guard(iface, part)), iface.pos, f"interface '{iface.name}'"))
    for s in iface.structs:
        out.append((("tag", struct_tag(iface, s)), s.pos, f"struct '{s.name}'"))
    for m in iface.methods:
        what = f"method '{m.name}'"
        out.append((("id", func(iface, m)), m.pos, what))
        out.append((("id", label_macro(iface, m)), m.pos, what))
        for d in ("REQ", "REP"):
            for w in ("SLOTS", "HEAD", "BUF_MAX"):
                out.append((("id", layout_macro(iface, m, d, w)), m.pos, what))
        for p in m.ins + m.outs:
            if p.type.is_array():
                out.append((("id", bound_macro(iface, m, p)), p.pos,
                            f"parameter '{p.name}' of method '{m.name}'"))
    return out


INT_C = {
    "i8": "int8_t", "i16": "int16_t", "i32": "int32_t", "i64": "int64_t",
    "u8": "uint8_t", "u16": "uint16_t", "u32": "uint32_t", "u64": "uint64_t",
}


def c_type(iface, t):
    """The C type of a scalar or struct Type."""
    if t.kind == "int":
        return INT_C[t.name]
    if t.kind == "bool":
        return "bool"
    if t.kind == "handle":
        return "mica_handle_t"
    if t.kind == "struct":
        return f"struct {iface.name}_{t.struct.name}"
    raise ValueError(t.kind)
