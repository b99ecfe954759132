#!/bin/bash
# qemu-smoke.sh - boot the real initramfs in QEMU (TCG) against a test disk.
#
#   initramfs/tests/qemu-smoke.sh [OUTDIR]
#
# Kernel + modules: /work/main/build/rootfs when another step built it (read
# only), else Debian trixie's linux-image .deb (apt-get download, cached in
# $QX_CACHE/kernel-trixie, depmod run there). Builds the initramfs with
# builder/initramfs.sh, a GPT disk (QX_EFI, QX_SYSTEM_A, QX_SYSTEM_B, QX_CONFIG,
# QX_DATA; small sizes) whose slot A holds a raw test squashfs, and boots:
#   1. qx.slot=A                      -> expects QX-TEST-ROOT-OK, prints timings
#   2. qx.slot=B (empty slot)         -> expects one FATAL line, then a reboot
#   3. qx.slot=A qx.trying=1 qx.watchdog=60 with an i6300esb -> watchdog armed
# Exits non-zero when a scenario fails.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
QX_CACHE=${QX_CACHE:-/var/cache/quantix-os}
OUT=${1:-$(mktemp -d /tmp/qx-smoke.XXXXXX)}
TIMEOUT=${QX_SMOKE_TIMEOUT:-240}
mkdir -p "$OUT"
. "$REPO/initramfs/tools/trixie-apt.sh"

log() { echo "qemu-smoke: $*"; }

# kernel_tree: prints a directory with boot/vmlinuz-* and lib/modules/<kver>.
kernel_tree() {
	local shared=$REPO/build/rootfs dir=$QX_CACHE/kernel-trixie pkg deb kver
	if ls "$shared"/boot/vmlinuz-* >/dev/null 2>&1 && ls -d "$shared"/lib/modules/*/modules.dep >/dev/null 2>&1; then
		echo "$shared"
		return 0
	fi
	if ! ls "$dir"/boot/vmlinuz-* >/dev/null 2>&1; then
		pkg=$(trixie_kernel_package 2>/dev/null)
		deb=$(trixie_download "$pkg" | tail -n1)
		mkdir -p "$dir"
		dpkg-deb -x "$deb" "$dir"
	fi
	[ -e "$dir/lib" ] || ln -s usr/lib "$dir/lib"
	kver=$(basename "$(ls -d "$dir"/usr/lib/modules/* | head -n1)")
	[ -f "$dir/lib/modules/$kver/modules.dep" ] || depmod -b "$dir" "$kver" >&2
	echo "$dir"
}

# make_test_root DIR: a tiny root whose /sbin/init reports and powers off.
make_test_root() {
	local d=$1
	mkdir -p "$d/bin" "$d/sbin" "$d/proc" "$d/sys" "$d/dev" "$d/run" "$d/tmp" "$d/quantix"
	cp "$QX_CACHE/initramfs-busybox/busybox" "$d/bin/busybox"
	cat >"$d/sbin/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox echo "QX-TEST-ROOT-OK uptime=$(/bin/busybox cut -d' ' -f1 /proc/uptime)"
/bin/busybox echo "--- mounts"
/bin/busybox cat /proc/mounts
/bin/busybox echo "--- /run/quantix/initramfs.status"
/bin/busybox cat /run/quantix/initramfs.status
/bin/busybox echo "--- /run/quantix/cmdline.env"
/bin/busybox cat /run/quantix/cmdline.env
/bin/busybox echo "--- /run/qx"
/bin/busybox ls -l /run/qx
/bin/busybox echo "--- /quantix"
/bin/busybox ls /quantix
[ -e /dev/watchdog ] && /bin/busybox echo V >/dev/watchdog
/bin/busybox echo "QX-TEST-END"
/bin/busybox poweroff -f
EOF
	chmod 0755 "$d/sbin/init"
}

# make_disk IMG SQUASHFS: GPT per docs/architecture.md (small sizes).
make_disk() {
	local img=$1 sq=$2 start
	rm -f "$img"
	truncate -s 64M "$img"
	sgdisk -o \
		-n 1:2048:+4M -t 1:EF00 -c 1:QX_EFI \
		-n 2:0:+16M -t 2:8300 -c 2:QX_SYSTEM_A \
		-n 3:0:+16M -t 3:8300 -c 3:QX_SYSTEM_B \
		-n 4:0:+16M -t 4:8300 -c 4:QX_CONFIG \
		-n 5:0:0 -t 5:8300 -c 5:QX_DATA "$img" >/dev/null
	start=$(sgdisk -i 2 "$img" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
	dd if="$sq" of="$img" bs=512 seek="$start" conv=notrunc status=none
	start=$(sgdisk -i 4 "$img" | sed -n 's/^First sector: \([0-9]*\).*/\1/p')
	mkdir -p "$OUT/config"
	echo "smoke test" >"$OUT/config/node.yaml"
	mkfs.ext4 -q -F -L QX_CONFIG -E offset=$((start * 512)) -d "$OUT/config" "$img" 16M
}

# boot NAME APPEND [QEMU ARGS...]: serial log with elapsed seconds per line.
boot() {
	local name=$1 append=$2 t0
	shift 2
	log "boot $name: $append"
	t0=$EPOCHREALTIME
	timeout "$TIMEOUT" qemu-system-x86_64 -accel tcg -machine q35 -m 1024 -smp 2 -nographic \
		-kernel "$VMLINUZ" -initrd "$OUT/initramfs.img" -append "$append" \
		-drive "file=$OUT/disk.img,if=virtio,format=raw" -no-reboot "$@" </dev/null 2>&1 |
		while IFS= read -r line; do
			printf '%7.2f %s\n' "$(echo "$EPOCHREALTIME - $t0" | bc)" "${line%$'\r'}"
		done >"$OUT/$name.log" || true
}

elapsed_at() { grep -m1 -F -- "$2" "$OUT/$1.log" | awk '{print $1}'; }

main() {
	local ktree fails=0 t
	ktree=$(kernel_tree)
	VMLINUZ=$(ls "$ktree"/boot/vmlinuz-* | head -n1)
	log "kernel $VMLINUZ"
	"$REPO/builder/initramfs.sh" "$ktree" "$OUT/initramfs.img"
	rm -rf "$OUT/root"
	make_test_root "$OUT/root"
	mksquashfs "$OUT/root" "$OUT/test.squashfs" -noappend -quiet -all-root -comp xz >/dev/null
	make_disk "$OUT/disk.img" "$OUT/test.squashfs"

	boot slot-a "console=ttyS0 qx.slot=A panic=10"
	if grep -q QX-TEST-ROOT-OK "$OUT/slot-a.log"; then
		log "slot A: PASS - QX-TEST-ROOT-OK at $(elapsed_at slot-a QX-TEST-ROOT-OK) s after QEMU start"
		log "  first qx-init line at $(elapsed_at slot-a 'qx-init:') s; $(grep -o "QX_T_INIT_MS='[0-9]*'" "$OUT/slot-a.log") (kernel uptime at init start: $(grep -o "QX_T_INIT_START_MS='[0-9]*'" "$OUT/slot-a.log"))"
		grep -E 'QX_CONFIG=|QX_SQUASHFS_BYTES=|QX-TEST-ROOT-OK' "$OUT/slot-a.log" | sed 's/^/    /'
	else
		log "slot A: FAIL (see $OUT/slot-a.log)"; fails=$((fails + 1))
	fi

	boot slot-b-empty "console=ttyS0 qx.slot=B panic=10"
	if [ "$(grep -c 'qx-init: FATAL:' "$OUT/slot-b-empty.log")" = 1 ] && grep -q 'reboot: Restarting system' "$OUT/slot-b-empty.log"; then
		log "empty slot B: PASS - $(grep -m1 'qx-init: FATAL:' "$OUT/slot-b-empty.log" | cut -c9-)"
		log "  reboot at $(elapsed_at slot-b-empty 'reboot: Restarting') s"
	else
		log "empty slot B: FAIL (see $OUT/slot-b-empty.log)"; fails=$((fails + 1))
	fi

	boot watchdog "console=ttyS0 qx.slot=A qx.trying=1 qx.watchdog=60 panic=10" -device i6300esb
	if grep -q "QX_WATCHDOG='i6300esb'" "$OUT/watchdog.log"; then
		log "watchdog: PASS - i6300esb armed ($(grep -m1 'watchdog armed' "$OUT/watchdog.log" | cut -c9-))"
	else
		log "watchdog: FAIL (see $OUT/watchdog.log)"; fails=$((fails + 1))
	fi
	log "logs in $OUT; initramfs $(stat -c %s "$OUT/initramfs.img") bytes"
	[ "$fails" = 0 ]
}

main "$@"
