"""The parser: tokens to an Interface (model.py). Grammar (docs/IDL.md):

    file      = docs "interface" NAME NUM "version" NUM "{" member* "}" EOF
    member    = docs ( struct | method )
    struct    = "struct" NAME "{" ( docs type NAME ";" )+ "}"
    method    = "method" NAME NUM "(" params ")" [ "->" "(" params ")" ] ";"
    params    = [ type NAME ( "," type NAME )* ]
    type      = NAME | "handle" "<" ( "copy" | "move" ) ">"
              | ( "bytes" | "string" ) "<" NUM ">"
    docs      = DOC*

The first error stops the parse; the checks (check.py) come afterwards.
"""

from diag import IdlError
from model import INT_TYPES, Field, Interface, Method, Param, Struct, Type


class Parser:
    def __init__(self, path, tokens):
        self.path, self.tokens, self.i = path, tokens, 0

    def peek(self):
        return self.tokens[self.i]

    def next(self):
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def fail(self, tok, wanted):
        raise IdlError(tok.pos, f"expected {wanted}, found {tok.describe()}")

    def expect(self, kind, value=None, wanted=None):
        tok = self.peek()
        if tok.kind != kind or (value is not None and tok.value != value):
            if wanted is None:
                wanted = f"'{value}'" if value is not None else {"name": "a name",
                                                                 "num": "a number"}[kind]
            self.fail(tok, wanted)
        return self.next()

    def at(self, kind, value=None):
        tok = self.peek()
        return tok.kind == kind and (value is None or tok.value == value)

    def docs(self):
        lines = []
        while self.at("doc"):
            lines.append(self.next().value)
        return lines

    def misplaced_doc(self, tok, where):
        raise IdlError(tok.pos, "a /// comment must come before an interface, struct, field or "
                       f"method, not {where}")

    def no_docs(self, where):
        if self.at("doc"):
            self.misplaced_doc(self.peek(), where)

    def parse(self):
        doc = self.docs()
        self.expect("name", "interface")
        name = self.expect("name")
        num = self.expect("num", wanted="the interface number")
        self.expect("name", "version")
        ver = self.expect("num", wanted="the version number")
        iface = Interface(self.path, name.value, name.pos, num.value, num.pos, ver.value, ver.pos,
                          doc)
        self.expect("punct", "{")
        while True:
            start = self.peek()
            doc = self.docs()
            if self.at("punct", "}"):
                if doc:
                    self.misplaced_doc(start, "before '}'")
                break
            if self.at("name", "struct"):
                iface.structs.append(self.struct(doc))
            elif self.at("name", "method"):
                iface.methods.append(self.method(doc))
            else:
                self.fail(self.peek(), "'struct', 'method' or '}'")
        self.next()
        self.no_docs("at the end of the file")
        self.expect("eof", wanted="end of file")
        return iface

    def struct(self, doc):
        self.next()
        name = self.expect("name", wanted="the struct's name")
        self.expect("punct", "{")
        fields = []
        while True:
            start = self.peek()
            fdoc = self.docs()
            if self.at("punct", "}"):
                if fdoc:
                    self.misplaced_doc(start, "before '}'")
                if not fields:
                    raise IdlError(name.pos, f"struct '{name.value}' has no fields")
                break
            t = self.type()
            fname = self.expect("name", wanted="the field's name")
            self.expect("punct", ";")
            fields.append(Field(fname.value, t, fname.pos, fdoc))
        self.next()
        return Struct(name.value, name.pos, doc, fields)

    def method(self, doc):
        self.next()
        name = self.expect("name", wanted="the method's name")
        num = self.expect("num", wanted="the method number")
        ins = self.params()
        outs = []
        if self.at("punct", "->"):
            self.next()
            outs = self.params()
        self.expect("punct", ";")
        return Method(name.value, name.pos, num.value, num.pos, doc, ins, outs)

    def params(self):
        self.expect("punct", "(")
        params = []
        if self.at("punct", ")"):
            self.next()
            return params
        while True:
            self.no_docs("inside a parameter list")
            t = self.type()
            name = self.expect("name", wanted="the parameter's name")
            params.append(Param(name.value, t, name.pos))
            if self.at("punct", ","):
                self.next()
                continue
            self.expect("punct", ")", wanted="',' or ')'")
            return params

    def type(self):
        tok = self.peek()
        if tok.kind != "name":
            self.fail(tok, "a type")
        self.next()
        if tok.value in INT_TYPES:
            return Type("int", tok.pos, tok.value)
        if tok.value == "bool":
            return Type("bool", tok.pos, "bool")
        if tok.value == "handle":
            self.expect("punct", "<")
            x = self.peek()
            if not (x.kind == "name" and x.value in ("copy", "move")):
                self.fail(x, "'copy' or 'move'")
            self.next()
            self.expect("punct", ">")
            return Type("handle", tok.pos, "handle", xfer=x.value)
        if tok.value in ("bytes", "string"):
            self.expect("punct", "<")
            n = self.expect("num", wanted="the bound (a number)")
            self.expect("punct", ">")
            return Type(tok.value, tok.pos, tok.value, bound=n.value, bound_pos=n.pos)
        return Type("struct", tok.pos, tok.value)


def parse(path, tokens):
    return Parser(path, tokens).parse()
