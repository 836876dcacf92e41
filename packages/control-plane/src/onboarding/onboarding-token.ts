// The opaque string `tether onboarding-token create` prints and `azcmagent connect
// --onboarding-token` reads: base64url JSON of where to connect and the secret to do it with.
/** The name of an onboarding token's one client secret, by which sign-in tells it apart. */
export const ONBOARDING_TOKEN_CREDENTIAL = 'onboarding token';

export interface OnboardingToken {
  endpoint: string;
  tenantId: string;
  appId: string;
  secret: string;
  subscriptionId: string;
  resourceGroup: string;
}

const FIELDS = [
  'endpoint',
  'tenantId',
  'appId',
  'secret',
  'subscriptionId',
  'resourceGroup',
] as const;

export function encodeOnboardingToken(token: OnboardingToken): string {
  const ordered = Object.fromEntries(FIELDS.map((f) => [f, token[f]]));
  return Buffer.from(JSON.stringify(ordered), 'utf8').toString('base64url');
}

/** Reads a token back; throws a RangeError naming what is wrong when it is not one. */
export function decodeOnboardingToken(text: string): OnboardingToken {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text.trim(), 'base64url').toString('utf8'));
  } catch {
    throw new RangeError('the onboarding token is not base64url JSON; copy it whole');
  }
  if (typeof value !== 'object' || value === null) {
    throw new RangeError('the onboarding token is not a JSON object');
  }
  const record = value as Record<string, unknown>;
  for (const f of FIELDS) {
    if (typeof record[f] !== 'string' || record[f] === '') {
      throw new RangeError(`the onboarding token has no '${f}'`);
    }
  }
  return record as unknown as OnboardingToken;
}
