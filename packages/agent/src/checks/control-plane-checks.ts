// Whether this machine can reach its control plane: one unauthenticated HTTPS call verified
// against the CA connect saved (as HIMDS verifies it), and the clock skew from its Date header.
import { httpsJson, type HttpsAnswer } from '../control-plane/https-json.js';
import { readAgentState, type AgentState } from '../identity/agent-state.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
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
  const trust = ca === undefined ? 'the system trust store' : context.paths.caCert;
  // The discovery document needs no credential, so the check works for any user.
  const url = `${state.endpoint}/${state.tenantId}/v2.0/.well-known/openid-configuration`;
  let answer: HttpsAnswer;
  try {
    answer = await httpsJson({
      method: 'GET',
      url,
      ca,
      timeoutMs: PROBE_TIMEOUT_MS,
      freshConnection: true,
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    const code = typeof cause?.code === 'string' ? cause.code : '';
    const why = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
    const detail = TLS_ERROR.test(code)
      ? `${state.endpoint} answered, but its certificate does not verify against ${trust} (${code}: ${why}). Check that the control plane serves the certificate its CA issued, or reconnect with the right --ca-cert.`
      : `Cannot reach ${state.endpoint} (${code === '' ? why : `${code}: ${why}`}). Check the network, firewall and proxy.url; heartbeats and tokens fail until it is reachable.`;
    return [
      { ...reach, status: 'fail', detail },
      { ...skew, status: 'unknown', detail: 'Unknown: the control plane did not answer.' },
    ];
  }
  const reachable =
    answer.status === 200
      ? ({
          ...reach,
          status: 'pass',
          detail: `${state.endpoint} answered over TLS verified against ${trust}.`,
        } as const)
      : ({
          ...reach,
          status: 'warn',
          detail: `${state.endpoint} answered over verified TLS, but with HTTP ${answer.status} for its discovery document; is this the right endpoint?`,
        } as const);
  return [
    reachable,
    clockSkew(context, answer),
    serverCertificateCheck(answer.serverCertificate, context.clock.now()),
  ];
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
