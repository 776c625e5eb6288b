#!/usr/bin/python3
"""Write the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/): a few
valid and edge inputs each, small. Run from the repository root after
changing an input format; the outputs are committed (tests/fuzz/README.md).
The real ELF seed is a tiny program built with the user programs' flags."""

import os
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "fuzz" / "corpus"


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# ---- multiboot2 boot information, as GRUB gives it under QEMU (128 MiB) ----

def tag(t, body):
    raw = struct.pack("<II", t, 8 + len(body)) + body
    return raw + b"\0" * (-len(raw) % 8)


def mb2(tags):
    body = b"".join(tags) + tag(0, b"")
    return struct.pack("<II", 8 + len(body), 0) + body


E820_128M = [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2),
             (0x100000, 0x7ee0000, 1), (0x7fe0000, 0x20000, 2), (0xfffc0000, 0x40000, 2)]


def mmap(entries):
    body = struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", b, n, t, 0)
                                                  for b, n, t in entries)
    return tag(6, body)


def mb2_seeds():
    real = mb2([
        tag(1, b"idle=exit pager.exit_when_idle\0"),
        tag(2, b"GRUB 2.06-13+deb12u2\0"),
        tag(3, struct.pack("<II", 0x1a0000, 0x1bda77) + b"pager.elf\0"),
        tag(3, struct.pack("<II", 0x1be000, 0x1c0000) + b"init.elf\0"),
        tag(4, struct.pack("<II", 639, 130944)),  # basic memory info: ignored
        tag(5, struct.pack("<III", 0xe0, 0xffffffff, 0xffffffff)),  # boot device: ignored
        mmap(E820_128M),
    ])
    write("mb2", "qemu-128m", real)
    write("mb2", "minimal", mb2([mmap([(0x100000, 0x1000000, 1)])]))
    write("mb2", "no-end-tag", struct.pack("<II", len(real) - 8, 0) + real[8:-8])
    write("mb2", "string-no-nul", mb2([tag(1, b"ready=exit pager"), mmap(E820_128M)]))
    write("mb2", "module-end-before-start",
          mb2([tag(3, struct.pack("<II", 0x2000, 0x1000) + b"x\0"), mmap(E820_128M)]))


# ---- ELF executables ----

def elf(segments, entry, phoff=64):
    """An ELF64 x86_64 ET_EXEC: segments are (vaddr, offset, filesz, memsz, flags); the
    file holds the headers, then zero bytes up to the largest offset + filesz."""
    ident = b"\x7fELF" + bytes([2, 1, 1]) + b"\0" * 9
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64, 56,
                               len(segments), 0, 0, 0)
    ph = b"".join(struct.pack("<IIQQQQQQ", 1, fl, off, va, va, fs, ms, 0x1000)
                  for va, off, fs, ms, fl in segments)
    data = bytearray(ehdr + ph)
    end = max([len(data)] + [off + fs for _, off, fs, _, _ in segments])
    data += b"\0" * (end - len(data))
    return bytes(data)


def real_elf():
    """A tiny program linked as the user programs are, stripped."""
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "tiny.c", Path(tmp) / "tiny.elf"
        src.write_text("static int counter = 1;\nconst char msg[] = \"tiny\";\n"
                       "void _start(void)\n{\n\tfor (;;)\n\t\tcounter += msg[counter & 3];\n}\n")
        subprocess.run(["gcc", "-std=c11", "-ffreestanding", "-fno-pic", "-fno-pie", "-O2",
                        "-nostdlib", "-static", "-no-pie", f"-Wl,-T,{ROOT}/tests/user/user.ld",
                        "-Wl,-z,max-page-size=0x1000", "-Wl,--build-id=none", "-s", "-o",
                        str(out), str(src)], check=True)
        return out.read_bytes()


def elf_seeds(target):
    write(target, "real-tiny", real_elf())
    text = (0x400000, 0, 0x100, 0x100, 5)  # R E, the headers' page
    write(target, "one-segment", elf([text], 0x400078))
    write(target, "text-data-bss", elf([text, (0x401100, 0x100, 0x10, 0x3000, 6)], 0x400078))
    write(target, "write-and-exec", elf([(0x400000, 0, 0x100, 0x100, 7)], 0x400078))
    write(target, "shared-page", elf([text, (0x400100, 0x100, 0x10, 0x10, 6)], 0x400078))
    write(target, "past-user-top", elf([(0x7ffffffff000, 0, 0x100, 0x2000, 5)], 0x7ffffffff000))
    write(target, "truncated-header", elf([text], 0x400078)[:40])


# ---- command lines ----

def cmdline_seeds():
    write("cmdline", "system", b"idle=exit pager.exit_when_idle init=init.elf init.exit_when_done")
    write("cmdline", "repeats", b"idle=wait idle=exit init=a.elf init=b.elf")
    write("cmdline", "malformed", b"=x reserve=abc reserve=99999999999999999999 a=b=c  \t\n x=")
    write("cmdline", "numbers", b"reserve=1024 reserve=18446744073709551615 reserve=0")
    write("cmdline", "nul-inside", b"ready=exit\0idle=exit")


# ---- manifests ----

def manifest_seeds():
    for name in ("manifest", "tests"):
        write("manifest", f"boot-{name}", (ROOT / "boot" / name).read_bytes())
    write("manifest", "edge",
          b"server kv.elf restart=always a b\r\nprogram\nprogram x.elf restart=bogus\n"
          b"thing y.elf\n  # only a comment\nprogram " + b"m" * 48 + b"\n"
          b"program z.elf " + b"a " * 70 + b"\nprogram last.elf restart=on-failure")


# ---- IDL requests: tests/fuzz/fuzz_idl.c's input layout ----

def idl(sel, method, words=(), badge=0, claimed=0, rep_cap=None, out_len=0, payload=b""):
    def word(v):
        return bytes([v]) if v < 0x80 else b"\x80" + struct.pack("<Q", v)
    w = list(words) + [0] * (8 - len(words))
    raw = bytes([sel, method]) + b"".join(word(v) for v in w) + word(badge)
    raw += struct.pack("<H", claimed)
    if sel & 8:
        raw += struct.pack("<H", rep_cap)
    return raw + word(out_len) + payload


def idl_seeds():
    kv = 1
    write("idl", "kv-put", idl(kv, 1, [3, 4], badge=5, payload=b"abc\0data"))
    write("idl", "kv-get", idl(kv, 2, [3], out_len=10, payload=b"abc\0"))
    write("idl", "kv-get-small-reply", idl(kv | 8, 2, [3], rep_cap=100, payload=b"abc\0"))
    write("idl", "kv-remove-cut", idl(kv | 4, 3, [3], claimed=4000, payload=b"abc\0"))
    write("idl", "kv-count-handle", idl(kv | 0x40, 4))
    write("idl", "text", idl(0, 4, [5], out_len=5, payload=b"hello\0"))
    shape_head = struct.pack("<QQQ", 7, 4, 3)
    write("idl", "shapes", idl(0, 5, [1, 2, 3, 4, 5, 1, 0, 9], out_len=3,
                                payload=shape_head + b"name\0tag"))
    write("idl", "copy-in", idl(0x40, 6))
    write("idl", "move-out-error", idl(0x10, 9))
    write("idl", "fail", idl(0, 10, [0x80]))
    write("idl", "blob", idl(0, 3, [4], out_len=4, payload=b"\1\2\3\4"))


# ---- the file server (tests/fuzz/fuzz_fs.c): sequences of requests ----

FS_NAMES = ["a", "b", "mod.elf", "empty", "", "a b", "zz", "big"]


def fs_req(method, words=(), name=None, data=None, raw=b"", fail=None):
    """One request of fuzz_fs.c's format: words are encoded bytes (fs_fd(k), fs_small(v),
    fs_u16(v)), then a name (its index in the pool), data (length, fill byte) or raw bytes."""
    sel = method | (0x80 if name is not None or data is not None else 0)
    sel |= 0x40 if fail is not None else 0
    w = list(words) + [fs_small(0)] * (8 - len(words))
    out = bytes([sel]) + b"".join(w)
    if name is not None:
        out += bytes([FS_NAMES.index(name)])
    elif data is not None:
        out += struct.pack("<HB", data[0], data[1])
    else:
        out += bytes([len(raw)]) + raw
    if fail is not None:
        out += bytes([fail])
    return out


def fs_fd(k):
    return bytes([k & 0x3f])


def fs_small(v):
    return bytes([0x40 | v])


def fs_u16(v):
    return bytes([0xA0]) + struct.pack("<H", v)


def fs_seeds():
    open_, close, read, write_, create, remove, size, trunc, lst, stat, usage = range(1, 12)
    session = b"".join([
        fs_req(create, name="a"), fs_req(open_, name="a"),
        fs_req(write_, [fs_fd(0), fs_small(0)], data=(4096, 0x78)),
        fs_req(write_, [fs_fd(0), fs_u16(4000)], data=(200, 0x79)),
        fs_req(read, [fs_fd(0), fs_u16(3990), fs_u16(300)]),
        fs_req(trunc, [fs_fd(0), fs_u16(100)]),
        fs_req(trunc, [fs_fd(0), fs_u16(30000)]),
        fs_req(read, [fs_fd(0), fs_u16(20000), fs_u16(4096)]),
        fs_req(size, [fs_fd(0)]), fs_req(lst, name=""), fs_req(stat, name="mod.elf"),
        fs_req(remove, name="a"), fs_req(read, [fs_fd(0), fs_small(0), fs_small(10)]),
        fs_req(close, [fs_fd(0)]), fs_req(usage)])
    write("fs", "session", session)
    write("fs", "module", b"".join([
        fs_req(open_, name="mod.elf"), fs_req(read, [fs_fd(0), fs_u16(12000), fs_u16(4096)]),
        fs_req(write_, [fs_fd(0), fs_small(0)], data=(10, 1)), fs_req(remove, name="mod.elf")]))
    write("fs", "nomem", b"".join([
        fs_req(create, name="big"), fs_req(open_, name="big"),
        fs_req(write_, [fs_fd(0), fs_small(0)], data=(4096, 1)),
        fs_req(write_, [fs_fd(0), fs_u16(4000)], data=(4096, 2), fail=0),
        fs_req(write_, [fs_fd(0), fs_u16(4096)], data=(4096, 3), fail=0)]))
    write("fs", "bad-names", b"".join([fs_req(create, name="a b"), fs_req(create, name=""),
                                       fs_req(create, name="b"), fs_req(create, name="b")]))


def main():
    os.chdir(ROOT)
    mb2_seeds()
    elf_seeds("elf")
    elf_seeds("pager_elf")
    cmdline_seeds()
    manifest_seeds()
    idl_seeds()
    fs_seeds()
    return 0


if __name__ == "__main__":
    sys.exit(main())
