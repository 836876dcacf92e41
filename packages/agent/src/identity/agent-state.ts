// agentconfig.json: what `azcmagent connect` learned about this machine's resource and identity,
// and where its control plane is. Written atomically by root, readable by everyone (no secrets).
import { readFileSync } from 'node:fs';
import { replaceFileAtomically } from '../config/atomic-file.js';
import { AgentError } from '../errors.js';
import type { AgentPaths } from '../paths.js';

export interface AgentState {
  readonly resourceId: string;
  readonly resourceName: string;
  readonly resourceGroup: string;
  readonly subscriptionId: string;
  readonly tenantId: string;
  readonly location: string;
  readonly vmId: string;
  /** Object and client id of the machine's system-assigned identity. */
  readonly principalId: string;
  /** The control plane's https URL, without a trailing slash. */
  readonly endpoint: string;
  readonly tags: Readonly<Record<string, string>>;
  /** ISO time the machine credential lapses; renewed by HIMDS. */
  readonly credentialExpiresOn: string;
}

const STRING_FIELDS = [
  'resourceId',
  'resourceName',
  'resourceGroup',
  'subscriptionId',
  'tenantId',
  'location',
  'vmId',
  'principalId',
  'endpoint',
  'credentialExpiresOn',
] as const;

/** undefined when the machine is not connected; a damaged file is an error, never "not connected". */
export function readAgentState(paths: AgentPaths): AgentState | undefined {
  let text: string;
  try {
    text = readFileSync(paths.agentState, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError(
      'ERR_CONFIG_CORRUPT',
      `Cannot read ${paths.agentState}: ${(error as Error).message}.`,
      {
        target: paths.agentState,
      },
    );
  }
  return parseAgentState(text, paths.agentState);
}

export function requireAgentState(paths: AgentPaths): AgentState {
  const state = readAgentState(paths);
  if (state === undefined) {
    throw new AgentError(
      'ERR_NOT_CONNECTED',
      `This machine is not connected (no ${paths.agentState}). Connect it first with 'sudo azcmagent connect'.`,
    );
  }
  return state;
}

export function parseAgentState(text: string, file: string): AgentState {
  const bad = (why: string): AgentError =>
    new AgentError(
      'ERR_CONFIG_CORRUPT',
      `${file} is damaged (${why}). Remove the local state with 'sudo azcmagent disconnect --force-local-only' and connect again.`,
      { target: file },
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw bad((error as Error).message);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw bad('not a JSON object');
  const record = json as Record<string, unknown>;
  for (const field of STRING_FIELDS) {
    if (typeof record[field] !== 'string' || record[field] === '')
      throw bad(`"${field}" is missing`);
  }
  const tags = record['tags'] ?? {};
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags))
    throw bad('"tags" is not an object');
  return Object.freeze({
    ...(record as unknown as AgentState),
    tags: Object.freeze({ ...(tags as Record<string, string>) }),
  });
}

export function writeAgentState(paths: AgentPaths, state: AgentState): void {
  replaceFileAtomically(paths.agentState, `${JSON.stringify(state, null, 2)}\n`, {
    mode: 0o644,
    ownerUid: 0,
    ownerGid: 0,
  });
}
