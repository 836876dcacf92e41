// Finds policy definitions, initiatives and assignments the way users name them: by name, by
// full id, or (definitions) by display name; custom ones in the subscription before built-ins.
import type { ApiClient } from './api-client.js';
import { API_VERSIONS } from './api-versions.js';
import { CliError, usageError } from './cli-error.js';
import { scopePath } from './scope.js';

export type PolicyKind = 'policyDefinitions' | 'policySetDefinitions';

export interface ArmPolicyResource {
  id: string;
  name: string;
  type?: string;
  properties: Record<string, unknown>;
}

export const POLICY_QUERY = { 'api-version': API_VERSIONS.policy };
export const EXEMPTION_QUERY = { 'api-version': API_VERSIONS.policyExemptions };

/** `{scope}/providers/Microsoft.Authorization/{collection}[/{name}]`; '/' is the tenant root. */
export function policyPath(scope: string, collection: string, name?: string): string {
  const base = `${scopePath(scope)}/providers/Microsoft.Authorization/${collection}`;
  return name === undefined ? base : `${base}/${encodeURIComponent(name)}`;
}

const NOUN: Record<PolicyKind, string> = {
  policyDefinitions: 'policy definition',
  policySetDefinitions: 'policy set definition (initiative)',
};

/**
 * A full id is read as it is; a name is looked up in the subscription (custom and built-in),
 * then as a display name, so `--policy-set-definition "Linux security baseline"` works too.
 */
export async function findPolicyDefinition(
  client: ApiClient,
  kind: PolicyKind,
  nameOrId: string,
  subscriptionId: string,
  flag: string,
): Promise<ArmPolicyResource> {
  const text = nameOrId.trim();
  if (text === '') throw usageError(`${flag} is empty; name a ${NOUN[kind]} or give its id.`, flag);
  if (text.startsWith('/')) {
    const found = await client.find<ArmPolicyResource>(
      text.split('/').map(encodeURIComponent).join('/'),
      POLICY_QUERY,
    );
    if (found !== undefined) return found;
    throw notFound(kind, text, flag);
  }
  const scope = `/subscriptions/${subscriptionId}`;
  if (!/[/?#%\\]/.test(text)) {
    const byName = await client.find<ArmPolicyResource>(
      policyPath(scope, kind, text),
      POLICY_QUERY,
    );
    if (byName !== undefined) return byName;
  }
  const all = await client.list<ArmPolicyResource>(policyPath(scope, kind), POLICY_QUERY);
  const lower = text.toLowerCase();
  const byDisplayName = all.filter(
    (d) => textOf(d.properties['displayName']).toLowerCase() === lower,
  );
  if (byDisplayName.length === 1 && byDisplayName[0] !== undefined) return byDisplayName[0];
  if (byDisplayName.length > 1) {
    throw usageError(
      `${flag} '${text}' is the display name of ${byDisplayName.length} ${NOUN[kind]}s (${byDisplayName.map((d) => d.name).join(', ')}); name one by its name.`,
      flag,
    );
  }
  throw notFound(kind, text, flag);
}

function notFound(kind: PolicyKind, text: string, flag: string): CliError {
  const list =
    kind === 'policyDefinitions'
      ? 'tether policy definition list'
      : 'tether policy set-definition list';
  return new CliError(
    'ERR_NOT_FOUND',
    `${flag}: no ${NOUN[kind]} '${text}' exists in this subscription or among the built-ins; '${list} -o table' shows them.`,
    { target: flag },
  );
}

/** An assignment by full id, or by name at the scope or any scope above it. */
export async function findPolicyAssignment(
  client: ApiClient,
  nameOrId: string,
  scope: string,
  flag: string,
): Promise<ArmPolicyResource> {
  const text = nameOrId.trim();
  if (text.startsWith('/')) {
    const found = await client.find<ArmPolicyResource>(
      text.split('/').map(encodeURIComponent).join('/'),
      POLICY_QUERY,
    );
    if (found !== undefined) return found;
  } else {
    const visible = await client.list<ArmPolicyResource>(policyPath(scope, 'policyAssignments'), {
      ...POLICY_QUERY,
      $filter: 'atScope()',
    });
    const matches = visible.filter((a) => a.name.toLowerCase() === text.toLowerCase());
    if (matches.length === 1 && matches[0] !== undefined) return matches[0];
    if (matches.length > 1) {
      throw usageError(
        `${flag} '${text}' names ${matches.length} assignments (${matches.map((a) => a.id).join(', ')}); give the one you mean by its id.`,
        flag,
      );
    }
  }
  throw new CliError(
    'ERR_NOT_FOUND',
    `${flag}: no policy assignment '${text}' applies at ${scope}; 'tether policy assignment list --scope ${scope} -o table' shows those that do.`,
    { target: flag },
  );
}

/** A string property, or '' when it is missing or not a string. */
export function textOf(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
