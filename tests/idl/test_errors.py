"""Error tests of the IDL compiler: each bad input in the table, and the exact
diagnostic it must give (`file:line:col: error: message`, exit status 1),
then I/O errors, and that no input ever ends in a Python traceback."""

import os
import random
import re
import subprocess
import sys

import pytest

import goldens
import idlc

IDLC = str(goldens.ROOT / "tools" / "idlc" / "idlc.py")
HEAD = "interface t 1 version 1 {\n"

# (what it checks, source of t.idl, the diagnostics expected)
CASES = [
    # -- lexical --
    ("bad character", HEAD + "\tmethod a 1 (u8 $x);\n}\n",
     "t.idl:2:17: error: unexpected character '$'"),
    ("control character", HEAD + "\tmethod a 1\x07 ();\n}\n",
     "t.idl:2:12: error: unexpected character 'U+0007'"),
    ("block comment", "/* old style */\n" + HEAD + "}\n",
     "t.idl:1:1: error: only // comments are allowed"),
    ("leading zero", "interface t 010 version 1 {\n}\n",
     "t.idl:1:13: error: malformed number '010' (decimal without leading zeros, or 0x hex)"),
    ("bad hex", "interface t 0xZ1 version 1 {\n}\n",
     "t.idl:1:13: error: malformed number '0xZ1' (decimal without leading zeros, or 0x hex)"),
    ("number with thousands of digits", "interface t " + "9" * 5000 + " version 1 {\n}\n",
     "t.idl:1:13: error: number too large: '999999999999999999999999...'"),
    ("digits then letters", HEAD + "\tmethod a 1 (bytes<12ab> x);\n}\n",
     "t.idl:2:20: error: malformed number '12ab' (decimal without leading zeros, or 0x hex)"),
    ("doc comment after code", HEAD + "\tmethod a 1 (); /// returns nothing\n}\n",
     "t.idl:2:17: error: a /// comment must be on lines of its own, before what it describes "
     "(use // after code)"),
    # -- syntax --
    ("empty file", "", "t.idl:1:1: error: expected 'interface', found end of file"),
    ("not an interface", "struct s { u8 x; }\n",
     "t.idl:1:1: error: expected 'interface', found 'struct'"),
    ("no version", "interface t 1 {\n}\n", "t.idl:1:15: error: expected 'version', found '{'"),
    ("no number", "interface t version 1 {\n}\n",
     "t.idl:1:13: error: expected the interface number, found 'version'"),
    ("missing semicolon", HEAD + "\tmethod a 1 ()\n}\n",
     "t.idl:3:1: error: expected ';', found '}'"),
    ("unclosed interface", HEAD + "\tmethod a 1 ();\n",
     "t.idl:3:1: error: expected 'struct', 'method' or '}', found end of file"),
    ("junk after", HEAD + "\tmethod a 1 ();\n}\n}\n", "t.idl:4:1: error: expected end of file, "
                                                       "found '}'"),
    ("bad member", HEAD + "\tfunc a 1 ();\n}\n",
     "t.idl:2:2: error: expected 'struct', 'method' or '}', found 'func'"),
    ("missing comma", HEAD + "\tmethod a 1 (u8 x u8 y);\n}\n",
     "t.idl:2:19: error: expected ',' or ')', found 'u8'"),
    ("missing parameter name", HEAD + "\tmethod a 1 (u8);\n}\n",
     "t.idl:2:16: error: expected the parameter's name, found ')'"),
    ("handle mode", HEAD + "\tmethod a 1 (handle<share> h);\n}\n",
     "t.idl:2:21: error: expected 'copy' or 'move', found 'share'"),
    ("handle without mode", HEAD + "\tmethod a 1 (handle h);\n}\n",
     "t.idl:2:21: error: expected '<', found 'h'"),
    ("bound not a number", HEAD + "\tmethod a 1 (bytes<n> x);\n}\n",
     "t.idl:2:20: error: expected the bound (a number), found 'n'"),
    ("negative bound", HEAD + "\tmethod a 1 (bytes<-1> x);\n}\n",
     "t.idl:2:20: error: unexpected character '-'"),
    ("empty struct", HEAD + "\tstruct s {\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:2:9: error: struct 's' has no fields"),
    ("doc before brace", HEAD + "\tmethod a 1 ();\n\t/// nothing follows\n}\n",
     "t.idl:3:2: error: a /// comment must come before an interface, struct, field or method, "
     "not before '}'"),
    ("doc in parameters", HEAD + "\tmethod a 1 (\n\t\t/// x\n\t\tu8 x);\n}\n",
     "t.idl:3:3: error: a /// comment must come before an interface, struct, field or method, "
     "not inside a parameter list"),
    ("doc at the end", HEAD + "\tmethod a 1 ();\n}\n/// late\n",
     "t.idl:4:1: error: a /// comment must come before an interface, struct, field or method, "
     "not at the end of the file"),
    # -- names --
    ("file name", "interface other 1 version 1 {\n\tmethod a 1 ();\n}\n",
     "t.idl:1:11: error: interface 'other' must be in a file named 'other.idl'"),
    ("upper case", HEAD + "\tmethod Get 1 ();\n}\n",
     "t.idl:2:9: error: method name 'Get' must be lower case: a letter, then letters, digits or "
     "'_'"),
    ("leading underscore", HEAD + "\tmethod a 1 (u8 _x);\n}\n",
     "t.idl:2:17: error: parameter name '_x' must be lower case: a letter, then letters, digits "
     "or '_'"),
    ("C keyword", HEAD + "\tmethod a 1 (u8 int);\n}\n",
     "t.idl:2:17: error: parameter name 'int' is reserved in C"),
    ("C type name", HEAD + "\tstruct s {\n\t\tu8 size_t;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:6: error: field name 'size_t' is reserved in C"),
    ("generated prefix", HEAD + "\tmethod idl_a 1 ();\n}\n",
     "t.idl:2:9: error: method name 'idl_a' is reserved (prefixes idl_, ipc_, mica_ belong to "
     "the generated code and libipc)"),
    ("a prefix's own word", HEAD + "\tmethod mica 1 ();\n}\n",
     "t.idl:2:9: error: method name 'mica' is reserved (prefixes idl_, ipc_, mica_ belong to "
     "the generated code and libipc)"),
    ("C macro name", HEAD + "\tmethod offsetof 1 ();\n}\n",
     "t.idl:2:9: error: method name 'offsetof' is reserved in C"),
    ("reserved parameter", HEAD + "\tmethod a 1 (u8 ep);\n}\n",
     "t.idl:2:17: error: parameter name 'ep' is reserved (the generated functions use badge, "
     "ctx, ep, ops, rep, req)"),
    ("struct named like a type", HEAD + "\tstruct u8 {\n\t\tu8 x;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:2:9: error: struct name 'u8' is a built-in type"),
    # -- duplicates --
    ("duplicate method", HEAD + "\tmethod a 1 ();\n\tmethod a 2 ();\n}\n",
     "t.idl:3:9: error: method 'a' is already declared (line 2)"),
    ("duplicate method number", HEAD + "\tmethod a 1 ();\n\tmethod b 1 ();\n}\n",
     "t.idl:3:11: error: method number 1 is already used by 'a' (line 2)"),
    ("duplicate struct",
     HEAD + "\tstruct s {\n\t\tu8 x;\n\t}\n\tstruct s {\n\t\tu8 y;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:5:9: error: struct 's' is already declared (line 2)"),
    ("duplicate field", HEAD + "\tstruct s {\n\t\tu8 x;\n\t\tu16 x;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:4:7: error: field 'x' is already declared in struct 's' (line 3)"),
    ("duplicate parameter", HEAD + "\tmethod a 1 (u8 x) -> (u8 x);\n}\n",
     "t.idl:2:27: error: parameter 'x' clashes with parameter 'x' in method 'a'"),
    ("length clash", HEAD + "\tmethod a 1 (u32 data_len, bytes<4> data);\n}\n",
     "t.idl:2:37: error: the length of 'data' (data_len) clashes with parameter 'data_len' in "
     "method 'a'"),
    ("generated names clash",
     HEAD + "\tmethod a_b 1 (bytes<3> c);\n\tmethod a 2 (bytes<3> b_c);\n}\n",
     "t.idl:3:23: error: the generated name T_A_B_C_MAX of parameter 'b_c' of method 'a' "
     "clashes with the one of parameter 'c' of method 'a_b' (line 2)"),
    ("method named like the dispatch", HEAD + "\tmethod dispatch 1 ();\n}\n",
     "t.idl:2:9: error: the generated name t_dispatch of method 'dispatch' clashes with the "
     "one of interface 't' (its dispatch) (line 1)"),
    # -- numbers --
    ("interface number 0", "interface t 0 version 1 {\n\tmethod a 1 ();\n}\n",
     "t.idl:1:13: error: interface number 0 out of range 1..65535"),
    ("interface number too large", "interface t 0x10000 version 1 {\n\tmethod a 1 ();\n}\n",
     "t.idl:1:13: error: interface number 65536 out of range 1..65535"),
    ("method number 0", HEAD + "\tmethod a 0 ();\n}\n",
     "t.idl:2:11: error: method number 0 out of range 1..65535"),
    ("huge method number", HEAD + "\tmethod a 99999999999999999999999 ();\n}\n",
     "t.idl:2:11: error: method number 99999999999999999999999 out of range 1..65535"),
    ("version too large", "interface t 1 version 0x100000000 {\n\tmethod a 1 ();\n}\n",
     "t.idl:1:23: error: version 4294967296 out of range 0..4294967295"),
    ("no methods", HEAD + "}\n", "t.idl:1:11: error: interface 't' has no methods"),
    # -- types --
    ("unknown type", HEAD + "\tmethod a 1 (float x);\n}\n",
     "t.idl:2:14: error: unknown type 'float'"),
    ("unknown field type", HEAD + "\tstruct s {\n\t\tchar c;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:3: error: unknown type 'char'"),
    ("struct used before declared",
     HEAD + "\tstruct s {\n\t\tp x;\n\t}\n\tstruct p {\n\t\tu8 y;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:3: error: struct 'p' is used before it is declared"),
    ("struct inside itself", HEAD + "\tstruct s {\n\t\ts x;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:3: error: struct 's' cannot contain itself"),
    ("handle in a struct", HEAD + "\tstruct s {\n\t\thandle<copy> h;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:3: error: a struct field cannot be handle<copy>: handles, bytes and strings are "
     "method parameters only"),
    ("string in a struct", HEAD + "\tstruct s {\n\t\tstring<4> n;\n\t}\n\tmethod a 1 ();\n}\n",
     "t.idl:3:3: error: a struct field cannot be string<4>: handles, bytes and strings are "
     "method parameters only"),
    # -- bounds and sizes --
    ("bytes bound 0", HEAD + "\tmethod a 1 (bytes<0> x);\n}\n",
     "t.idl:2:20: error: bytes bound 0 out of range 1..4096"),
    ("bytes bound too large", HEAD + "\tmethod a 1 (bytes<4097> x);\n}\n",
     "t.idl:2:20: error: bytes bound 4097 out of range 1..4096"),
    ("string bound too large", HEAD + "\tmethod a 1 () -> (string<4096> s);\n}\n",
     "t.idl:2:27: error: string bound 4096 out of range 1..4095 (its NUL travels too)"),
    ("bound overflowing 64 bits", HEAD + "\tmethod a 1 (bytes<18446744073709551617> x);\n}\n",
     "t.idl:2:20: error: bytes bound 18446744073709551617 out of range 1..4096"),
    ("request too large", HEAD + "\tmethod a 1 (bytes<4000> x, string<96> y);\n}\n",
     "t.idl:2:9: error: the request of method 'a' is too large: 2 slots and 4097 bytes of data "
     "need up to 4097 buffer bytes beyond the 8 words; a message carries 4096"),
    ("reply too large with slots in the head",
     HEAD + "\tmethod a 1 () -> (u8 a0, u8 a1, u8 a2, u8 a3, u8 a4, u8 a5, u8 a6, u8 a7, u8 a8, "
     "bytes<4089> b);\n}\n",
     "t.idl:2:9: error: the reply of method 'a' is too large: 10 slots and 4089 bytes of data "
     "need up to 4105 buffer bytes beyond the 8 words; a message carries 4096"),
    ("struct too large",
     HEAD + "".join(f"\tstruct s{i} {{\n" + "".join(
         f"\t\t{t} f{k};\n" for k in range(n)) + "\t}\n"
         for i, t, n in ((0, "u64", 8), (1, "s0", 8), (2, "s1", 8), (3, "s2", 2)))
     + "\tmethod a 1 ();\n}\n",
     "t.idl:32:9: error: struct 's3' has 1024 scalar fields; a message holds at most 520"),
    ("structs nested too deep",
     HEAD + "\tstruct s0 {\n\t\tu8 a;\n\t}\n" + "".join(
         f"\tstruct s{i} {{\n\t\ts{i - 1} a;\n\t}}\n" for i in range(1, 2000))
     + "\tmethod a 1 (s1999 x);\n}\n",
     "t.idl:26:9: error: struct 's8' nests 9 structs deep; at most 8"),
    ("two handles in", HEAD + "\tmethod a 1 (handle<copy> x, handle<move> y);\n}\n",
     "t.idl:2:30: error: method 'a' passes 2 handles in its request; a message carries at most "
     "one"),
    ("two handles out", HEAD + "\tmethod a 1 () -> (handle<copy> x, u8 n, handle<copy> y);\n}\n",
     "t.idl:2:42: error: method 'a' passes 2 handles in its reply; a message carries at most "
     "one"),
    # -- several at once, in source order --
    ("several errors", HEAD + "\tmethod b 2 (foo x);\n\tmethod a 0 (bytes<0> y);\n}\n",
     "t.idl:2:14: error: unknown type 'foo'\n"
     "t.idl:3:11: error: method number 0 out of range 1..65535\n"
     "t.idl:3:20: error: bytes bound 0 out of range 1..4096"),
]


def run_in_process(capsys, args):
    status = idlc.main(args)
    err = capsys.readouterr().err
    return status, err


@pytest.mark.parametrize("what,src,want", CASES, ids=[c[0] for c in CASES])
def test_error(what, src, want, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.idl").write_text(src, encoding="utf-8")
    status, err = run_in_process(capsys, ["--check", "t.idl"])
    assert (status, err) == (1, want + "\n")


def test_error_table_size():
    assert len(CASES) >= 60


# -- across files --

def test_duplicate_interface_number(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.idl").write_text("interface a 7 version 1 {\n\tmethod x 1 ();\n}\n")
    (tmp_path / "b.idl").write_text("// b\ninterface b 7 version 1 {\n\tmethod x 1 ();\n}\n")
    assert run_in_process(capsys, ["--check", "a.idl", "b.idl"]) == (
        1, "b.idl:2:13: error: interface number 7 is already used by 'a' (a.idl:1:11)\n")


def test_generated_names_clash_across_files(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.idl").write_text("interface a 7 version 1 {\n\tmethod b_c 1 ();\n}\n")
    (tmp_path / "a_b.idl").write_text("interface a_b 8 version 1 {\n\tmethod c 1 ();\n}\n")
    assert run_in_process(capsys, ["--check", "a.idl", "a_b.idl"]) == (
        1, "a_b.idl:2:9: error: the generated name a_b_c of method 'c' clashes with the one "
           "of method 'b_c' (a.idl:2:9)\n")


def test_same_interface_twice(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    for p in ("t.idl", "d/t.idl"):
        (tmp_path / p).write_text(HEAD + "\tmethod a 1 ();\n}\n")
    assert run_in_process(capsys, ["--check", "t.idl", "d/t.idl"]) == (
        1, "d/t.idl:1:13: error: interface number 1 is already used by 't' (t.idl:1:11)\n"
           "d/t.idl:1:11: error: interface 't' is already declared (t.idl:1:11)\n")


# -- I/O --

def test_missing_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_in_process(capsys, ["--check", "none.idl"]) == (
        1, "none.idl:1:1: error: cannot read: No such file or directory\n")


def test_directory_as_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir.idl").mkdir()
    assert run_in_process(capsys, ["--check", "dir.idl"]) == (
        1, "dir.idl:1:1: error: cannot read: Is a directory\n")


def test_not_utf8(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.idl").write_bytes(HEAD.encode() + b"\tmethod a 1 (); // caf\xe9\n}\n")
    assert run_in_process(capsys, ["--check", "t.idl"]) == (
        1, "t.idl:2:23: error: not UTF-8 text\n")


def test_unwritable_output(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.idl").write_text(HEAD + "\tmethod a 1 ();\n}\n")
    (tmp_path / "out").write_text("a file, not a folder")
    assert run_in_process(capsys, ["-o", "out/gen", "t.idl"]) == (
        1, "out/gen/t_types.h:1:1: error: cannot write: Not a directory\n")


# -- the real command line --

DIAG = re.compile(r"^[^:\n]+:\d+:\d+: error: [^\n]+$")


def test_command_line_status_and_format(tmp_path):
    (tmp_path / "t.idl").write_text(HEAD + "\tmethod a 1 (u8 $);\n}\n")
    p = subprocess.run([sys.executable, IDLC, "--check", "t.idl", "missing.idl"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stdout == ""
    assert p.stderr.splitlines() == ["t.idl:2:17: error: unexpected character '$'",
                                     "missing.idl:1:1: error: cannot read: No such file or "
                                     "directory"]


def test_command_line_generates(tmp_path):
    (tmp_path / "t.idl").write_text(HEAD + "\tmethod a 1 ();\n}\n")
    p = subprocess.run([sys.executable, IDLC, "-o", "gen", "t.idl"], cwd=tmp_path,
                       capture_output=True, text=True)
    assert (p.returncode, p.stderr) == (0, "")
    assert sorted(os.listdir(tmp_path / "gen")) == [
        "t_client.c", "t_client.h", "t_server.c", "t_server.h", "t_types.h"]


def test_no_output_when_any_file_fails(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "t.idl").write_text(HEAD + "\tmethod a 1 ();\n}\n")
    (tmp_path / "u.idl").write_text("interface u 2 version 1 {\n}\n")
    assert run_in_process(capsys, ["-o", "gen", "t.idl", "u.idl"])[0] == 1
    assert not (tmp_path / "gen").exists()


def test_mutated_inputs_never_crash(tmp_path, monkeypatch, capsys):
    """Random damage to a valid file: idlc accepts it or reports diagnostics, never a bug."""
    monkeypatch.chdir(tmp_path)
    good = (goldens.ROOT / "tests" / "idl" / "idltest.idl").read_text(encoding="utf-8")
    rng = random.Random(4)
    pieces = ["{", "}", "(", ")", "<", ">", ";", ",", "->", "///", "//", "\n", "0", "4096",
              "99999999999999999999", "struct", "method", "u8", "bytes<", "handle<copy>", "x",
              "\x00", "é", " "]
    for _ in range(300):
        text = list(good)
        for _ in range(rng.randint(1, 4)):
            at = rng.randrange(len(text))
            if rng.random() < 0.5:
                del text[at:at + rng.randint(1, 20)]
            else:
                text.insert(at, rng.choice(pieces))
        (tmp_path / "idltest.idl").write_text("".join(text), encoding="utf-8")
        status, err = run_in_process(capsys, ["--check", "idltest.idl"])
        assert status in (0, 1), err
        for line in err.splitlines():
            assert DIAG.match(line) and "internal error" not in line, line
