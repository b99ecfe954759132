#!/usr/bin/env bash
# Builds the GRUB boot images from the build host's GRUB (Debian grub-efi-amd64-bin,
# grub-pc-bin) with the module list and embedded config from packages/core:
#   OUT_DIR/BOOTX64.EFI   UEFI, grub-mkimage with every module built in
#   OUT_DIR/boot.img      legacy BIOS MBR code (patched at install time)
#   OUT_DIR/core.img      legacy BIOS core, goes into the QX_BIOS partition
# They are shipped inside the system image (/usr/lib/quantix/boot) so the installer
# and the image builder lay out a disk with the same bytes.
# usage: builder/grub.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

build_grub() {
  local out=$1 work
  work=$(mktemp -d)
  trap 'rm -rf "$work"' RETURN
  local layout="npx --no-install tsx $here/../packages/core/src/cli/qx-layout.ts"
  $layout grub-cfg embedded >"$work/embedded.cfg"
  local efi_mods bios_mods
  efi_mods=$($layout grub-modules efi)
  bios_mods=$($layout grub-modules bios)
  mkdir -p "$work/out"
  # grub-mkimage (not grub-mkstandalone, whose memdisk tar carries build-time
  # mtimes) so the same inputs give the same bytes: the squashfs stays reproducible.
  grub-mkimage -O x86_64-efi -o "$work/out/BOOTX64.EFI" -c "$work/embedded.cfg" -p /grub $efi_mods
  grub-mkimage -O i386-pc -o "$work/out/core.img" -c "$work/embedded.cfg" -p /grub $bios_mods
  cp /usr/lib/grub/i386-pc/boot.img "$work/out/boot.img"
  mkdir -p "$out"
  cp "$work/out/"* "$out/"
  ls -l "$out"
}

[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
build_grub "$1"
