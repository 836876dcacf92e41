// The proxy variables extension handlers get, so their own calls take the agent's way out:
// https_proxy from proxy.url, and no_proxy for HIMDS on loopback (never proxied) and for the
// control plane when ARM, the API handlers call with HIMDS tokens, bypasses the proxy. Pure.
import { chooseProxyRoute, type ProxySettings } from './proxy-route.js';

const LOOPBACK = ['localhost', '127.0.0.1'];

/**
 * Undefined when no proxy is configured: handlers then keep what the service inherited, as
 * before. Otherwise these override any proxy variables of the service's own environment.
 */
export function handlerProxyEnv(
  settings: ProxySettings,
  endpoint: string | undefined,
): Readonly<Record<string, string>> | undefined {
  const url = settings['proxy.url'];
  if (url === '') return undefined;
  const direct = [...LOOPBACK];
  if (endpoint !== undefined && chooseProxyRoute(settings, 'ARM').kind === 'direct') {
    direct.push(new URL(endpoint).hostname);
  }
  const noProxy = direct.join(',');
  return { https_proxy: url, HTTPS_PROXY: url, no_proxy: noProxy, NO_PROXY: noProxy };
}
