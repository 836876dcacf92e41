// The one command "Add a server" shows (the CLI's --install-command and the portal alike): run as
// root on the new machine, it fetches the install script trusting only the control plane's CA
// (written from the command itself), and the script installs the agent package and connects
// with the onboarding token.

/** A value that cannot go into the command unchanged; nothing is printed then. */
export class InstallCommandError extends Error {}

const SCRIPT = [
  'set -e',
  'd=$(mktemp -d)',
  'trap "rm -rf $d" EXIT',
  'printf "%s\\n" "$1" > "$d/ca.crt"',
  'curl -fsS --cacert "$d/ca.crt" -o "$d/azcmagent.sh" "$2/install/azcmagent.sh" || { echo "tether install: could not fetch the install script from $2 trusting only the CA in this command: the server certificate is not from that CA, or the server cannot be reached. Nothing was installed." >&2; exit 1; }',
  'sh "$d/azcmagent.sh" --ca-cert "$d/ca.crt" --onboarding-token "$3"',
].join('; ');

export function installCommand(options: {
  endpoint: string;
  caPem: string;
  token: string;
}): string {
  const { endpoint, caPem, token } = options;
  if (!/^https:\/\/[A-Za-z0-9.:[\]-]+$/.test(endpoint.replace(/\/$/, ''))) {
    throw new InstallCommandError(
      `the endpoint ${endpoint} cannot go into a shell command; sign in with an https://HOST:PORT endpoint.`,
    );
  }
  if (caPem.includes("'") || !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new InstallCommandError('the CA certificate in use is not a PEM certificate.');
  }
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(token)) {
    throw new InstallCommandError('the onboarding token has characters a shell would alter.');
  }
  const quote = (text: string): string => `'${text}'`;
  return [
    'sudo sh -c',
    quote(SCRIPT),
    'tether-install',
    quote(caPem.trim()),
    quote(endpoint.replace(/\/$/, '')),
    quote(token),
  ].join(' ');
}
