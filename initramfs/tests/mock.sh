#!/bin/sh
# mock.sh - stands in for the hardware-touching commands of initramfs/init.
# The init runs "$MOCK cmd args..."; this logs "cmd args" (with $ROOT shown as
# @ROOT) to $MOCK_LOG and fakes or forwards the command. Knobs (environment):
#   MOCK_FAIL        space-separated words: "mount-ext4", "mount-squashfs",
#                    "mount-overlay", "modprobe-i6300esb", "modprobe-softdog", "modprobe-all"
#   MOCK_WATCHDOG_OK drivers whose load makes /dev/watchdog appear (default: i6300esb softdog)
#   MOCK_ISO_TREE    directory whose content a "mount -t iso9660" shows
#   MOCK_SQUASHFS_TREE directory a "mount -t squashfs" shows (default: a tree with sbin/init)
: "${MOCK_LOG:?}" "${ROOT:?}"
cmd=$1
shift
echo "$cmd $*" | sed "s|$ROOT|@ROOT|g" >>"$MOCK_LOG"

fails() { case " $MOCK_FAIL " in *" $1 "*) return 0 ;; esac; return 1; }

case $cmd in
mount)
	type= target=
	while [ $# -gt 0 ]; do
		case $1 in
		-t) type=$2; shift ;;
		-o) shift ;;
		--move) type=move ;;
		*) target=$1 ;;
		esac
		shift
	done
	case $type in
	ext4) fails mount-ext4 && { echo "mount: mounting failed: Invalid argument" >&2; exit 32; } ;;
	squashfs)
		fails mount-squashfs && exit 32
		cp -a "${MOCK_SQUASHFS_TREE:-$MOCK_DIR/fake-root}/." "$target/" ;;
	overlay)
		fails mount-overlay && exit 32
		lower=$ROOT/run/qx/lower
		cp -a "$lower/." "$target/" ;;
	iso9660) [ -n "${MOCK_ISO_TREE:-}" ] && cp -a "$MOCK_ISO_TREE/." "$target/" ;;
	esac
	exit 0 ;;
modprobe)
	fails modprobe-all && exit 1
	case $1 in
	i6300esb | softdog)
		fails "modprobe-$1" && exit 1
		case " ${MOCK_WATCHDOG_OK-i6300esb softdog} " in
		*" $1 "*)
			mkdir -p "$ROOT/sys/class/watchdog/watchdog0"
			: >"$ROOT/dev/watchdog" ;;
		esac ;;
	esac
	exit 0 ;;
dd | head) exec "$cmd" "$@" ;;
sleep | usleep | umount | losetup | reboot | switch_root | setsid) exit 0 ;;
*) echo "mock.sh: unexpected command $cmd" >&2; exit 127 ;;
esac
