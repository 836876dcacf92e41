// The environment of handler commands and hosted processes: from the service's own, only what
// a program needs to run (locale, home, proxies), plus where HIMDS and the control plane are
// (docs/extensions.md) and the agent's own proxy settings, which win over inherited ones. An allowlist: whatever else the service was started with — a database
// URL, a token — never reaches code that runs as root on someone else's behalf.
import { dirname } from 'node:path';

export interface HandlerEnvOptions {
  readonly himdsPort: number;
  readonly endpoint: string | undefined;
  readonly resourceId: string | undefined;
  readonly caFile: string | undefined;
  /** https_proxy and no_proxy from the local configuration, or undefined when it sets no proxy. */
  readonly proxyEnv?: () => Readonly<Record<string, string>> | undefined;
}

const INHERITED =
  /^(HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TERM|TMPDIR|(http|https|no)_proxy|(HTTP|HTTPS|NO)_PROXY)$/;
const USUAL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Set by the host below; never inherited from whoever started the service. */
const OWN = [
  'ConfigSequenceNumber',
  'IDENTITY_ENDPOINT',
  'IMDS_ENDPOINT',
  'TETHER_ENDPOINT',
  'TETHER_RESOURCE_ID',
  'NODE_EXTRA_CA_CERTS',
  'PATH',
];

export function handlerProcessEnv(
  options: HandlerEnvOptions,
  sequence: number,
  base: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value === undefined || !INHERITED.test(name) || OWN.includes(name)) continue;
    env[name] = value;
  }
  const proxy = options.proxyEnv?.();
  if (proxy !== undefined) {
    for (const name of Object.keys(env)) if (/^(https|no)_proxy$/i.test(name)) delete env[name];
    Object.assign(env, proxy);
  }
  const himds = `http://127.0.0.1:${options.himdsPort}`;
  env.ConfigSequenceNumber = String(sequence);
  env.IDENTITY_ENDPOINT = `${himds}/metadata/identity/oauth2/token`;
  env.IMDS_ENDPOINT = himds;
  if (options.endpoint !== undefined) env.TETHER_ENDPOINT = options.endpoint;
  if (options.resourceId !== undefined) env.TETHER_RESOURCE_ID = options.resourceId;
  if (options.caFile !== undefined) env.NODE_EXTRA_CA_CERTS = options.caFile;
  env.PATH = `${dirname(process.execPath)}:${USUAL_PATH}`;
  return env;
}
