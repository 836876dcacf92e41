// The operator credential flags connect and disconnect share (SPEC §4) and how they become a
// token for the control plane: a secret, a certificate, a given access token or an onboarding token.
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { parseCertificatePem } from '../control-plane/client-assertion.js';
import { requestToken } from '../control-plane/token-client.js';
import { AgentError } from '../errors.js';
import { decodeOnboardingToken, type OnboardingToken } from '../identity/onboarding-token.js';
import type { Egress } from '../network/egress.js';
import type { CommandContext, FlagSpec } from './command-module.js';

export const CREDENTIAL_FLAGS: readonly FlagSpec[] = [
  {
    long: 'tenant-id',
    short: 't',
    type: 'string',
    valueName: 'id',
    description: 'Tenant of the subscription',
  },
  {
    long: 'subscription-id',
    short: 's',
    type: 'string',
    valueName: 'id',
    description: 'Subscription of the machine',
  },
  {
    long: 'resource-group',
    short: 'g',
    type: 'string',
    valueName: 'name',
    description: 'Resource group of the machine',
  },
  {
    long: 'resource-name',
    short: 'n',
    type: 'string',
    valueName: 'name',
    description: 'Name of the machine resource (default: the host name)',
  },
  {
    long: 'service-principal-id',
    short: 'i',
    type: 'string',
    valueName: 'id',
    description: 'Application (client) id of the service principal',
  },
  {
    long: 'service-principal-secret',
    short: 'p',
    type: 'string',
    valueName: 'secret',
    description:
      "Secret of the service principal; '@FILE' reads it from a file and '-' from standard input, so it never shows in the process list",
  },
  {
    long: 'service-principal-cert',
    type: 'string',
    valueName: 'file',
    description: 'PEM file with the private key and certificate of the service principal',
  },
  {
    long: 'access-token',
    type: 'string',
    valueName: 'token',
    description:
      "An access token for the control plane instead of a service principal ('@FILE' or '-' as for the secret)",
  },
  {
    long: 'onboarding-token',
    type: 'string',
    valueName: 'token',
    description:
      "A token from 'tether onboarding-token create' (endpoint, tenant, credential, subscription, resource group); '@FILE' or '-' as for the secret",
  },
  {
    long: 'endpoint',
    type: 'string',
    valueName: 'url',
    description: 'https URL of the Tether control plane',
  },
  {
    long: 'ca-cert',
    type: 'string',
    valueName: 'file',
    description: "PEM CA certificate the control plane's TLS certificate chains to",
  },
  {
    long: 'correlation-id',
    type: 'string',
    valueName: 'id',
    description: 'Correlation id sent with the requests',
  },
];

export interface OperatorTarget {
  readonly endpoint: string;
  readonly tenantId: string | undefined;
  readonly subscriptionId: string | undefined;
  readonly resourceGroup: string | undefined;
  readonly ca: string | undefined;
  readonly caFile: string | undefined;
  readonly onboarding: OnboardingToken | undefined;
}

export function flagString(context: CommandContext, name: string): string | undefined {
  const value = context.flags[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/**
 * A flag that carries a secret: its value, or with `@FILE` the file's contents, or with `-`
 * standard input's — a secret on the command line is visible to every user through `ps`.
 * One trailing newline is dropped, as `echo` and editors add it.
 */
export function secretFlag(
  context: CommandContext,
  name: string,
  read: { stdin(): string; file(path: string): string } = SECRET_SOURCES,
): string | undefined {
  const raw = flagString(context, name);
  if (raw === undefined) return undefined;
  if (raw !== '-' && !raw.startsWith('@')) return raw;
  const from = raw === '-' ? 'standard input' : raw.slice(1);
  let text: string;
  try {
    text = raw === '-' ? read.stdin() : read.file(from);
  } catch (error) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--${name} ${raw}: cannot read ${from} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      { target: name },
    );
  }
  const value = text.replace(/\r?\n$/, '');
  if (value === '' || /[\r\n]/.test(value)) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--${name} ${raw}: ${from} must hold the value on one line; it is ${value === '' ? 'empty' : 'several lines'}.`,
      { target: name },
    );
  }
  return value;
}

const SECRET_SOURCES = {
  stdin: (): string => readFileSync(0, 'utf8'),
  file: (path: string): string => readFileSync(path, 'utf8'),
};

/** Flags win over the onboarding token; the endpoint must be https. */
export function resolveTarget(
  context: CommandContext,
  fallbackEndpoint?: string,
  fallbackCa?: string,
): OperatorTarget {
  const tokenText = secretFlag(context, 'onboarding-token');
  const onboarding = tokenText === undefined ? undefined : decodeOnboardingToken(tokenText);
  const endpoint = (
    flagString(context, 'endpoint') ??
    onboarding?.endpoint ??
    fallbackEndpoint
  )?.replace(/\/+$/, '');
  if (endpoint === undefined) {
    throw new AgentError(
      'ERR_USAGE',
      'Missing --endpoint: the https URL of the Tether control plane (or give --onboarding-token).',
      {
        target: 'endpoint',
      },
    );
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--endpoint "${endpoint}" is not a URL; expected https://HOST[:PORT].`,
      { target: 'endpoint' },
    );
  }
  if (
    url.protocol !== 'https:' ||
    url.pathname !== '/' ||
    url.search !== '' ||
    url.username !== ''
  ) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `--endpoint "${endpoint}" must be https://HOST[:PORT] with no path, query or credentials.`,
      {
        target: 'endpoint',
      },
    );
  }
  const caFile = flagString(context, 'ca-cert');
  let ca = fallbackCa;
  if (caFile !== undefined) {
    try {
      ca = readFileSync(caFile, 'utf8');
      new X509Certificate(ca);
    } catch (error) {
      throw new AgentError(
        'ERR_INVALID_VALUE',
        `--ca-cert ${caFile} is not a readable PEM certificate: ${(error as Error).message}.`,
        {
          target: 'ca-cert',
        },
      );
    }
  }
  return {
    endpoint: url.origin,
    tenantId: flagString(context, 'tenant-id') ?? onboarding?.tenantId,
    subscriptionId: flagString(context, 'subscription-id') ?? onboarding?.subscriptionId,
    resourceGroup: flagString(context, 'resource-group') ?? onboarding?.resourceGroup,
    ca,
    caFile,
    onboarding,
  };
}

/** Validates the credential flags up front so bad input changes nothing; fetches the token later. */
export function operatorTokenSource(
  context: CommandContext,
  target: OperatorTarget,
  egress: Egress,
): (nowMs: number) => Promise<string> {
  const accessToken = secretFlag(context, 'access-token');
  const clientId = flagString(context, 'service-principal-id') ?? target.onboarding?.appId;
  const secret =
    secretFlag(context, 'service-principal-secret') ??
    (flagString(context, 'service-principal-id') === undefined
      ? target.onboarding?.secret
      : undefined);
  const certFile = flagString(context, 'service-principal-cert');
  const given = [accessToken, secret, certFile].filter((v) => v !== undefined).length;
  if (given === 0) {
    throw new AgentError(
      'ERR_USAGE',
      'No credential: give --service-principal-id with --service-principal-secret or --service-principal-cert, --access-token, or --onboarding-token.',
    );
  }
  if (given > 1) {
    throw new AgentError(
      'ERR_USAGE',
      'Give only one credential: a secret, a certificate or an access token.',
    );
  }
  if (accessToken !== undefined) return () => Promise.resolve(accessToken);
  if (clientId === undefined) {
    throw new AgentError(
      'ERR_USAGE',
      'Missing --service-principal-id for the service principal credential.',
      {
        target: 'service-principal-id',
      },
    );
  }
  const tenantId = target.tenantId;
  if (tenantId === undefined) {
    throw new AgentError(
      'ERR_USAGE',
      'Missing --tenant-id: the tenant the service principal belongs to.',
      { target: 'tenant-id' },
    );
  }
  let credential: Parameters<typeof requestToken>[0]['credential'];
  if (secret !== undefined) {
    credential = { kind: 'secret', clientId, secret };
  } else {
    const file = certFile ?? '';
    let pem: string;
    try {
      pem = readFileSync(file, 'utf8');
    } catch (error) {
      throw new AgentError(
        'ERR_INVALID_VALUE',
        `Cannot read --service-principal-cert ${file}: ${(error as Error).message}.`,
        {
          target: 'service-principal-cert',
        },
      );
    }
    const cert = parseCertificatePem(pem, file);
    credential = {
      kind: 'assertion',
      clientId,
      key: cert.key,
      alg: cert.alg,
      header: { 'x5t#S256': cert.thumbprintS256 },
    };
  }
  return async (nowMs) =>
    (
      await requestToken({
        endpoint: target.endpoint,
        tenantId,
        ca: target.ca,
        egress,
        credential,
        resource: target.endpoint,
        nowMs,
      })
    ).token;
}
