"""The lexer: IDL source text to tokens.

Tokens are names, numbers (decimal, or hex with 0x), the punctuation
`{ } ( ) < > ; , ->`, and doc comments (`///` lines, kept: they are carried
into the generated headers). `//` comments and white space are skipped.
"""

from diag import IdlError, Pos

PUNCT = set("{}()<>;,")


class Token:
    __slots__ = ("kind", "value", "pos")

    def __init__(self, kind, value, pos):
        self.kind, self.value, self.pos = kind, value, pos  # kind: name num punct doc eof

    def describe(self):
        if self.kind == "eof":
            return "end of file"
        if self.kind == "doc":
            return "a /// comment"
        if self.kind == "num":
            return f"number {self.value}"
        return f"'{self.value}'"


def _number(text, pos):
    # Every number idlc takes fits 64 bits: refuse long ones before int() does the work.
    if len(text) > 24:
        raise IdlError(pos, f"number too large: '{text[:24]}...'")
    if text.lower().startswith("0x"):
        digits = text[2:]
        if digits and all(c in "0123456789abcdefABCDEF" for c in digits):
            return int(digits, 16)
    elif text.isdigit() and (text == "0" or text[0] != "0"):
        return int(text)
    raise IdlError(pos, f"malformed number '{text}' (decimal without leading zeros, or 0x hex)")


def tokenize(path, text):
    """The tokens of text (from file path), ending with one 'eof' token."""
    tokens = []
    line, col, i, n = 1, 1, 0, len(text)

    def at():
        return Pos(path, line, col)

    while i < n:
        c = text[i]
        if c == "\n":
            line, col, i = line + 1, 1, i + 1
            continue
        if c in " \t\r":
            col, i = col + 1, i + 1
            continue
        start = at()
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            body = text[i:end]
            if body.startswith("///") and not body.startswith("////"):
                if tokens and tokens[-1].kind != "doc" and tokens[-1].pos.line == line:
                    raise IdlError(start, "a /// comment must be on lines of its own, before "
                                          "what it describes (use // after code)")
                doc = body[3:]
                doc = doc[1:] if doc.startswith(" ") else doc
                tokens.append(Token("doc", doc.rstrip(), start))
            col, i = col + (end - i), end
            continue
        if text.startswith("/*", i):
            raise IdlError(start, "only // comments are allowed")
        if c.isascii() and (c.isalpha() or c == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("name", text[i:j], start))
            col, i = col + (j - i), j
            continue
        if c.isascii() and c.isdigit():
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            tokens.append(Token("num", _number(text[i:j], start), start))
            col, i = col + (j - i), j
            continue
        if text.startswith("->", i):
            tokens.append(Token("punct", "->", start))
            col, i = col + 2, i + 2
            continue
        if c in PUNCT:
            tokens.append(Token("punct", c, start))
            col, i = col + 1, i + 1
            continue
        shown = c if c.isprintable() and not c.isspace() else f"U+{ord(c):04X}"
        raise IdlError(start, f"unexpected character '{shown}'")
    tokens.append(Token("eof", None, at()))
    return tokens
