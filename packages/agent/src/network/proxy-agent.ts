// The connection agent of one HTTPS call on its route: Node's own for direct calls, or an HTTP
// CONNECT tunnel through the proxy (https-proxy-agent). TLS to the control plane runs inside the
// tunnel with the call's own CA, so the proxy sees only the CONNECT line and encrypted bytes.
import type { ClientRequest } from 'node:http';
import type { Agent } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { maskProxyUrl, type ProxyRoute } from './proxy-route.js';

// One kept-alive agent per proxy URL, like Node's global agent for direct calls.
const pooled = new Map<string, HttpsProxyAgent<string>>();

/**
 * The `agent` option for `https.request`: undefined (Node's global agent), false (a connection
 * of its own) or a tunnel through the proxy. `fresh` asks for a new connection, so the server's
 * certificate is seen.
 */
export function agentFor(route: ProxyRoute, fresh: boolean): Agent | false | undefined {
  if (route.kind === 'direct') return fresh ? false : undefined;
  if (fresh) return new HttpsProxyAgent(route.url, { keepAlive: false });
  let agent = pooled.get(route.url);
  if (agent === undefined) {
    agent = new HttpsProxyAgent(route.url, { keepAlive: true });
    pooled.set(route.url, agent);
  }
  return agent;
}

/**
 * Inside the tunnel the TLS socket no longer knows the host it was meant for when that host is
 * an IP address (no SNI is sent for one), and would check the certificate against "localhost";
 * this checks it against the control plane's own host, as a direct call does.
 */
export function tunnelTlsOptions(
  route: ProxyRoute,
  url: URL,
): { checkServerIdentity?: (host: string, cert: PeerCertificate) => Error | undefined } {
  if (route.kind !== 'proxy') return {};
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return { checkServerIdentity: (_host, cert) => checkServerIdentity(host, cert) };
}

/**
 * A proxy that refuses the tunnel answers the CONNECT itself (403, 407, 502…); that answer must
 * not pass for the control plane's, so the request fails with the proxy's status instead.
 */
export function failOnRefusedTunnel(req: ClientRequest, route: ProxyRoute): void {
  if (route.kind !== 'proxy') return;
  req.once('proxyConnect', (connect: { statusCode?: number; statusText?: string }) => {
    if (connect.statusCode === 200) return;
    req.destroy(
      new Error(
        `the proxy ${maskProxyUrl(route.url)} refused the tunnel with ${connect.statusCode ?? '?'} ${connect.statusText ?? ''}`.trim(),
      ),
    );
  });
}

/** " through the proxy <url>" for error messages, or nothing for a direct call. */
export function throughProxy(route: ProxyRoute): string {
  return route.kind === 'proxy' ? ` through the proxy ${maskProxyUrl(route.url)}` : '';
}
