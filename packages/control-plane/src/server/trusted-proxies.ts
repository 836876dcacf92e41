// The load balancers whose X-Forwarded-For a node believes (`--trusted-proxy`): behind HAProxy
// every connection comes from HAProxy, and without this the per-address sign-in limits and the
// activity log would see one address for everyone. Only addresses listed here are skipped when
// the client's address is read from the header, right to left; a header from anyone else is
// ignored.
import { isIP } from 'node:net';
import { ServerError } from './server-error.js';

/** An IPv4 or IPv6 address, optionally with a /prefix. */
export function checkTrustedProxy(value: string): string {
  const [address = '', prefix, extra] = value.split('/');
  const family = isIP(address);
  const bits = family === 4 ? 32 : 128;
  const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
  if (family === 0 || !prefixOk || extra !== undefined) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--trusted-proxy ${JSON.stringify(value)} is not valid: give the load balancer's IP address, or an address/prefix such as 10.0.0.0/24`,
      { target: '--trusted-proxy' },
    );
  }
  return value;
}
