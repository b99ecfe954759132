# shellcheck shell=bash
# builder/lib.sh — helpers shared by the Quantix-OS build steps.
#
# Source it from a step script:  . "$(dirname "$0")/lib.sh"
# Provides: die, log, step, require_root, require_tools, conf_lines, conf_get,
# mirror_url, qx_version, qx_epoch, on_exit, mount_bind, mount_chroot,
# run_chroot, size_mib, top_contributors.

set -Eeuo pipefail

QX_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QX_PROFILE_DIR=${QX_PROFILE_DIR:-$QX_TOP/profiles/quantix}
QX_CACHE=${QX_CACHE:-/var/cache/quantix-os}
QX_SUITE=${QX_SUITE:-trixie}
QX_ARCH_DEB=amd64

log() { printf '    %s\n' "$*" >&2; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# step NAME CMD... — run CMD, print "==> NAME" before and "<== NAME 12.3s" after.
# CMD runs under errexit (no "||" around it, which would disable set -e inside
# functions); a failure ends the script and the EXIT trap names the step.
QX_STEP=
step() {
	local name=$1 start
	shift
	printf '==> %s\n' "$name" >&2
	start=$(date +%s%N)
	QX_STEP=$name
	"$@"
	QX_STEP=
	printf '<== %s %ss\n' "$name" "$(elapsed "$start" "$(date +%s%N)")" >&2
}

require_root() {
	[ "$(id -u)" -eq 0 ] || die "$(basename "$0") must run as root (it uses chroot, mounts and debootstrap)"
}

require_tools() {
	local t missing=()
	for t in "$@"; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
	[ ${#missing[@]} -eq 0 ] || die "missing host tools: ${missing[*]} (apt-get install them)"
}

# conf_lines FILE — the data lines of a profile file: comments and blanks removed.
conf_lines() {
	[ -r "$1" ] || die "profile file not found: $1"
	sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

# conf_get KEY [DEFAULT] — a KEY=value from profile.conf (read as data, not sourced).
conf_get() {
	local v
	v=$(conf_lines "$QX_PROFILE_DIR/profile.conf" | sed -n "s/^$1=//p" | tail -n1)
	v=${v#\"}; v=${v%\"}
	if [ -z "$v" ]; then
		[ $# -ge 2 ] || die "profile.conf has no $1"
		v=$2
	fi
	printf '%s\n' "$v"
}

# mirror_url — QX_MIRROR, else the first Debian URI of the host's apt sources.
mirror_url() {
	if [ -n "${QX_MIRROR:-}" ]; then printf '%s\n' "$QX_MIRROR"; return; fi
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null \
		| awk '/^URIs:/ { for (i = 2; i <= NF; i++) print $i }' \
		| grep -v -- '-security' | head -n1 || true)
	if [ -z "$uri" ]; then
		uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
			| awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|file):/) { print $i; break } }' \
			| grep -v -- '-security' | head -n1 || true)
	fi
	[ -n "$uri" ] || die "no Debian mirror: set QX_MIRROR or configure /etc/apt/sources.list"
	printf '%s\n' "${uri%/}"
}

qx_version() {
	if [ -n "${VERSION:-}" ]; then printf '%s\n' "$VERSION"
	elif [ -r "$QX_TOP/VERSION" ]; then tr -d '[:space:]' <"$QX_TOP/VERSION"; echo
	else echo 0.1.0
	fi
}

# qx_epoch — SOURCE_DATE_EPOCH, else the last commit time, else now.
qx_epoch() {
	if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then printf '%s\n' "$SOURCE_DATE_EPOCH"; return; fi
	git -C "$QX_TOP" log -1 --format=%ct 2>/dev/null || date +%s
}

# Cleanup stack: on_exit CMD... registers CMD to run (last first) when the script exits.
QX_CLEANUPS=()
on_exit() { QX_CLEANUPS+=("$(printf '%q ' "$@")"); }
run_cleanups() {
	local rc=$? i
	set +e
	if [ "$rc" -ne 0 ]; then
		[ -z "$QX_FAILED" ] || printf 'ERROR: command failed (exit %d): %s\n' "$rc" "$QX_FAILED" >&2
		[ -z "$QX_STEP" ] || printf '<!! %s failed\n' "$QX_STEP" >&2
	fi
	for ((i = ${#QX_CLEANUPS[@]} - 1; i >= 0; i--)); do eval "${QX_CLEANUPS[i]}" 2>/dev/null; done
	QX_CLEANUPS=()
	return "$rc"
}
QX_FAILED=
trap 'QX_FAILED="$BASH_COMMAND (${BASH_SOURCE[0]##*/}:$LINENO)"' ERR
trap run_cleanups EXIT
trap 'exit 130' INT TERM

# mount_bind SRC DST — bind mount, unmounted (recursively, lazily) at exit.
mount_bind() {
	mkdir -p "$2"
	mount --rbind "$1" "$2"
	mount --make-rslave "$2"
	on_exit umount -R -l "$2"
}

# mount_chroot ROOT — proc, sys, dev (and dev/pts) for running tools in ROOT.
mount_chroot() {
	local root=$1
	mkdir -p "$root/proc" "$root/sys" "$root/dev"
	mount -t proc proc "$root/proc"
	on_exit umount -l "$root/proc"
	mount_bind /sys "$root/sys"
	mount_bind /dev "$root/dev"
}

# umount_under DIR — unmount anything still mounted at or below DIR.
umount_under() {
	local dir m
	dir=$(realpath -m "$1")
	awk -v d="$dir" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
		umount -l "$m" || true
	done
}

run_chroot() {
	local root=$1
	shift
	LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive DEBCONF_NONINTERACTIVE_SEEN=true \
		INITRD=No chroot "$root" "$@"
}

# size_mib FILE — size in MiB with one decimal.
size_mib() { awk -v b="$(stat -c %s "$1")" 'BEGIN { printf "%.1f\n", b / 1048576 }'; }

# top_contributors DIR [N] — the N biggest paths (files summed to 4 path levels,
# kernel modules to their subsystem) with apparent sizes in MiB.
top_contributors() {
	local dir=$1 n=${2:-20}
	find "$dir" -xdev -type f -printf '%i %s %P\n' | awk '
		seen[$1]++ { next }                       # count a hard-linked file once
		{
			size = $2; sub(/^[0-9]+ [0-9]+ /, "");
			k = split($0, p, "/"); depth = (p[2] == "lib" && p[3] == "modules") ? 6 : 4;
			key = p[1]; for (i = 2; i <= k && i <= depth; i++) key = key "/" p[i];
			sum[key] += size
		}
		END { for (k in sum) printf "%8.1f MiB  /%s\n", sum[k] / 1048576, k }' \
		| sort -rn | awk -v n="$n" 'NR <= n'
}
