// `--listen HOST:PORT` (IPv6 as `[::1]:8443`; port 0 picks a free one), the names the server
// certificate must carry, and the public URL derived from them when none is given.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { ServerError } from './server-error.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const DNS_NAME =
  /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function parseListenAddress(raw: string, flag = '--listen'): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (
    host === undefined ||
    !(port >= 0 && port <= 65535) ||
    (match?.[1] !== undefined && isIP(host) !== 6)
  ) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `${flag} ${JSON.stringify(raw)} is not valid: expected HOST:PORT such as 127.0.0.1:8443, 0.0.0.0:443 or [::1]:8443 (port 0 picks a free port)`,
      { target: flag },
    );
  }
  return { host, port };
}

/** A name for the server certificate: a DNS name or an IP address. */
export function checkSubjectAltName(name: string): string {
  if (isIP(name) !== 0 || DNS_NAME.test(name)) return name.toLowerCase();
  throw new ServerError(
    'ERR_SERVER_CONFIG',
    `--san ${JSON.stringify(name)} is not valid: expected a DNS name (server.example.com) or an IP address`,
    { target: '--san' },
  );
}

export function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}

/** `https://HOST:PORT` for the address actually bound; a wildcard address names this machine. */
export function defaultPublicUrl(host: string, port: number): string {
  const name = isWildcard(host) ? hostname().toLowerCase() : host;
  return `https://${isIP(name) === 6 ? `[${name}]` : name}:${port}`;
}

/** localhost, loopback addresses, this host's name, the listen host and the public URL's host. */
export function certificateNames(
  listenHost: string,
  publicUrl: string | undefined,
  extra: readonly string[],
): string[] {
  const names = ['localhost', '127.0.0.1', '::1', hostname().toLowerCase(), ...extra];
  if (!isWildcard(listenHost)) names.push(listenHost);
  if (publicUrl !== undefined) names.push(new URL(publicUrl).hostname.replace(/^\[(.*)\]$/, '$1'));
  return [
    ...new Set(names.filter((n) => isIP(n) !== 0 || DNS_NAME.test(n)).map((n) => n.toLowerCase())),
  ];
}
