"""Diagnostics: every problem idlc finds is one `file:line:col: error: message`."""


class Pos:
    """A place in a source file; line and col count from 1, col in characters."""

    __slots__ = ("file", "line", "col")

    def __init__(self, file, line, col):
        self.file, self.line, self.col = file, line, col

    def __str__(self):
        return f"{self.file}:{self.line}:{self.col}"

    def key(self):
        return (self.file, self.line, self.col)


class IdlError(Exception):
    """One diagnostic, or several (`more`), all to be reported."""

    def __init__(self, pos, message):
        super().__init__(f"{pos}: error: {message}")
        self.pos, self.message = pos, message


class IdlErrors(Exception):
    """Several diagnostics at once, reported in source order."""

    def __init__(self, errors):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = sorted(errors, key=lambda e: e.pos.key())


def file_error(path, message):
    """A diagnostic about a whole file (it cannot be read or written): placed at 1:1."""
    return IdlError(Pos(path, 1, 1), message)
