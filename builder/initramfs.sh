#!/bin/bash
# initramfs.sh - pack the Quantix-OS BusyBox initramfs.
#
#   builder/initramfs.sh ROOTFS_DIR OUT_FILE
#
# ROOTFS_DIR is the Debian trixie root built by builder/rootfs.sh; its kernel
# modules (lib/modules/<kver>, or usr/lib/modules/<kver>) provide the drivers
# listed in profiles/quantix/mkinitfs.conf, packed with their modules.dep
# dependencies, decompressed (.ko.xz/.ko.zst -> .ko: the whole cpio is compressed
# once, and BusyBox modprobe then needs no decompressor).
# BusyBox is /usr/bin/busybox of trixie's busybox-static .deb (apt-get download
# with a private apt config, cached in $QX_CACHE); if that cannot be had, the
# host's busybox-static binary is used and a warning says so.
#
# Environment:
#   QX_CACHE            cache directory (default /var/cache/quantix-os)
#   KVER                kernel version (default: the only one in ROOTFS_DIR)
#   QX_INITRAMFS_COMP   zstd (default) or xz
#   SOURCE_DATE_EPOCH   mtime of every file (default: last commit time, else 0)
# Output: OUT_FILE, a newc cpio compressed with zstd -19 (see initramfs/README.md
# for why zstd). Reproducible: sorted file list, fixed owners and mtimes.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/.." && pwd)
CONF=$REPO/profiles/quantix/mkinitfs.conf
INIT=$REPO/initramfs/init
QX_CACHE=${QX_CACHE:-/var/cache/quantix-os}
COMP=${QX_INITRAMFS_COMP:-zstd}
# shellcheck source=../initramfs/tools/trixie-apt.sh
. "$REPO/initramfs/tools/trixie-apt.sh"

log() { echo "initramfs.sh: $*" >&2; }
die() { echo "initramfs.sh: error: $*" >&2; exit 1; }

WORK=
cleanup() { [ -n "$WORK" ] && rm -rf "$WORK"; return 0; }
trap cleanup EXIT

# find_moddir ROOTFS: prints lib/modules/<kver> of the rootfs.
find_moddir() {
	local rootfs=$1 base d kver=${KVER:-}
	for base in "$rootfs/lib/modules" "$rootfs/usr/lib/modules"; do
		[ -d "$base" ] || continue
		if [ -n "$kver" ]; then
			[ -d "$base/$kver" ] && { echo "$base/$kver"; return 0; }
			continue
		fi
		set -- "$base"/*/modules.dep
		[ -e "$1" ] || continue
		[ $# -eq 1 ] || die "several kernels in $base; set KVER"
		d=${1%/modules.dep}
		echo "$d"
		return 0
	done
	die "no lib/modules/<kver>/modules.dep in $rootfs (run depmod in the rootfs)"
}

# get_busybox: prints the path of a static busybox, trixie's if possible.
get_busybox() {
	local deb dir=$QX_CACHE/initramfs-busybox x
	mkdir -p "$dir"
	if deb=$(trixie_download busybox-static 2>"$dir/apt.log" | tail -n1) && [ -f "$deb" ]; then
		x=$(mktemp -d "$dir/x.XXXXXX")
		dpkg-deb -x "$deb" "$x"
		for b in "$x/usr/bin/busybox" "$x/bin/busybox"; do
			[ -x "$b" ] && { mv "$b" "$dir/busybox"; break; }
		done
		rm -rf "$x"
		log "busybox: $(basename "$deb") (Debian trixie busybox-static)"
		echo "$dir/busybox"
		return 0
	fi
	for b in /bin/busybox /usr/bin/busybox; do
		if [ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked'; then
			log "WARNING: trixie busybox-static unavailable (see $dir/apt.log); using the host's $b ($("$b" | head -n1))"
			echo "$b"
			return 0
		fi
	done
	die "no static busybox: neither trixie's busybox-static nor the host's"
}

# conf_modules: every module name in mkinitfs.conf (boot and ondemand).
conf_modules() {
	sed -e 's/#.*//' "$CONF" | awk 'NF { print $1 }'
}

# resolve_modules MODDIR NAME...: prints the module files (relative to MODDIR)
# the names need, dependencies first, each once; skips built-in modules.
resolve_modules() {
	local moddir=$1
	shift
	awk -v names="$*" '
		function norm(s) { gsub(/-/, "_", s); return s }
		function modname(path,   b) { b = path; sub(/.*\//, "", b); sub(/\.ko(\.[a-z]+)?$/, "", b); return norm(b) }
		FILENAME ~ /modules\.builtin$/ { builtin[modname($1)] = 1; next }
		{ f = $1; sub(/:$/, "", f); file[modname(f)] = f; deps[f] = "" ; for (i = 2; i <= NF; i++) deps[f] = deps[f] " " $i }
		function emit(f,   n, d, i) {
			if (f in done) return
			done[f] = 1
			n = split(deps[f], d, " ")
			for (i = n; i >= 1; i--) emit(d[i])
			print f
		}
		END {
			n = split(names, want, " ")
			for (i = 1; i <= n; i++) {
				m = norm(want[i])
				if (m in file) emit(file[m])
				else if (m in builtin) print "builtin " m > "/dev/stderr"
				else { print "missing " want[i] > "/dev/stderr"; bad = 1 }
			}
			exit bad
		}' "$moddir/modules.builtin" "$moddir/modules.dep"
}

# install_modules MODDIR STAGE: copies, decompresses and indexes the modules.
install_modules() {
	local moddir=$1 stage=$2 kver list f out
	kver=$(basename "$moddir")
	out=$stage/lib/modules/$kver
	mkdir -p "$out"
	list=$(resolve_modules "$moddir" $(conf_modules) 2>"$WORK/resolve.log") ||
		die "modules missing from $moddir: $(grep missing "$WORK/resolve.log" | tr '\n' ' ')"
	grep -q builtin "$WORK/resolve.log" && log "built into the kernel: $(sed -n 's/^builtin //p' "$WORK/resolve.log" | tr '\n' ' ')"
	for f in $list; do
		mkdir -p "$out/$(dirname "$f")"
		case $f in
		*.ko.xz) xz -dc "$moddir/$f" >"$out/${f%.xz}" ;;
		*.ko.zst) zstd -qdc "$moddir/$f" >"$out/${f%.zst}" ;;
		*.ko.gz) gzip -dc "$moddir/$f" >"$out/${f%.gz}" ;;
		*.ko) cp "$moddir/$f" "$out/$f" ;;
		*) die "unexpected module file $f" ;;
		esac
	done
	# depmod-format modules.dep restricted to the packed modules, .ko names.
	awk -v list="$list" '
		BEGIN { n = split(list, l, " "); for (i = 1; i <= n; i++) keep[l[i]] = 1 }
		{ f = $1; sub(/:$/, "", f) }
		f in keep { line = f ":"; for (i = 2; i <= NF; i++) line = line " " $i; gsub(/\.ko\.(xz|zst|gz)/, ".ko", line); print line }
	' "$moddir/modules.dep" >"$out/modules.dep"
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "$moddir/$f" ] && cp "$moddir/$f" "$out/$f"
	done
	log "modules: $(echo "$list" | wc -w) files for kernel $kver ($(du -sk "$out" | cut -f1) KiB uncompressed)"
}

# install_busybox BUSYBOX STAGE: the binary plus one symlink per applet.
install_busybox() {
	local bb=$1 stage=$2 a
	install -m 0755 "$bb" "$stage/bin/busybox"
	for a in $("$bb" --list-full); do
		[ "$a" = bin/busybox ] && continue
		mkdir -p "$stage/$(dirname "$a")"
		ln -sf /bin/busybox "$stage/$a"
	done
}

make_stage() {
	local rootfs=$1 stage=$2 moddir bb
	mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,run,newroot,etc/quantix,lib/modules}
	mknod -m 0600 "$stage/dev/console" c 5 1
	mknod -m 0666 "$stage/dev/null" c 1 3
	bb=$(get_busybox)
	install_busybox "$bb" "$stage"
	moddir=$(find_moddir "$rootfs")
	install_modules "$moddir" "$stage"
	install -m 0755 "$INIT" "$stage/init"
	install -m 0644 "$CONF" "$stage/etc/quantix/mkinitfs.conf"
	# GPT names and ISO paths from packages/core: the init repeats none of them.
	npx --no-install tsx "$HERE/../packages/core/src/cli/qx-layout.ts" --shell >"$stage/etc/quantix/layout.env"
}

# pack STAGE OUT: reproducible newc cpio, compressed.
pack() {
	local stage=$1 out=$2 epoch
	epoch=${SOURCE_DATE_EPOCH:-$(git -C "$REPO" log -1 --format=%ct 2>/dev/null || echo 0)}
	find "$stage" -exec touch -h -d "@$epoch" {} +
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc --reproducible -R 0:0) >"$WORK/initramfs.cpio"
	case $COMP in
	zstd) zstd -q -19 -T1 --no-progress -c "$WORK/initramfs.cpio" >"$out" ;;
	xz) xz -9 --check=crc32 -T1 -c "$WORK/initramfs.cpio" >"$out" ;;
	*) die "QX_INITRAMFS_COMP must be zstd or xz, not $COMP" ;;
	esac
}

main() {
	[ $# -eq 2 ] || { echo "usage: $0 ROOTFS_DIR OUT_FILE" >&2; exit 2; }
	local rootfs=$1 out=$2
	[ -d "$rootfs" ] || die "no rootfs directory $rootfs"
	[ "$(id -u)" = 0 ] || die "run as root (device nodes in the cpio)"
	mkdir -p "$(dirname "$out")"
	WORK=$(mktemp -d "$(dirname "$out")/.initramfs.work.XXXXXX")
	make_stage "$rootfs" "$WORK/stage"
	pack "$WORK/stage" "$WORK/out"
	mv "$WORK/out" "$out"
	log "wrote $out ($(stat -c %s "$out") bytes, $COMP, cpio $(stat -c %s "$WORK/initramfs.cpio") bytes)"
}

main "$@"
