// Whether this machine can reach its control plane: one unauthenticated HTTPS call verified
// against the CA connect saved (as HIMDS verifies it) on each way out the proxy settings give
// the agent's services, and the clock skew from its Date header.
import { httpsJson, type HttpsAnswer } from '../control-plane/https-json.js';
import { readAgentState, type AgentState } from '../identity/agent-state.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
import {
  AGENT_SERVICES,
  chooseProxyRoute,
  maskProxyUrl,
  type AgentService,
  type ProxyRoute,
} from '../network/proxy-route.js';
import type { CheckContext, CheckGroup, CheckResult } from './check.js';
import { serverCertificateCheck } from './server-certificate-check.js';

/** Tokens signed now are refused by a control plane whose clock differs by more than this. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const PROBE_TIMEOUT_MS = 10_000;

// Node's certificate verification failures; anything else is a network failure.
const TLS_ERROR =
  /CERT|SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|HOSTNAME_MISMATCH/;

export const controlPlaneChecks: CheckGroup = {
  title: 'Connection to the control plane',
  run: async (context) => {
    let state: AgentState | undefined;
    try {
      state = readAgentState(context.paths);
    } catch (error) {
      return [
        {
          id: 'reachability',
          title: 'Control plane reachable over verified TLS',
          status: 'fail',
          detail: `${(error as Error).message} Reconnect with 'sudo azcmagent connect'.`,
        },
      ];
    }
    if (state === undefined) {
      const detail = 'The machine is not connected; nothing to check.';
      return [
        {
          id: 'reachability',
          title: 'Control plane reachable over verified TLS',
          status: 'skip',
          detail,
        },
        { id: 'clock-skew', title: 'Clock agrees with the control plane', status: 'skip', detail },
      ];
    }
    return probe(context, state);
  },
};

/** The services that share one way out, so each distinct way is probed once. */
interface Way {
  readonly route: ProxyRoute;
  readonly services: readonly AgentService[];
}

function waysOut(context: CheckContext): readonly Way[] | string {
  if (context.loaded.state === 'corrupt') {
    return `Not tried: the local configuration file cannot be used (${context.loaded.reason}), so whether to go through proxy.url is unknown; the agent sends nothing until it is repaired.`;
  }
  const ways: { route: ProxyRoute; services: AgentService[] }[] = [];
  for (const service of AGENT_SERVICES) {
    const route = chooseProxyRoute(context.loaded.settings, service);
    const same = ways.find((way) => sameRoute(way.route, route));
    if (same === undefined) ways.push({ route, services: [service] });
    else same.services.push(service);
  }
  return ways;
}

function sameRoute(a: ProxyRoute, b: ProxyRoute): boolean {
  return a.kind === 'proxy' ? b.kind === 'proxy' && a.url === b.url : b.kind === 'direct';
}

/** "through the proxy http://p:3128 (AAD, ARM)" or "directly (Arc)"; the services only when ways differ. */
function wayText(way: Way, several: boolean): string {
  const how =
    way.route.kind === 'proxy' ? `through the proxy ${maskProxyUrl(way.route.url)}` : 'directly';
  return several ? `${how} (${way.services.join(', ')})` : how;
}

async function probe(context: CheckContext, state: AgentState): Promise<CheckResult[]> {
  const reach = { id: 'reachability', title: 'Control plane reachable over verified TLS' } as const;
  const skew = { id: 'clock-skew', title: 'Clock agrees with the control plane' } as const;
  let ca: string | undefined;
  try {
    ca = readTrustedCa(context.paths); // undefined: the system trust store applies, as for HIMDS
  } catch (error) {
    return [
      { ...reach, status: 'fail', detail: (error as Error).message },
      { ...skew, status: 'unknown', detail: 'Unknown: the control plane was not asked.' },
    ];
  }
  const ways = waysOut(context);
  if (typeof ways === 'string') {
    return [
      { ...reach, status: 'fail', detail: ways },
      { ...skew, status: 'unknown', detail: 'Unknown: the control plane was not asked.' },
    ];
  }
  const trust = ca === undefined ? 'the system trust store' : context.paths.caCert;
  // The discovery document needs no credential, so the check works for any user.
  const url = `${state.endpoint}/${state.tenantId}/v2.0/.well-known/openid-configuration`;
  const several = ways.length > 1;
  const failures: string[] = [];
  const answered: { way: Way; answer: HttpsAnswer }[] = [];
  for (const way of ways) {
    try {
      const answer = await httpsJson({
        method: 'GET',
        url,
        route: way.route,
        ca,
        timeoutMs: PROBE_TIMEOUT_MS,
        freshConnection: true,
      });
      answered.push({ way, answer });
    } catch (error) {
      failures.push(unreachableDetail(error, state, trust, wayText(way, several)));
    }
  }
  const first = answered[0];
  if (failures.length > 0 || first === undefined) {
    return [
      { ...reach, status: 'fail', detail: failures.join(' ') },
      first === undefined
        ? { ...skew, status: 'unknown', detail: 'Unknown: the control plane did not answer.' }
        : clockSkew(context, first.answer),
    ];
  }
  const how = answered.map(({ way }) => wayText(way, several)).join(' and ');
  const odd = answered.find(({ answer }) => answer.status !== 200);
  const reachable =
    odd === undefined
      ? ({
          ...reach,
          status: 'pass',
          detail: `${state.endpoint} answered ${how}, over TLS verified against ${trust}.`,
        } as const)
      : ({
          ...reach,
          status: 'warn',
          detail: `${state.endpoint} answered ${how} over verified TLS, but with HTTP ${odd.answer.status} for its discovery document; is this the right endpoint?`,
        } as const);
  return [
    reachable,
    clockSkew(context, first.answer),
    serverCertificateCheck(first.answer.serverCertificate, context.clock.now()),
  ];
}

function unreachableDetail(error: unknown, state: AgentState, trust: string, how: string): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const why = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
  return TLS_ERROR.test(code)
    ? `${state.endpoint} answered ${how}, but its certificate does not verify against ${trust} (${code}: ${why}). Check that the control plane serves the certificate its CA issued, or reconnect with the right --ca-cert.`
    : `Cannot reach ${state.endpoint} ${how} (${code === '' ? why : `${code}: ${why}`}). Check the network, firewall, proxy.url and proxy.bypass; heartbeats and tokens fail until it is reachable.`;
}

function clockSkew(context: CheckContext, answer: HttpsAnswer): CheckResult {
  const base = { id: 'clock-skew', title: 'Clock agrees with the control plane' } as const;
  const header = answer.headers['date'];
  const serverMs = typeof header === 'string' ? Date.parse(header) : Number.NaN;
  if (Number.isNaN(serverMs)) {
    return {
      ...base,
      status: 'unknown',
      detail: 'Unknown: the control plane sent no Date header.',
    };
  }
  // The header has one-second resolution, so a skew under a second is not measurable.
  const skewMs = context.clock.now() - serverMs;
  const seconds = Math.round(Math.abs(skewMs) / 1000);
  const direction = skewMs > 0 ? 'ahead of' : 'behind';
  if (Math.abs(skewMs) > MAX_CLOCK_SKEW_MS) {
    return {
      ...base,
      status: 'warn',
      detail: `This machine's clock is ${seconds} s ${direction} the control plane's; tokens and credential expiry go wrong beyond 5 minutes. Synchronize the clock (for example with systemd-timesyncd or chrony).`,
    };
  }
  return {
    ...base,
    status: 'pass',
    detail:
      seconds === 0
        ? 'Within a second of the control plane.'
        : `${seconds} s ${direction} the control plane (at most 5 minutes is fine).`,
  };
}
