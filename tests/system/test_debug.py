"""`make debug`: QEMU halted with its gdb stub, and tools/gdbinit attaching to it."""

import subprocess

import mica


def test_gdb_script_stops_in_kmain():
    qemu = subprocess.Popen(
        ["qemu-system-x86_64", "-m", "128M", "-cdrom", str(mica.iso()), "-boot", "d",
         "-display", "none", "-monitor", "none", "-serial", "null", "-no-reboot",
         "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-s", "-S"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        gdb = subprocess.run(
            ["gdb", "-q", "-batch", "-x", "tools/gdbinit", "-ex", "continue",
             "-ex", "info symbol $pc", "-ex", "kill"],
            cwd=mica.ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            timeout=mica.BOOT_TIMEOUT)
    finally:
        qemu.kill()
        qemu.wait()
    assert "Breakpoint 1, kmain" in gdb.stdout, gdb.stdout
    assert "kmain in section .text" in gdb.stdout, gdb.stdout
