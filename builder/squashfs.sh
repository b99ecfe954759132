#!/bin/bash
# builder/squashfs.sh ROOT_DIR OUT_FILE [--initramfs FILE] [--overlay DIR]...
#
# Stage a copy of ROOT_DIR (from builder/rootfs.sh), apply the overlay directories
# (copied verbatim, later ones win), install the initramfs at /boot/initramfs,
# clamp every timestamp to SOURCE_DATE_EPOCH, and build the system image:
#   mksquashfs -comp xz -Xbcj x86 -b SQUASHFS_BLOCK -all-root -noappend
# The image must fit SQUASHFS_BUDGET_MIB (profile.conf); over budget the build
# fails and prints the 20 biggest contributors. OUT_FILE is replaced atomically,
# only on success. ROOT_DIR is never modified.
#
# Environment: SOURCE_DATE_EPOCH (default: last commit time), QX_KEEP_STAGE=1
# keeps the staged tree at OUT_FILE.stage for inspection.
. "$(dirname "$0")/lib.sh"

usage() { die "usage: $0 ROOT_DIR OUT_FILE [--initramfs FILE] [--overlay DIR]..."; }

ROOT_DIR= OUT_FILE= INITRAMFS= OVERLAYS=()

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--initramfs) [ $# -ge 2 ] || usage; INITRAMFS=$2; shift 2 ;;
		--overlay) [ $# -ge 2 ] || usage; OVERLAYS+=("$2"); shift 2 ;;
		-*) usage ;;
		*)
			if [ -z "$ROOT_DIR" ]; then ROOT_DIR=$1
			elif [ -z "$OUT_FILE" ]; then OUT_FILE=$1
			else usage
			fi
			shift ;;
		esac
	done
	[ -n "$ROOT_DIR" ] && [ -n "$OUT_FILE" ] || usage
	[ -d "$ROOT_DIR" ] && [ -x "$ROOT_DIR/sbin/init" ] || die "not a root tree: $ROOT_DIR"
	[ -z "$INITRAMFS" ] || [ -s "$INITRAMFS" ] || die "initramfs not found or empty: $INITRAMFS"
	local d
	for d in "${OVERLAYS[@]}"; do [ -d "$d" ] || die "overlay is not a directory: $d"; done
}

stage_root() {
	local root=$1 stage=$2
	cp -a --reflink=auto "$root/." "$stage/"
}

apply_overlays() {
	local stage=$1 d
	for d in "${OVERLAYS[@]}"; do
		log "overlay $d"
		cp -a --no-preserve=ownership "$d/." "$stage/"
	done
}

install_initramfs() {
	local stage=$1
	if [ -n "$INITRAMFS" ]; then
		install -m 0644 "$INITRAMFS" "$stage/boot/initramfs"
	else
		log "WARNING: no --initramfs given: the image has no /boot/initramfs and will not boot"
	fi
}

# check_image STAGE — what the product promises about every image.
check_image() {
	local stage=$1 bad=()
	[ -f "$stage/boot/vmlinuz" ] || bad+=("no /boot/vmlinuz")
	! grep -Eq '^[^#]*:respawn:.*getty' "$stage/etc/inittab" || bad+=("a getty in /etc/inittab (missing --overlay overlay?)")
	! find "$stage/etc/runlevels" -name '*ssh*' | grep -q . || bad+=("an SSH server in a runlevel")
	[ ! -e "$stage/var/lib/dpkg" ] && [ ! -e "$stage/usr/bin/apt-get" ] || bad+=("apt/dpkg still present")
	[ -s "$stage/etc/quantix/release" ] || bad+=("no /etc/quantix/release")
	[ ${#bad[@]} -eq 0 ] || die "image check failed: ${bad[*]}"
}

# clamp_times STAGE EPOCH — every inode gets the same mtime (reproducible image).
clamp_times() {
	find "$1" -print0 | xargs -0 touch -h -d "@$2"
}

make_squashfs() {
	local stage=$1 out=$2
	local block
	block=$(conf_get SQUASHFS_BLOCK)
	SOURCE_DATE_EPOCH=$EPOCH mksquashfs "$stage" "$out" -comp xz -Xbcj x86 -b "$block" \
		-all-root -noappend -no-progress -quiet >/dev/null
}

check_budget() {
	local image=$1 stage=$2 budget size
	budget=$(conf_get SQUASHFS_BUDGET_MIB)
	size=$(size_mib "$image")
	log "squashfs $size MiB (budget $budget MiB)"
	if awk -v s="$size" -v b="$budget" 'BEGIN { exit !(s > b) }'; then
		printf 'Biggest contributors (uncompressed, staged tree):\n' >&2
		top_contributors "$stage" 20 >&2
		die "squashfs is $size MiB, over the budget of $budget MiB (SQUASHFS_BUDGET_MIB in profile.conf)"
	fi
}

main() {
	parse_args "$@"
	require_root
	require_tools mksquashfs unsquashfs
	local out work stage
	out=$(realpath -m "$OUT_FILE")
	work=$out.work.d
	stage=$work/root
	EPOCH=$(qx_epoch)
	umount_under "$work"
	rm -rf "$work"
	mkdir -p "$stage"
	[ "${QX_KEEP_STAGE:-0}" = 1 ] || on_exit rm -rf "$work"
	log "root $ROOT_DIR -> $out (SOURCE_DATE_EPOCH=$EPOCH)"
	step stage_root stage_root "$ROOT_DIR" "$stage"
	step apply_overlays apply_overlays "$stage"
	step install_initramfs install_initramfs "$stage"
	step check_image check_image "$stage"
	step clamp_times clamp_times "$stage" "$EPOCH"
	step mksquashfs make_squashfs "$stage" "$work/image.squashfs"
	step check_budget check_budget "$work/image.squashfs" "$stage"
	mv "$work/image.squashfs" "$out"
	log "$out: $(size_mib "$out") MiB, sha256 $(sha256sum "$out" | cut -d' ' -f1)"
}

main "$@"
