// Builds LoadedConfig values for unit tests without touching the file system.
import type { LoadedConfig } from '../config/local-config-file.js';
import type { StoredConfig } from '../config/local-config.js';
import { parseStoredConfig } from '../config/local-config-file.js';
import { defaultConfig } from '../config/property-table.js';
import { agentPaths } from '../paths.js';

const paths = agentPaths('/test-root');

/** Parses JSON exactly as localconfig.json would be read, so fixtures pass the real validation. */
export function loadedFromJson(json: Record<string, unknown>): LoadedConfig {
  const stored: StoredConfig = parseStoredConfig(JSON.stringify(json));
  return { state: 'ok', paths, stored, settings: { ...defaultConfig(), ...stored }, bytes: null };
}

export function corruptLoaded(
  reason = 'it is not valid JSON (Unexpected end of JSON input)',
): LoadedConfig {
  return { state: 'corrupt', paths, reason };
}
