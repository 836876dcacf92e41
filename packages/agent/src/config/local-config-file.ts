// Reading localconfig.json. The result is either a valid configuration or a "corrupt" state
// carrying the reason: a damaged, unreadable or tamperable file never turns into defaults.
import {
  closeSync,
  constants,
  fstatSync,
  openSync,
  readFileSync,
  statSync,
  type Stats,
} from 'node:fs';
import { AgentError } from '../errors.js';
import { untrustedPathProblem } from './trusted-path.js';
import type { AgentPaths } from '../paths.js';
import type { LocalConfig, PropertyName, StoredConfig } from './local-config.js';
import { defaultConfig, PROPERTY_NAMES } from './property-table.js';
import { fromStoredValue, propertyDefinition, toJsonValue } from './property-values.js';

export type LoadedConfig =
  | {
      readonly state: 'ok';
      readonly paths: AgentPaths;
      /** What the file holds (only explicitly set properties). */
      readonly stored: StoredConfig;
      /** Stored values over defaults. */
      readonly settings: LocalConfig;
      /** The file's bytes, or null when there is no file yet (fresh install). */
      readonly bytes: string | null;
    }
  | { readonly state: 'corrupt'; readonly paths: AgentPaths; readonly reason: string };

export interface LoadOptions {
  /** Only this user may own the file; root on a real server. */
  readonly trustedOwnerUid?: number;
}

const MAX_BYTES = 1024 * 1024;

export function loadLocalConfig(paths: AgentPaths, options: LoadOptions = {}): LoadedConfig {
  const corrupt = (reason: string): LoadedConfig => ({ state: 'corrupt', paths, reason });
  const trusted = options.trustedOwnerUid ?? 0;
  // Whoever can write the folder can delete the file, which would mean "allow everything".
  const folder = statSync(paths.dataDir, { throwIfNoEntry: false });
  if (folder === undefined) return withStored(paths, {}, null);
  const folderProblem = folder.isDirectory() ? untrusted(folder, trusted) : 'is not a folder';
  if (folderProblem !== undefined) {
    return corrupt(
      `its folder ${paths.dataDir} ${folderProblem}; fix it with 'sudo chown root:root ${paths.dataDir} && sudo chmod 755 ${paths.dataDir}'`,
    );
  }
  // And every folder above it, as sshd's StrictModes does: a writable parent lets its owner
  // swap the whole data folder for one of their own.
  const aboveProblem = untrustedPathProblem(paths.dataDir, trusted);
  if (aboveProblem !== undefined) {
    return corrupt(`${aboveProblem}; only root may be able to change the folders above it`);
  }
  let fd: number;
  try {
    // O_NOFOLLOW: a symlink could point at a file someone else can write.
    fd = openSync(paths.localConfig, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return withStored(paths, {}, null);
    if (code === 'ELOOP') return corrupt('it is a symbolic link, which the agent does not follow');
    return corrupt(`it cannot be opened (${code ?? String(error)})`);
  }
  let text: string;
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return corrupt('it is not a regular file');
    const problem = untrusted(stat, trusted);
    if (problem !== undefined) return corrupt(`it ${problem}`);
    if (stat.size > MAX_BYTES) return corrupt(`it is larger than ${MAX_BYTES} bytes`);
    text = readFileSync(fd, 'utf8');
  } catch (error) {
    return corrupt(`it cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  } finally {
    closeSync(fd);
  }
  try {
    return withStored(paths, parseStoredConfig(text), text);
  } catch (error) {
    return corrupt((error as Error).message);
  }
}

/** Only the trusted owner (root) may be able to change the local security controls. */
function untrusted(stat: Stats, trusted: number): string | undefined {
  if (stat.uid !== trusted) return `is owned by uid ${stat.uid} instead of uid ${trusted} (root)`;
  if ((stat.mode & 0o022) !== 0) {
    return `is writable by users other than its owner (mode ${(stat.mode & 0o777).toString(8)})`;
  }
  return undefined;
}

function withStored(paths: AgentPaths, stored: StoredConfig, bytes: string | null): LoadedConfig {
  const settings = Object.freeze({ ...defaultConfig(), ...stored });
  return { state: 'ok', paths, stored, settings, bytes };
}

/** Strict: unknown keys and invalid values are corruption, never ignored. Throws the reason. */
export function parseStoredConfig(text: string): StoredConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`it is not valid JSON (${(error as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error('its top level is not a JSON object');
  }
  const stored: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(json)) {
    if (!(PROPERTY_NAMES as readonly string[]).includes(key)) {
      throw new Error(`it has the unknown key "${key}"`);
    }
    try {
      stored[key] = fromStoredValue(propertyDefinition(key as PropertyName), value);
    } catch (error) {
      throw new Error(`its value for ${key} is invalid: ${(error as Error).message}`);
    }
  }
  return Object.freeze(stored);
}

export function serializeStoredConfig(stored: StoredConfig): string {
  const json: Record<string, unknown> = {};
  for (const name of PROPERTY_NAMES) {
    const value = stored[name];
    if (value !== undefined) json[name] = toJsonValue(propertyDefinition(name), value);
  }
  return `${JSON.stringify(json, null, 2)}\n`;
}

/** For commands that need a usable file: a corrupt one stops them with the repair advice. */
export function loadLocalConfigOrThrow(
  paths: AgentPaths,
  options: LoadOptions = {},
): Extract<LoadedConfig, { state: 'ok' }> {
  const loaded = loadLocalConfig(paths, options);
  if (loaded.state === 'corrupt') throw corruptConfigError(loaded);
  return loaded;
}

/** The error every command reports for a corrupt file: which file, what is wrong, how to repair. */
export function corruptConfigError(
  loaded: Extract<LoadedConfig, { state: 'corrupt' }>,
): AgentError {
  const { localConfig, localConfigBackup, localConfigDamaged } = loaded.paths;
  return new AgentError(
    'ERR_CONFIG_CORRUPT',
    `The local configuration file ${localConfig} cannot be used: ${loaded.reason}. ` +
      'Until it is repaired the agent refuses extension installs, updates and upgrades. ' +
      `To repair it, restore the previous version if ${localConfigBackup} exists ` +
      `(sudo install -m 644 -o root -g root ${localConfigBackup} ${localConfig}) ` +
      `or reset every setting to its default with 'sudo azcmagent config clear' (the damaged file is kept as ${localConfigDamaged}).`,
    { target: localConfig },
  );
}
