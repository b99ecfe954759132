#!/bin/bash
# Unit tests for initramfs/init: runs the real script with BusyBox sh against a
# fake $ROOT tree (fake /proc/cmdline, /sys/class/block/*/uevent, device files
# that are real squashfs images made here with mksquashfs) and tests/mock.sh for
# the hardware commands. Prints "N passed, M failed"; exits 1 on any failure.
#
#   initramfs/tests/run.sh [-v] [TEST_NAME...]
# Needs: busybox (BUSYBOX=..., default: trixie's busybox-static from the
# initramfs cache, else the host's /bin/busybox), mksquashfs, unsquashfs.
set -uo pipefail
# The tests set their own timestamps; a SOURCE_DATE_EPOCH from make would make mksquashfs refuse them.
unset SOURCE_DATE_EPOCH

HERE=$(cd "$(dirname "$0")" && pwd)
INIT=$HERE/../init
VERBOSE=0
[ "${1:-}" = -v ] && { VERBOSE=1; shift; }

pick_busybox() {
	local c
	for c in "${BUSYBOX:-}" "${QX_CACHE:-/var/cache/quantix-os}/initramfs-busybox/busybox" /bin/busybox /usr/bin/busybox; do
		[ -n "$c" ] && [ -x "$c" ] && { echo "$c"; return 0; }
	done
	echo "run.sh: no busybox found (set BUSYBOX=)" >&2
	exit 2
}

WORK=$(mktemp -d /tmp/qx-initramfs-test.XXXXXX)
# The layout (GPT names, ISO path) as the builder puts it into the initramfs.
npx --no-install tsx "$(dirname "$0")/../../packages/core/src/cli/qx-layout.ts" --shell >"$WORK/layout.env"
trap 'rm -rf "$WORK"' EXIT

# --- fixtures ----------------------------------------------------------------
setup_fixtures() {
	local bb
	bb=$(pick_busybox)
	# PATH with BusyBox applets only, as in the initramfs.
	mkdir -p "$WORK/bin"
	ln -s "$bb" "$WORK/bin/busybox"
	for a in $("$bb" --list); do ln -sf "$bb" "$WORK/bin/$a"; done
	# The tree a mocked squashfs mount shows (what the overlay gets).
	mkdir -p "$WORK/fake-root/sbin" "$WORK/fake-root/etc"
	printf '#!/bin/sh\necho QX-TEST-ROOT-OK\n' >"$WORK/fake-root/sbin/init"
	chmod +x "$WORK/fake-root/sbin/init"
	# A real squashfs, and a partition image = squashfs + junk after it.
	mksquashfs "$WORK/fake-root" "$WORK/system.squashfs" -noappend -quiet -all-root \
		-mkfs-time 0 -comp gzip >/dev/null
	SQ_BYTES=$(unsquashfs -s "$WORK/system.squashfs" | sed -n 's/^Filesystem size \([0-9]*\) bytes.*/\1/p')
	cp "$WORK/system.squashfs" "$WORK/slot.img"
	head -c 20000 /dev/urandom >>"$WORK/slot.img"
	# An ISO9660 primary volume descriptor with label QX_LIVE_TEST at sector 16.
	make_iso "$WORK/live.iso" QX_LIVE_TEST
	mkdir -p "$WORK/iso-tree/quantix"
	cp "$WORK/system.squashfs" "$WORK/iso-tree/quantix/system.squashfs"
}

make_iso() { # FILE LABEL
	{
		head -c $((16 * 2048)) /dev/zero
		printf '\001CD001\001\000'
		printf '%-32s' LINUX
		printf '%-32s' "$2"
		head -c $((2048 - 8 - 64)) /dev/zero
	} >"$1"
}

# new_root: a fresh fake $ROOT with disk vda (partitions as in the layout).
new_root() {
	R=$WORK/t/$TEST/root
	rm -rf "$WORK/t/$TEST"
	mkdir -p "$R/proc/sys/kernel" "$R/sys/class/block" "$R/dev" "$R/run" "$R/etc/quantix"
	echo "12.34 1.00" >"$R/proc/uptime"
	: >"$R/proc/sys/kernel/modprobe"
	cp "$HERE/../../profiles/quantix/mkinitfs.conf" "$R/etc/quantix/mkinitfs.conf"
	cat "$WORK/layout.env" >"$R/etc/quantix/layout.env"
	echo "QX_DEVICE_TIMEOUT=1" >>"$R/etc/quantix/layout.env"
	add_disk vda
	add_part vda1 QX_EFI /dev/null
	add_part vda2 QX_SYSTEM_A "$WORK/slot.img"
	add_part vda3 QX_SYSTEM_B ""
	add_part vda4 QX_CONFIG ""
	add_part vda5 QX_DATA ""
	LOG=$WORK/t/$TEST/mock.log
	OUT=$WORK/t/$TEST/out
	: >"$LOG"
}

add_disk() { # NAME
	mkdir -p "$R/sys/class/block/$1"
	printf 'MAJOR=253\nMINOR=0\nDEVNAME=%s\nDEVTYPE=disk\n' "$1" >"$R/sys/class/block/$1/uevent"
	: >"$R/dev/$1"
}

add_part() { # NAME PARTNAME CONTENT-FILE(empty: 1 MiB of zeros)
	mkdir -p "$R/sys/class/block/$1"
	printf 'MAJOR=253\nMINOR=1\nDEVNAME=%s\nDEVTYPE=partition\nPARTN=1\nPARTNAME=%s\n' "$1" "$2" \
		>"$R/sys/class/block/$1/uevent"
	if [ -n "$3" ]; then cp "$3" "$R/dev/$1"; else head -c 1048576 /dev/zero >"$R/dev/$1"; fi
	echo $((($(stat -c %s "$R/dev/$1") + 511) / 512)) >"$R/sys/class/block/$1/size"
}

drop_part() { rm -rf "$R/sys/class/block/$1" "$R/dev/$1"; }

# run_init CMDLINE [ENV...]: runs the init; sets RC, OUT (console), LOG (mocks).
run_init() {
	echo "$1" >"$R/proc/cmdline"
	shift
	env -i PATH="$WORK/bin" ROOT="$R" MOCK="$HERE/mock.sh" MOCK_LOG="$LOG" MOCK_DIR="$WORK" "$@" \
		"$WORK/bin/busybox" sh "$INIT" >"$OUT" 2>&1 </dev/null
	RC=$?
	[ "$VERBOSE" = 1 ] && sed "s/^/    [$TEST] /" "$OUT"
	return 0
}

# --- assertions ----------------------------------------------------------------
FAILS=0
fail() { echo "  FAIL [$TEST]: $*"; FAILS=$((FAILS + 1)); }
out_has() { grep -qF -- "$1" "$OUT" || fail "console lacks '$1'"; }
out_lacks() { ! grep -qF -- "$1" "$OUT" || fail "console has '$1'"; }
log_has() { grep -qF -- "$1" "$LOG" || fail "mock log lacks '$1'"; }
log_lacks() { ! grep -qF -- "$1" "$LOG" || fail "mock log has '$1'"; }
status_is() { # KEY VALUE
	local f=$R/run/quantix/initramfs.status
	[ -f "$f" ] || { fail "no initramfs.status"; return; }
	grep -qxF "$1='$2'" "$f" || fail "status $1 is '$(sed -n "s/^$1=//p" "$f")', want '$2'"
}
env_is() { # KEY VALUE in cmdline.env
	grep -qxF "$1='$2'" "$R/run/quantix/cmdline.env" 2>/dev/null || fail "cmdline.env $1 != '$2'"
}
booted() { [ "$RC" = 0 ] || fail "exit code $RC"; log_has "switch_root @ROOT/newroot /sbin/init"; log_lacks "reboot"; out_lacks "FATAL"; }
one_fatal() { # PATTERN
	[ "$(grep -c '^qx-init: FATAL: ' "$OUT")" = 1 ] || fail "want exactly one FATAL line"
	out_has "qx-init: FATAL: $1"
	log_lacks "switch_root"
	[ "$(tail -n1 "$LOG")" = "reboot -f" ] || fail "last mock call is '$(tail -n1 "$LOG")', want 'reboot -f'"
}

# --- tests ---------------------------------------------------------------------
test_boot_slot_a() {
	run_init "console=ttyS0 qx.slot=A panic=10"
	booted
	status_is QX_SLOT A
	status_is QX_SOURCE /dev/vda2
	status_is QX_CONFIG mounted
	status_is QX_WATCHDOG none
	log_has "mount -t squashfs -o ro,loop @ROOT/run/qx/system.squashfs @ROOT/run/qx/lower"
	log_has "mount -t overlay -o lowerdir=@ROOT/run/qx/lower,upperdir=@ROOT/run/qx/rw/upper,workdir=@ROOT/run/qx/rw/work overlay @ROOT/newroot"
	log_has "mount -t ext4 -o rw,noatime @ROOT/dev/vda4 @ROOT/newroot/quantix"
	[ "$(cat "$R/proc/sys/kernel/modprobe")" = /sbin/modprobe ] || fail "kernel.modprobe not set"
	[ "$(grep -c '^qx-init: ' "$OUT")" -le 8 ] || fail "too chatty: $(grep -c '^qx-init: ' "$OUT") lines"
}

test_stage_lines_prefixed() {
	run_init "qx.slot=A"
	if grep -v '^qx-init: ' "$OUT" | grep -q .; then fail "unprefixed console output: $(grep -v '^qx-init: ' "$OUT" | head -n1)"; fi
}

test_mounts_moved_run_first() {
	run_init "qx.slot=A"
	booted
	[ "$(grep -- '--move' "$LOG" | head -n1)" = "mount --move @ROOT/run @ROOT/newroot/run" ] || fail "first move is not /run"
	for m in dev sys proc; do log_has "mount --move @ROOT/$m @ROOT/newroot/$m"; done
	[ -f "$R/run/qx/system.squashfs" ] || fail "RAM copy not under /run/qx"
	[ -f "$R/run/quantix/initramfs.status" ] || fail "status not under /run/quantix"
	grep -q "^QX_T_INIT_MS='[0-9]*'" "$R/run/quantix/initramfs.status" || fail "no timing"
}

test_allow_list() {
	run_init "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 quiet qx.slot=A qx.foo=1 qx.slotx=B qx.install=/dev/nvme0n1 qx.install.yes qx.live=0 ROOT=/evil"
	booted
	out_has "qx-init: warning: ignoring unknown kernel option 'qx.foo=1'"
	out_has "qx-init: warning: ignoring unknown kernel option 'qx.slotx=B'"
	out_lacks "root=/dev/sda1"
	env_is QX_SLOT A
	env_is QX_INSTALL /dev/nvme0n1
	env_is QX_INSTALL_YES 1
	env_is QX_LIVE 0
	grep -q foo "$R/run/quantix/cmdline.env" && fail "unknown option leaked into cmdline.env"
	return 0
}

test_install_value_validated() {
	run_init "qx.slot=A qx.install=/dev/sda;reboot"
	booted
	out_has "ignoring qx.install="
	env_is QX_INSTALL ""
}

test_bad_slot_rejected() {
	run_init "qx.slot=C"
	one_fatal "qx.slot=C is invalid (must be A or B)"
	log_has "sleep 5"
	[ "$RC" != 0 ] || fail "exit code 0 after FATAL"
}

test_lowercase_slot_rejected() {
	run_init "qx.slot=a"
	one_fatal "qx.slot=a is invalid"
}

test_missing_slot_option() {
	run_init "console=ttyS0"
	one_fatal "qx.slot=A|B missing"
}

test_watchdog_value_validated() {
	run_init "qx.slot=A qx.trying=1 qx.watchdog=10"
	booted
	out_has "ignoring qx.watchdog=10: must be 30..65535"
	log_lacks "modprobe i6300esb"
	status_is QX_WATCHDOG none
	run_init "qx.slot=A qx.trying=1 qx.watchdog=99999999999999999999"
	out_has "must be 30..65535"
	run_init "qx.slot=A qx.trying=1 qx.watchdog=60s"
	out_has "not a number"
}

test_partname_lookup() {
	# Disk order and names unrelated to the slot; slot B lives on sdb3.
	drop_part vda3
	add_disk sdb
	add_part sdb1 OTHER_DATA ""
	add_part sdb3 QX_SYSTEM_B "$WORK/slot.img"
	run_init "qx.slot=B"
	booted
	status_is QX_SLOT B
	status_is QX_SOURCE /dev/sdb3
	log_has "dd if=@ROOT/dev/sdb3 of=@ROOT/run/qx/system.squashfs bs=1048576 count=$((($SQ_BYTES + 4095) / 4096 * 4096)) iflag=count_bytes,fullblock"
}

test_partition_waited_for() {
	# The slot appears only after the init started polling (asynchronous probe).
	mv "$R/sys/class/block/vda2" "$WORK/t/$TEST/late-vda2"
	cat >"$WORK/t/$TEST/appear.sh" <<EOF
#!/bin/sh
n=\$(grep -c usleep "$LOG")
[ "\$n" -ge 3 ] && [ -d "$WORK/t/$TEST/late-vda2" ] && mv "$WORK/t/$TEST/late-vda2" "$R/sys/class/block/vda2"
exec "$HERE/mock.sh" "\$@"
EOF
	chmod +x "$WORK/t/$TEST/appear.sh"
	echo "qx.slot=A" >"$R/proc/cmdline"
	env -i PATH="$WORK/bin" ROOT="$R" MOCK="$WORK/t/$TEST/appear.sh" MOCK_LOG="$LOG" MOCK_DIR="$WORK" \
		"$WORK/bin/busybox" sh "$INIT" >"$OUT" 2>&1 </dev/null
	RC=$?
	booted
	[ "$(grep -c '^usleep 100000' "$LOG")" -ge 3 ] || fail "did not poll"
	grep -q '^sleep' "$LOG" && fail "slept blindly"
	return 0
}

test_bytes_used_copied_exactly() {
	local want=$((($SQ_BYTES + 4095) / 4096 * 4096)) got
	run_init "qx.slot=A"
	booted
	[ "$SQ_BYTES" -gt 0 ] || fail "fixture: no bytes_used from unsquashfs"
	status_is QX_SQUASHFS_BYTES "$SQ_BYTES"
	got=$(stat -c %s "$R/run/qx/system.squashfs")
	[ "$got" = "$want" ] || fail "RAM copy is $got bytes, want $want"
	cmp -s -n "$want" "$R/run/qx/system.squashfs" "$WORK/slot.img" || fail "RAM copy differs from the slot"
	unsquashfs -s "$R/run/qx/system.squashfs" >/dev/null 2>&1 || fail "RAM copy is not a valid squashfs"
}

test_missing_slot_partition() {
	drop_part vda3
	run_init "qx.slot=B"
	one_fatal "no partition named QX_SYSTEM_B after 1s"
	log_has "sleep 5"
}

test_not_a_squashfs() {
	run_init "qx.slot=B"   # vda3 is zeros (an empty slot)
	one_fatal "slot B (/dev/vda3) holds no valid squashfs (no squashfs magic 'hsqs' at offset 0)"
}

test_truncated_slot() {
	# bytes_used patched to 1 GiB: more than the partition holds.
	printf '\000\000\000\100\000\000\000\000' | dd of="$R/dev/vda2" bs=1 seek=40 conv=notrunc 2>/dev/null
	run_init "qx.slot=A"
	one_fatal "slot A squashfs claims 1073741824 bytes but /dev/vda2 has only"
	out_has "the image is truncated"
}

test_copy_capped_at_partition_end() {
	# A partition that ends right after bytes_used (not 4 KiB aligned) still boots.
	local sectors=$((($SQ_BYTES + 511) / 512))
	head -c $((sectors * 512)) "$WORK/slot.img" >"$R/dev/vda2"
	echo "$sectors" >"$R/sys/class/block/vda2/size"
	run_init "qx.slot=A"
	booted
	status_is QX_SQUASHFS_BYTES "$SQ_BYTES"
	[ "$(stat -c %s "$R/run/qx/system.squashfs")" = $((sectors * 512)) ] || fail "copy not capped"
}

test_debug_shell_instead_of_reboot_delay() {
	run_init "qx.slot=C qx.debug"
	out_has "qx-init: FATAL: qx.slot=C is invalid"
	log_has "setsid cttyhack sh"
	log_lacks "sleep 5"
	out_has "starting a shell"
}

test_watchdog_armed_when_trying() {
	run_init "qx.slot=A qx.trying=1 qx.watchdog=120"
	booted
	log_has "modprobe i6300esb heartbeat=120"
	log_lacks "modprobe softdog"
	status_is QX_WATCHDOG i6300esb
	status_is QX_WATCHDOG_TIMEOUT 120
	[ "$(cat "$R/dev/watchdog")" = 1 ] || fail "/dev/watchdog not written"
	grep -q V "$R/dev/watchdog" && fail "magic close written"
	return 0
}

test_watchdog_softdog_fallback() {
	run_init "qx.slot=A qx.trying=1 qx.watchdog=90" MOCK_WATCHDOG_OK=softdog
	booted
	log_has "modprobe i6300esb heartbeat=90"
	log_has "modprobe softdog soft_margin=90"
	status_is QX_WATCHDOG softdog
}

test_watchdog_none_available() {
	run_init "qx.slot=A qx.trying=1 qx.watchdog=90" MOCK_FAIL="modprobe-i6300esb modprobe-softdog"
	booted
	status_is QX_WATCHDOG none:no-driver
	out_has "trial boot without a watchdog"
}

test_watchdog_not_armed_when_not_trying() {
	run_init "qx.slot=A qx.watchdog=120"
	booted
	log_lacks "i6300esb"
	log_lacks "softdog"
	status_is QX_WATCHDOG none
	[ -e "$R/dev/watchdog" ] && fail "/dev/watchdog touched"
	return 0
}

test_modules_from_conf() {
	run_init "qx.slot=A"
	booted
	log_has "modprobe -a virtio_pci virtio_blk"
	grep '^modprobe -a' "$LOG" | grep -q 'crc32c_generic ext4' || fail "crc32c_generic not before ext4"
	grep '^modprobe -a' "$LOG" | grep -qE 'i6300esb|softdog' && fail "ondemand module loaded at boot"
	return 0
}

test_module_failure_is_warning() {
	run_init "qx.slot=A" MOCK_FAIL="modprobe-all"
	out_has "warning: module virtio_blk did not load"
	booted
}

test_config_missing_still_boots() {
	drop_part vda4
	run_init "qx.slot=A"
	booted
	status_is QX_CONFIG missing
	out_has "no partition named QX_CONFIG"
}

test_config_mount_error_recorded() {
	run_init "qx.slot=A" MOCK_FAIL="mount-ext4"
	booted
	status_is QX_CONFIG "error:mount /dev/vda4 failed: mount: mounting failed: Invalid argument"
}

test_overlay_failure_fatal() {
	run_init "qx.slot=A" MOCK_FAIL="mount-overlay"
	one_fatal "cannot mount the overlay root"
}

test_live_finds_medium() {
	add_disk sr0
	cp "$WORK/live.iso" "$R/dev/sr0"
	add_disk sdc
	make_iso "$R/dev/sdc" OTHER_ISO
	run_init "qx.live=1 qx.media=QX_LIVE_TEST qx.install=/dev/vda" MOCK_ISO_TREE="$WORK/iso-tree"
	booted
	log_has "mount -t iso9660 -o ro @ROOT/dev/sr0 @ROOT/run/qx/media"
	log_has "umount @ROOT/run/qx/media"
	log_lacks "QX_SYSTEM"
	status_is QX_LIVE 1
	status_is QX_SOURCE /dev/sr0:/quantix/system.squashfs
	status_is QX_CONFIG skipped:live
	status_is QX_SQUASHFS_BYTES "$SQ_BYTES"
	env_is QX_MEDIA QX_LIVE_TEST
	env_is QX_INSTALL /dev/vda
	cmp -s "$R/run/qx/system.squashfs" "$WORK/system.squashfs" || fail "live image not copied"
}

test_live_wrong_label() {
	add_disk sr0
	cp "$WORK/live.iso" "$R/dev/sr0"
	run_init "qx.live=1 qx.media=NOPE" MOCK_ISO_TREE="$WORK/iso-tree"
	one_fatal "no ISO9660 medium labelled 'NOPE'"
}

test_live_needs_media_label() {
	run_init "qx.live=1"
	one_fatal "qx.live=1 needs qx.media=LABEL"
}

test_env_ignored_as_pid1_guard() {
	# ROOT/MOCK come from the environment only when not PID 1; check the guard exists.
	grep -q 'if \[ "\$\$" = 1 \]; then' "$INIT" || fail "no PID-1 guard for ROOT/MOCK"
}

# --- runner --------------------------------------------------------------------
setup_fixtures
PASSED=0 FAILED=0
TESTS=${*:-$(declare -F | awk '$3 ~ /^test_/ {print $3}')}
for t in $TESTS; do
	TEST=${t#test_}
	new_root
	before=$FAILS
	"test_$TEST"
	if [ "$FAILS" = "$before" ]; then
		PASSED=$((PASSED + 1))
		[ "$VERBOSE" = 1 ] && echo "  ok   $TEST"
	else
		FAILED=$((FAILED + 1))
		sed "s/^/    console: /" "$OUT" | head -n 20
	fi
done
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
