"""Machines and loaders Mica refuses: one clear line, a failure exit."""

import pytest

import mica


def assert_refused(run, reason):
    assert run.rc == mica.EXIT_FAILURE, run.log
    assert run.has(f"mica: boot: {reason}"), run.log
    assert not run.has("PANIC:"), run.log
    assert not run.has("kernel: ready"), run.log


@pytest.mark.parametrize("mem", ["16M", "8M"])
def test_too_little_memory(mem):
    assert_refused(mica.boot(mem=mem), "too little memory")


def test_wrong_loader_magic():
    """GRUB's multiboot (version 1) command passes the v1 magic."""
    assert_refused(mica.boot(loader="multiboot"), "not started by a multiboot2 boot loader")


def test_cpu_without_long_mode():
    assert_refused(mica.boot(cpu="qemu32"), "this CPU lacks long mode")


def test_cpu_without_nx():
    assert_refused(mica.boot(cpu="qemu64,-nx"), "this CPU lacks the NX")


def test_cpu_without_pae():
    assert_refused(mica.boot(cpu="qemu32,-pae,+lm"), "this CPU lacks PAE")


def test_first_module_not_an_executable(tmp_path):
    """GRUB's first module becomes the first task: it must be a Mica ELF."""
    blob = tmp_path / "notelf.bin"
    blob.write_bytes(b"\x7fELF" + bytes(200))
    run = mica.boot(modules=[blob])
    assert_refused(run, "the first module is not a Mica executable")
    assert run.has('module "notelf.bin": '), run.log
