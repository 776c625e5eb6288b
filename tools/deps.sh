#!/bin/sh
# Install the Debian packages Mica's build, run and tests need, if missing.
# Usage: tools/deps.sh         (everything)
# Uses apt-get as root, or through sudo; otherwise lists what is missing.
set -eu

missing=""
need() { # need PACKAGE TEST-COMMAND...
	pkg=$1
	shift
	if ! "$@" >/dev/null 2>&1; then
		missing="$missing $pkg"
	fi
}

need gcc command -v gcc
need libc6-dev test -f /usr/include/stdio.h
need make command -v make
need nasm command -v nasm
need grub-common command -v grub-mkrescue
need grub-pc-bin test -f /usr/lib/grub/i386-pc/multiboot2.mod
need xorriso command -v xorriso
need mtools command -v mformat
need qemu-system-x86 command -v qemu-system-x86_64
need libcmocka-dev test -f /usr/include/cmocka.h
need python3 test -x /usr/bin/python3
need python3-pytest /usr/bin/python3 -c "import pytest"
need python3-matplotlib /usr/bin/python3 -c "import matplotlib"
need valgrind command -v valgrind
need clang-format command -v clang-format
need gdb sh -c 'gdb -nx -batch -ex "python import gdb"' # with Python: tools/gdb/mica.py
# The host fuzz targets (tests/fuzz/): clang with libFuzzer and the sanitizers' runtimes.
need clang command -v clang
need libclang-rt-14-dev sh -c 'test -f "$(clang -print-file-name=libclang_rt.fuzzer-x86_64.a)"'

[ -z "$missing" ] && exit 0

echo "mica: installing missing packages:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
elif command -v sudo >/dev/null 2>&1 && [ -t 0 ]; then
	SUDO="sudo" # asks for the password on this terminal
else
	echo "mica: cannot install packages (not root, and no sudo to ask)." >&2
	echo "mica: please run: sudo apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
