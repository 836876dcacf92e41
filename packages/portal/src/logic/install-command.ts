// The one command "Add a server" shows: run as root on the new machine, it fetches the install
// script trusting only the control plane's CA (carried in the command itself) and the script
// installs the agent package and connects with the onboarding token. The same command as
// `tether onboarding-token create --install-command` prints.

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
  const endpoint = options.endpoint.replace(/\/$/, '');
  if (!/^https:\/\/[A-Za-z0-9.:[\]-]+$/.test(endpoint)) {
    throw new Error(`The endpoint ${endpoint} cannot go into a shell command.`);
  }
  if (options.caPem.includes("'") || !options.caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error('The CA certificate is not a PEM certificate.');
  }
  if (!/^[A-Za-z0-9._~+/=-]+$/.test(options.token)) {
    throw new Error('The onboarding token has characters a shell would alter.');
  }
  const quote = (text: string): string => `'${text}'`;
  return [
    'sudo sh -c',
    quote(SCRIPT),
    'tether-install',
    quote(options.caPem.trim()),
    quote(endpoint),
    quote(options.token),
  ].join(' ');
}
