// The agent's way out to the control plane, decided anew for every connection from the local
// configuration as it is now, so `config set proxy.url` applies without restarting anything.
import { loadLocalConfig, type LoadOptions } from '../config/local-config-file.js';
import { AgentError } from '../errors.js';
import type { AgentPaths } from '../paths.js';
import { chooseProxyRoute, type AgentService, type ProxyRoute } from './proxy-route.js';

/** Which way the next connection for this service goes. Throws when that cannot be known. */
export type Egress = (service: AgentService) => ProxyRoute;

/** Straight to the control plane: for tests and tools that have no local configuration. */
export const DIRECT_EGRESS: Egress = () => ({ kind: 'direct', why: 'no proxy' });

/**
 * A damaged configuration file sends nothing: the proxy may be the only way this network allows
 * out, or the one the administrator wants every connection to pass, so guessing "direct" could
 * bypass it.
 */
export function localConfigEgress(paths: AgentPaths, options: LoadOptions = {}): Egress {
  return (service) => {
    const loaded = loadLocalConfig(paths, options);
    if (loaded.state === 'corrupt') {
      throw new AgentError(
        'ERR_CONFIG_CORRUPT',
        `Nothing was sent to the control plane: the local configuration file ${paths.localConfig} cannot be used (${loaded.reason}), so the agent cannot tell whether to go through proxy.url. Repair it (for example 'sudo azcmagent config clear').`,
        { target: paths.localConfig },
      );
    }
    return chooseProxyRoute(loaded.settings, service);
  };
}
