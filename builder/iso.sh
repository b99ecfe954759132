#!/usr/bin/env bash
# builder/iso.sh SQUASHFS OUT_ISO
#
# The installer/live ISO: hybrid (El Torito BIOS + UEFI, and a disk image for `dd`
# to a USB stick), built by grub-mkrescue (xorriso + mtools, no mounts). It carries the
# system image once, at the path and volume label packages/core defines; GRUB reads
# the kernel and initramfs out of it through a loopback device.
# The ISO must fit ISO_BUDGET_MIB (profile.conf). OUT_ISO is replaced only on success.
. "$(dirname "$0")/lib.sh"

layout() { npx --no-install tsx "$QX_TOP/packages/core/src/cli/qx-layout.ts" "$@"; }

build_iso() {
	local sq=$1 out=$2 work version label sqpath
	[ -s "$sq" ] || die "system image not found: $sq"
	require_tools grub-mkrescue xorriso mformat
	version=$(unsquashfs -cat "$sq" /etc/quantix/release | sed -n 's/^QX_VERSION=//p')
	[ -n "$version" ] || die "$sq carries no /etc/quantix/release with QX_VERSION"
	eval "$(layout --shell | grep -E '^QX_ISO_')"
	label=$QX_ISO_LABEL sqpath=$QX_ISO_SQUASHFS_PATH
	work=$(mktemp -d "$(dirname "$out")/.iso.XXXXXX")
	on_exit rm -rf "$work"
	mkdir -p "$work/tree$(dirname "$sqpath")" "$work/tree/boot/grub"
	ln "$sq" "$work/tree$sqpath" 2>/dev/null || cp "$sq" "$work/tree$sqpath"
	layout grub-cfg iso --version "$version" >"$work/tree/boot/grub/grub.cfg"
	# Only the modules the ISO's grub.cfg needs, for both firmware kinds.
	local mods="part_gpt part_msdos iso9660 fat loopback squash4 xzio linux search search_label normal configfile echo test serial terminal all_video"
	grub-mkrescue -o "$work/out.iso" --install-modules="$mods" --locales= --themes= --fonts= \
		"$work/tree" -- -volid "$label" >"$work/mkrescue.log" 2>&1 || {
		cat "$work/mkrescue.log" >&2
		die "grub-mkrescue failed"
	}
	local budget size
	budget=$(conf_get ISO_BUDGET_MIB)
	size=$(size_mib "$work/out.iso")
	log "ISO $size MiB (budget $budget MiB), volume $label, Quantix-OS $version"
	awk -v s="$size" -v b="$budget" 'BEGIN { exit !(s <= b) }' || die "ISO is $size MiB, over the $budget MiB budget"
	mv -f "$work/out.iso" "$out"
}

[ $# -eq 2 ] || die "usage: $0 SQUASHFS OUT_ISO"
build_iso "$1" "$2"
