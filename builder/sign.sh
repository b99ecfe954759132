#!/usr/bin/env bash
# builder/sign.sh — checksums and OpenPGP signatures of the build outputs.
#
#   builder/sign.sh pubkey DIR    write the trusted public key to DIR/etc/quantix/keys/
#                                 (an overlay baked into the image: the node trusts it)
#   builder/sign.sh sign FILE...  FILE.sha256 (sha256sum -c format) and FILE.sig
#                                 (detached, binary; gpg --verify FILE.sig FILE)
#
# The key is QX_SIGN_KEY: an armored OpenPGP secret key file. Without it, a
# development key is generated once under $QX_CACHE/signing/ and used, with a warning:
# images signed by it are trusted only by images built with it.
. "$(dirname "$0")/lib.sh"

dev_key() {
	local dir=$QX_CACHE/signing key
	key=$dir/dev-signing-key.asc
	if [ ! -s "$key" ]; then
		mkdir -p "$dir" && chmod 700 "$dir"
		local home
		home=$(mktemp -d)
		gpg --homedir "$home" --batch --quiet --passphrase '' \
			--quick-gen-key "Quantix-OS development build key <dev@quantix.invalid>" ed25519 sign never
		gpg --homedir "$home" --batch --armor --export-secret-keys >"$key.tmp"
		mv "$key.tmp" "$key"
		rm -rf "$home"
		log "generated a development signing key: $key"
	fi
	printf '%s\n' "$key"
}

signing_key() {
	if [ -n "${QX_SIGN_KEY:-}" ]; then
		[ -s "$QX_SIGN_KEY" ] || die "QX_SIGN_KEY=$QX_SIGN_KEY is not a readable key file"
		printf '%s\n' "$QX_SIGN_KEY"
	else
		dev_key
	fi
}

with_keyring() {
	local home
	home=$(mktemp -d)
	on_exit rm -rf "$home"
	gpg --homedir "$home" --batch --quiet --import "$(signing_key)" 2>/dev/null || die "cannot import the signing key"
	GNUPGHOME=$home "$@"
}

export_pubkey() {
	mkdir -p "$1/etc/quantix/keys"
	gpg --batch --armor --export >"$1/etc/quantix/keys/quantix-release.asc"
	[ -s "$1/etc/quantix/keys/quantix-release.asc" ] || die "no public key exported"
	log "trusted key: $(gpg --batch --with-colons --fingerprint | awk -F: '/^fpr/ { print $10; exit }')"
}

sign_files() {
	local f
	for f in "$@"; do
		[ -s "$f" ] || die "nothing to sign: $f"
		(cd "$(dirname "$f")" && sha256sum "$(basename "$f")" >"$(basename "$f").sha256.tmp" \
			&& mv "$(basename "$f").sha256.tmp" "$(basename "$f").sha256")
		rm -f "$f.sig.tmp"
		gpg --batch --yes --detach-sign --output "$f.sig.tmp" "$f"
		mv "$f.sig.tmp" "$f.sig"
		log "$(basename "$f"): $(size_mib "$f") MiB, sha256 $(cut -c1-16 "$f.sha256")…, signed"
	done
}

case ${1:-} in
pubkey) [ $# -eq 2 ] || die "usage: $0 pubkey DIR"; with_keyring export_pubkey "$2" ;;
sign) shift; [ $# -ge 1 ] || die "usage: $0 sign FILE..."; with_keyring sign_files "$@" ;;
*) die "usage: $0 pubkey DIR | sign FILE..." ;;
esac
