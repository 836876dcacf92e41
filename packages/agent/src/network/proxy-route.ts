// Which way one connection of the agent goes — through proxy.url or straight to the control
// plane — from the local configuration and the service the connection belongs to. Pure.
import type { LocalConfig, ProxyBypassService } from '../config/local-config.js';

/**
 * The services of proxy.bypass that the agent itself talks to. Tether serves all three from
 * the control plane's one address, so bypass is decided by what a call is for, not by host:
 * AAD its identity endpoints (tokens, discovery), ARM creating and deleting the machine
 * resource, Arc the agent services (heartbeats, credential rotation, extension and guest
 * configuration goal states, reports and package downloads).
 */
export type AgentService = Extract<ProxyBypassService, 'AAD' | 'ARM' | 'Arc'>;

export const AGENT_SERVICES: readonly AgentService[] = ['AAD', 'ARM', 'Arc'];

export type ProxySettings = Pick<LocalConfig, 'proxy.url' | 'proxy.bypass'>;

export type ProxyRoute =
  | { readonly kind: 'direct'; readonly why: 'no proxy' | 'bypassed' }
  | { readonly kind: 'proxy'; readonly url: string };

export function chooseProxyRoute(settings: ProxySettings, service: AgentService): ProxyRoute {
  if (settings['proxy.url'] === '') return { kind: 'direct', why: 'no proxy' };
  if (settings['proxy.bypass'].includes(service)) return { kind: 'direct', why: 'bypassed' };
  return { kind: 'proxy', url: settings['proxy.url'] };
}

/**
 * The proxy URL with any user name and password replaced by `***`, for every place it is shown
 * or logged. `config set` refuses credentials, but a URL from elsewhere may carry them.
 */
export function maskProxyUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: keep only what cannot be a secret (no "@" part).
    return url.includes('@') ? `***@${url.slice(url.lastIndexOf('@') + 1)}` : url;
  }
  if (parsed.username === '' && parsed.password === '') return url;
  parsed.username = '***';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

/** `azcmagent show`'s "Using HTTPS Proxy": the proxy in use and which services skip it. */
export function describeProxy(settings: ProxySettings): string {
  if (settings['proxy.url'] === '') return '';
  const url = maskProxyUrl(settings['proxy.url']);
  const bypassed = AGENT_SERVICES.filter(
    (service) => chooseProxyRoute(settings, service).kind === 'direct',
  );
  return bypassed.length === 0 ? url : `${url} (bypassed for ${bypassed.join(', ')})`;
}
