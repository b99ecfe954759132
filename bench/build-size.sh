#!/bin/bash
# bench/build-size.sh [--times] [--repro] [--exact] [WORK_DIR]
#
# Builds the system squashfs (builder/rootfs.sh, builder/initramfs.sh if present,
# builder/squashfs.sh with --overlay overlay) into WORK_DIR (default build/bench)
# and prints figures, not pass/fail:
#   - the squashfs size in MiB and the budget;
#   - the size with vs without kernel modules (the modules' share is measured by
#     squashing lib/modules alone; --exact builds a second image without them);
#   - the 20 biggest contributors of the staged tree;
#   - --times: a cold build (empty QX_CACHE under WORK_DIR: downloads, debootstrap,
#     installs) then a warm one (cached base), each step timed;
#   - --repro: a second full warm build with the same SOURCE_DATE_EPOCH, sha256
#     compared, and the differing paths listed if the images differ.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
. "$HERE/builder/lib.sh"

TIMES=0 REPRO=0 EXACT=0 WORK=$HERE/build/bench
for a in "$@"; do
	case $a in
	--times) TIMES=1 ;;
	--repro) REPRO=1 ;;
	--exact) EXACT=1 ;;
	-*) die "usage: $0 [--times] [--repro] [--exact] [WORK_DIR]" ;;
	*) WORK=$a ;;
	esac
done
require_root
mkdir -p "$WORK"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(qx_epoch)}

# build_image NAME — rootfs + initramfs + squashfs into WORK/NAME.*; prints seconds.
build_image() {
	local name=$1 start args=()
	start=$(date +%s%N)
	"$HERE/builder/rootfs.sh" "$WORK/$name.rootfs" >&2
	if [ -x "$HERE/builder/initramfs.sh" ]; then
		"$HERE/builder/initramfs.sh" "$WORK/$name.rootfs" "$WORK/$name.initramfs" >&2
		args+=(--initramfs "$WORK/$name.initramfs")
	fi
	QX_KEEP_STAGE=1 "$HERE/builder/squashfs.sh" "$WORK/$name.rootfs" "$WORK/$name.squashfs" \
		"${args[@]}" --overlay "$HERE/overlay" >&2
	elapsed "$start" "$(date +%s%N)"
}

report_size() {
	local image=$WORK/a.squashfs stage=$WORK/a.squashfs.work.d/root mods_mib total
	total=$(size_mib "$image")
	printf 'squashfs: %s MiB (budget %s MiB), %s\n' "$total" "$(conf_get SQUASHFS_BUDGET_MIB)" "$image"
	mksquashfs "$stage/lib/modules" "$WORK/modules.squashfs" -comp xz -Xbcj x86 -b 1M \
		-all-root -noappend -no-progress -quiet >/dev/null
	mods_mib=$(size_mib "$WORK/modules.squashfs")
	rm -f "$WORK/modules.squashfs"
	printf 'kernel modules: %s MiB squashed (%s files); without them ~%s MiB\n' "$mods_mib" \
		"$(find "$stage/lib/modules" -name '*.ko*' | wc -l)" \
		"$(awk -v a="$total" -v b="$mods_mib" 'BEGIN { printf "%.1f", a - b }')"
	if [ "$EXACT" = 1 ]; then
		mv "$stage/lib/modules" "$WORK/modules.aside"
		mksquashfs "$stage" "$WORK/nomod.squashfs" -comp xz -Xbcj x86 -b 1M -all-root -noappend \
			-no-progress -quiet >/dev/null
		mv "$WORK/modules.aside" "$stage/lib/modules"
		printf 'without modules (exact): %s MiB\n' "$(size_mib "$WORK/nomod.squashfs")"
		rm -f "$WORK/nomod.squashfs"
	fi
	printf 'kernel: %s (%s MiB), initramfs: %s MiB\n' "$(readlink -f "$stage"/boot/vmlinuz-* | xargs basename)" \
		"$(size_mib "$stage/boot/vmlinuz")" "$( [ -f "$stage/boot/initramfs" ] && size_mib "$stage/boot/initramfs" || echo none)"
	printf 'top 20 contributors (uncompressed):\n'
	top_contributors "$stage" 20
}

report_repro() {
	local a=$WORK/a.squashfs b=$WORK/b.squashfs
	build_image b >/dev/null
	if cmp -s "$a" "$b"; then
		printf 'reproducible: yes, sha256 %s (two builds, SOURCE_DATE_EPOCH=%s)\n' \
			"$(sha256sum "$a" | cut -d' ' -f1)" "$SOURCE_DATE_EPOCH"
	else
		printf 'reproducible: NO (%s vs %s); differing paths:\n' \
			"$(sha256sum "$a" | cut -c1-16)" "$(sha256sum "$b" | cut -c1-16)"
		diff -r --no-dereference -q "$WORK/a.squashfs.work.d/root" "$WORK/b.squashfs.work.d/root" | head -n 20 || true
		diff <(unsquashfs -lls "$a" | tail -n +4) <(unsquashfs -lls "$b" | tail -n +4) | head -n 20 || true
	fi
}

if [ "$TIMES" = 1 ]; then
	rm -rf "$WORK/cold-cache"
	cold=$(QX_CACHE=$WORK/cold-cache build_image a)
	warm=$(QX_CACHE=$WORK/cold-cache build_image a)
	rm -rf "$WORK/cold-cache"
	printf 'build time: cold %ss, warm %ss (rootfs + initramfs + squashfs, %s cores)\n' "$cold" "$warm" "$(nproc)"
else
	t=$(build_image a)
	printf 'build time: %ss (cache %s)\n' "$t" "$QX_CACHE"
fi
report_size
[ "$REPRO" = 0 ] || report_repro
