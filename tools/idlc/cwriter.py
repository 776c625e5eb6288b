"""Small helpers to write readable C: comments, wrapped argument lists."""

import textwrap

WIDTH = 100


def width(line):
    return len(line.expandtabs(8))


def safe(text):
    """Text that cannot end a C comment, open a nested one or form a trigraph."""
    return text.replace("*/", "* /").replace("/*", "/ *").replace("??", "? ?")


def comment(lines, indent=""):
    """A block comment holding lines (each made safe); nothing for no lines."""
    if not lines:
        return []
    out = [indent + "/*"]
    for ln in lines:
        ln = safe(ln).rstrip()
        out.append(f"{indent} * {ln}" if ln else f"{indent} *")
    out.append(indent + " */")
    return out


def one_line_comment(text, indent=""):
    return f"{indent}/* {safe(text)} */"


def wrapped(text, indent="", first="", rest=""):
    """Prose wrapped for a block comment's lines."""
    w = WIDTH - width(indent) - 3
    return textwrap.wrap(text, w, initial_indent=first, subsequent_indent=rest,
                         break_on_hyphens=False) or [""]


def call(head, args, tail, indent=""):
    """`head` + args joined by ', ' + `tail`, wrapped with continuation lines
    aligned after head (as clang-format does), e.g. a prototype or a call."""
    one = indent + head + ", ".join(args) + tail
    if width(one) <= WIDTH or not args:
        return [one]
    cont = indent + " " * len(head)
    lines, cur, fresh = [], indent + head, True
    for n, a in enumerate(args):
        piece = a + ("," if n < len(args) - 1 else tail)
        if fresh:
            cur, fresh = cur + piece, False
        elif width(cur + " " + piece) <= WIDTH:
            cur += " " + piece
        else:
            lines.append(cur)
            cur = cont + piece
    lines.append(cur)
    return lines
