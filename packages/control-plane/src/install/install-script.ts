// The script "Add a server" runs on a new machine: downloads the agent package over the pinned
// CA, checks it against the digest this server computed, installs it and connects with an
// onboarding token; when connecting fails, the package it installed is purged again.

export interface InstallScriptInputs {
  /** `https://HOST:PORT` the machine reaches this control plane at. */
  publicUrl: string;
  /** SHA-256 (hex) of the package served at INSTALL_PACKAGE_PATH. */
  packageSha256: string;
}

export const INSTALL_SCRIPT_PATH = '/install/azcmagent.sh';
export const INSTALL_PACKAGE_PATH = '/install/azcmagent_amd64.deb';

const TEMPLATE = `#!/bin/sh
# Installs the Tether agent from @URL@ and connects this machine with an onboarding token:
#   sh azcmagent.sh --ca-cert FILE --onboarding-token TOKEN [--name NAME] [--location REGION]
# The token may also come on standard input (--onboarding-token -).
set -eu

ENDPOINT='@URL@'
PACKAGE_SHA256='@SHA256@'

fail() {
	echo "tether install: $*" >&2
	exit 1
}

ca=''
token=''
name=''
location=''
while [ $# -gt 0 ]; do
	case "$1" in
	--ca-cert | --onboarding-token | --name | --location)
		[ $# -ge 2 ] || fail "$1 needs a value."
		case "$1" in
		--ca-cert) ca=$2 ;;
		--onboarding-token) token=$2 ;;
		--name) name=$2 ;;
		--location) location=$2 ;;
		esac
		shift 2
		;;
	*) fail "unknown option '$1'; expected --ca-cert, --onboarding-token, --name or --location." ;;
	esac
done
[ "$(id -u)" = 0 ] || fail "run this as root (sudo sh ...): it installs a package."
[ -n "$ca" ] && [ -r "$ca" ] || fail "--ca-cert must name the control plane's CA certificate file."
[ -n "$token" ] || fail "--onboarding-token is missing; create one with 'tether onboarding-token create'."
if [ "$token" = - ]; then
	IFS= read -r token || true
	[ -n "$token" ] || fail "no onboarding token on standard input."
fi
command -v dpkg >/dev/null 2>&1 || fail "this machine has no dpkg; the agent comes as a Debian package."
command -v curl >/dev/null 2>&1 || fail "curl is needed to download the agent (apt-get install curl)."

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if ! curl -fsS --cacert "$ca" -o "$work/azcmagent.deb" "$ENDPOINT@PACKAGE_PATH@"; then
	fail "could not download the agent from $ENDPOINT trusting only $ca: the server's certificate is not from that CA, or the server cannot be reached. Nothing was installed."
fi
echo "$PACKAGE_SHA256  $work/azcmagent.deb" | sha256sum -c --status ||
	fail "the downloaded package is not the one $ENDPOINT published (SHA-256 differs). Nothing was installed."

installed_before=no
if dpkg-query -W -f='\${Status}' azcmagent 2>/dev/null | grep -q 'ok installed'; then
	installed_before=yes
fi
undo() {
	if [ "$installed_before" = no ]; then
		dpkg --purge azcmagent >/dev/null 2>&1 || true
	fi
}
if ! dpkg --install "$work/azcmagent.deb" >"$work/dpkg.log" 2>&1; then
	cat "$work/dpkg.log" >&2
	undo
	fail "installing the agent package failed (above)."
fi
set -- --onboarding-token - --ca-cert "$ca"
[ -z "$name" ] || set -- "$@" --resource-name "$name"
[ -z "$location" ] || set -- "$@" --location "$location"
if ! printf '%s\\n' "$token" | azcmagent connect "$@"; then
	undo
	if [ "$installed_before" = no ]; then
		fail "connecting failed (above); the agent package was removed again, so this machine is as it was."
	fi
	fail "connecting failed (above)."
fi
if [ -d /run/systemd/system ]; then
	systemctl start himdsd.service extd.service gcad.service
fi
echo "tether install: this machine is connected to $ENDPOINT."
`;

/** The script for this server; the values are URL- and hex-checked, so quoting holds. */
export function installScript(inputs: InstallScriptInputs): string {
  if (!/^https:\/\/[A-Za-z0-9.:[\]-]+$/.test(inputs.publicUrl)) {
    throw new Error(`public URL ${inputs.publicUrl} cannot be written into the install script`);
  }
  if (!/^[0-9a-f]{64}$/.test(inputs.packageSha256)) throw new Error('not a SHA-256 digest');
  return TEMPLATE.replaceAll('@URL@', inputs.publicUrl)
    .replaceAll('@SHA256@', inputs.packageSha256)
    .replaceAll('@PACKAGE_PATH@', INSTALL_PACKAGE_PATH);
}
