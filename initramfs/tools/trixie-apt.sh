#!/bin/bash
# trixie-apt.sh - download Debian trixie .debs with a private apt config, on the
# Debian mirror the host is already configured for (no host name is hard-coded).
#
# Sourced by builder/initramfs.sh and initramfs/tests/qemu-smoke.sh.
#   trixie_download PKG...   -> prints the paths of the downloaded .debs
#   QX_CACHE (default /var/cache/quantix-os) holds the apt state and .debs.

# host_debian_mirror: the first non-security Debian URI in the host's apt sources.
host_debian_mirror() {
	local f uri
	for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		uri=$(sed -n -e 's/^URIs:[[:space:]]*//p' -e 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$f" |
			tr ' ' '\n' | grep -E '/debian/?$' | grep -v security | head -n1) || true
		if [ -n "$uri" ]; then
			printf '%s\n' "${uri%/}"
			return 0
		fi
	done
	echo "trixie-apt: no Debian mirror found in the host's apt sources" >&2
	return 1
}

# trixie_apt_setup: private apt tree under $QX_CACHE/apt-trixie; runs apt-get update once a day.
trixie_apt_setup() {
	local cache=${QX_CACHE:-/var/cache/quantix-os} mirror keyring
	TRIXIE_APT_DIR=$cache/apt-trixie
	mkdir -p "$TRIXIE_APT_DIR"/{lists/partial,archives/partial,etc/preferences.d} "$cache/initramfs-debs"
	mirror=$(host_debian_mirror)
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	[ -r /usr/share/keyrings/debian-archive-trixie-stable.gpg ] && keyring=/usr/share/keyrings/debian-archive-trixie-stable.gpg
	cat >"$TRIXIE_APT_DIR/etc/sources.list" <<EOS
deb [signed-by=$keyring] $mirror trixie main
EOS
	cat >"$TRIXIE_APT_DIR/apt.conf" <<EOS
Dir::State "$TRIXIE_APT_DIR";
Dir::State::Lists "$TRIXIE_APT_DIR/lists";
Dir::State::status "/dev/null";
Dir::Cache "$TRIXIE_APT_DIR";
Dir::Cache::archives "$TRIXIE_APT_DIR/archives";
Dir::Etc::SourceList "$TRIXIE_APT_DIR/etc/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "/nonexistent";
Dir::Etc::PreferencesParts "$TRIXIE_APT_DIR/etc/preferences.d";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
Acquire::Languages "none";
APT::Sandbox::User "root";
EOS
	export APT_CONFIG=$TRIXIE_APT_DIR/apt.conf
	if [ -z "$(find "$TRIXIE_APT_DIR/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null)" ]; then
		apt-get -q update >&2
	fi
}

# trixie_download PKG...: fetch the candidate .deb of each package into $QX_CACHE/debs
# (reused when already there); prints one path per package.
trixie_download() {
	local cache=${QX_CACHE:-/var/cache/quantix-os} pkg ver file
	( trixie_apt_setup
	for pkg in "$@"; do
		ver=$(apt-cache policy "$pkg" | sed -n 's/^  Candidate: //p')
		[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "trixie-apt: $pkg not found in trixie" >&2; exit 1; }
		file=$(ls "$cache/initramfs-debs/${pkg}_"*"${ver#*:}_"*.deb 2>/dev/null | head -n1 || true)
		if [ -z "$file" ]; then
			(cd "$cache/initramfs-debs" && apt-get -q download "$pkg=$ver" >&2)
			file=$(ls "$cache/initramfs-debs/${pkg}_"*"${ver#*:}_"*.deb | head -n1)
		fi
		printf '%s\n' "$file"
	done )
}

# trixie_depends_kernel: the versioned image package linux-image-amd64 points to.
trixie_kernel_package() {
	( trixie_apt_setup
	apt-cache depends linux-image-amd64 | sed -n 's/^  Depends: \(linux-image-[0-9].*\)/\1/p' | head -n1 )
}
