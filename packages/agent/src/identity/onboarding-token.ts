// Decodes the opaque string of `tether onboarding-token create` (base64url JSON) into what
// connect needs; anything missing or malformed is refused before anything is written.
import { AgentError } from '../errors.js';

export interface OnboardingToken {
  readonly endpoint: string;
  readonly tenantId: string;
  readonly appId: string;
  readonly secret: string;
  readonly subscriptionId: string;
  readonly resourceGroup: string;
}

const FIELDS = [
  'endpoint',
  'tenantId',
  'appId',
  'secret',
  'subscriptionId',
  'resourceGroup',
] as const;

export function decodeOnboardingToken(text: string): OnboardingToken {
  const bad = (why: string): AgentError =>
    new AgentError(
      'ERR_INVALID_VALUE',
      `--onboarding-token is not a Tether onboarding token: ${why}. Copy the whole string 'tether onboarding-token create' printed.`,
      {
        target: 'onboarding-token',
      },
    );
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(text.trim())) throw bad('it is not base64url');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(text.trim(), 'base64url').toString('utf8'));
  } catch {
    throw bad('it does not decode to JSON');
  }
  if (typeof json !== 'object' || json === null) throw bad('it does not decode to a JSON object');
  const record = json as Record<string, unknown>;
  for (const field of FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '')
      throw bad(`"${field}" is missing`);
  }
  return record as unknown as OnboardingToken;
}
