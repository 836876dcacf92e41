// var/opt/azcmagent/extensions/state.json: `name → InstalledExtension`, what the host applied.
// Written atomically (readable by everyone: it holds no settings); every change re-reads the file
// and replaces one record, so the service and `azcmagent extension` never lose each other's work.
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { replaceFileAtomically } from '../../config/atomic-file.js';
import { AgentError } from '../../errors.js';
import type { AgentPaths } from '../../paths.js';
import type { InstalledExtension } from '../extension-host.js';

export type ExtensionState = Readonly<Record<string, InstalledExtension>>;

const STATES = ['enabled', 'failed', 'disabled'] as const;

/** Without a prototype: a name from the control plane such as `constructor` finds nothing. */
function emptyState(): Record<string, InstalledExtension> {
  return Object.create(null) as Record<string, InstalledExtension>;
}

export function readExtensionState(paths: AgentPaths): ExtensionState {
  let text: string;
  try {
    text = readFileSync(paths.extensionStateFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return emptyState();
    throw corrupt(
      paths,
      `it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw corrupt(paths, `it is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw corrupt(paths, 'its top level is not a JSON object');
  }
  const state = emptyState();
  for (const [name, record] of Object.entries(json as Record<string, unknown>)) {
    if (!isInstalledExtension(record) || record.name !== name) {
      throw corrupt(paths, `its record "${name}" is malformed`);
    }
    state[name] = record;
  }
  return state;
}

/** Replaces (or with `undefined` deletes) one record. */
export function updateExtensionRecord(
  paths: AgentPaths,
  name: string,
  record: InstalledExtension | undefined,
): void {
  const state: Record<string, InstalledExtension> = { ...readExtensionState(paths) };
  if (record === undefined) delete state[name];
  else state[name] = record;
  const sorted = Object.fromEntries(
    Object.keys(state)
      .sort()
      .map((key) => [key, state[key]]),
  );
  mkdirSync(dirname(paths.extensionStateFile), { recursive: true, mode: 0o755 });
  // Root only: a status message carries the tail of a handler's output.
  replaceFileAtomically(paths.extensionStateFile, `${JSON.stringify(sorted, null, 2)}\n`, {
    mode: 0o600,
    ownerUid: 0,
    ownerGid: 0,
  });
}

function corrupt(paths: AgentPaths, why: string): AgentError {
  return new AgentError(
    'ERR_EXTENSION_STATE_CORRUPT',
    `The extension state file ${paths.extensionStateFile} cannot be used: ${why}. ` +
      'Restore it from a backup, or move it aside and let the extension service reinstall what the control plane asks for.',
    { target: paths.extensionStateFile },
  );
}

function isInstalledExtension(value: unknown): value is InstalledExtension {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  const status = record.status as Record<string, unknown> | null | undefined;
  return (
    ['name', 'publisher', 'type', 'version', 'installedAt', 'updatedAt'].every(
      (key) => typeof record[key] === 'string',
    ) &&
    typeof record.sequence === 'number' &&
    STATES.some((state) => state === record.state) &&
    typeof status === 'object' &&
    status !== null &&
    ['code', 'level', 'displayStatus', 'message', 'time'].every(
      (key) => typeof status[key] === 'string',
    ) &&
    (record.removedLocallyAt === undefined || typeof record.removedLocallyAt === 'string')
  );
}
