#!/bin/sh
# Build a bootable GRUB ISO holding the kernel.
# Usage: tools/mkiso.sh KERNEL.elf OUT.iso [CMDLINE] [LOADER] [MODULES]
#   CMDLINE  the kernel command line (default: empty)
#   LOADER   multiboot2 (default) or multiboot (only to test the refusal)
#   MODULES  space-separated files loaded as GRUB modules, each with its
#            file name as the module's command line
set -eu

kernel=$1
out=$2
cmdline=${3:-}
loader=${4:-multiboot2}
modules=${5:-}

dir=$(mktemp -d)  # the ISO's tree
log=$(mktemp)     # grub-mkrescue's output, kept out of the tree it packs
trap 'rm -rf "$dir" "$log"' EXIT
mkdir -p "$dir/boot/grub"
cp "$kernel" "$dir/boot/mica.elf"
module_lines=""
for m in $modules; do
	name=$(basename "$m")
	cp "$m" "$dir/boot/$name"
	module_lines="$module_lines
	module2 /boot/$name $name"
done
# GRUB writes to the serial line too but reads no keys from it: its polling
# of the serial port for input is so slow under QEMU -icount (make bench)
# that a boot took minutes instead of two seconds. There is no menu to use.
cat >"$dir/boot/grub/grub.cfg" <<CFG
serial --unit=0 --speed=115200
terminal_output serial console
set timeout=0
set timeout_style=hidden
set default=0
menuentry "Mica" {
	$loader /boot/mica.elf $cmdline$module_lines
	boot
}
CFG
grub-mkrescue -o "$out" "$dir" >"$log" 2>&1 || { cat "$log" >&2; exit 1; }
