#!/usr/bin/python3
"""idlc: Mica's IDL compiler (docs/IDL.md). Python 3, standard library only.

    tools/idlc/idlc.py -o build/gen/idl idl/*.idl    generate C for each interface
    tools/idlc/idlc.py --check idl/*.idl             only check them

Interfaces given together are also checked against each other (numbers,
names, generated C names). Every problem is reported as
`file:line:col: error: message`, and the exit status is then 1; idlc never
ends in a Python traceback (an internal error is reported the same way,
with status 3).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import check  # noqa: E402
import gen_c  # noqa: E402
import lexer  # noqa: E402
import parser  # noqa: E402
from diag import IdlError, IdlErrors, Pos, file_error  # noqa: E402


def read_source(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise file_error(path, f"cannot read: {e.strerror or e}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        before = data[:e.start]
        line = before.count(b"\n") + 1
        col = len(before[before.rfind(b"\n") + 1:].decode("utf-8", "replace")) + 1
        raise IdlError(Pos(path, line, col), "not UTF-8 text") from None


def load(path):
    """Parse and check one file; returns its Interface, or raises IdlError(s)."""
    text = read_source(path)
    iface = parser.parse(path, lexer.tokenize(path, text))
    check.raise_if(check.check(iface))
    return iface


def write(outdir, name, text):
    path = os.path.join(outdir, name)
    try:
        os.makedirs(outdir, exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise file_error(path, f"cannot write: {e.strerror or e}") from None


def compile_all(paths, outdir):
    """Check every file, then (if all are sound and outdir is given) generate.
    Returns the list of diagnostics."""
    errors, ifaces = [], []
    for path in paths:
        try:
            ifaces.append(load(path))
        except IdlError as e:
            errors.append(e)
        except IdlErrors as e:
            errors += e.errors
    errors += check.check_all(ifaces)
    if errors or outdir is None:
        return errors
    for iface in ifaces:
        for name, text in gen_c.generate(iface).items():
            try:
                write(outdir, name, text)
            except IdlError as e:
                return [e]
    return []


def main(argv=None):
    ap = argparse.ArgumentParser(prog="idlc", description="Mica's IDL compiler (docs/IDL.md)")
    ap.add_argument("-o", "--out", metavar="DIR", help="write the generated C into DIR")
    ap.add_argument("--check", action="store_true", help="check the files, generate nothing")
    ap.add_argument("files", nargs="+", metavar="FILE.idl")
    args = ap.parse_args(argv)
    if not args.check and not args.out:
        ap.error("give -o DIR, or --check")
    current = args.files[0]
    try:
        errors = compile_all(args.files, None if args.check else args.out)
    except RecursionError:
        errors = [file_error(current, "internal error: nesting too deep")]
        status = 3
    except Exception as e:  # a bug in idlc: still one line, never a traceback
        errors = [file_error(current, f"internal error: {type(e).__name__}: {e}")]
        status = 3
    else:
        status = 1
    for e in errors:
        print(e, file=sys.stderr)
    return status if errors else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)
