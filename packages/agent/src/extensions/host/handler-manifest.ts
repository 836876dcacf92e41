// HandlerManifest.json (SPEC §4): `[{version: 1.0, handlerManifest: {installCommand, …}}]`, plus
// Tether's optional `hostedCommand`. A package without a valid one is refused before install.
import { AgentError } from '../../errors.js';

export interface HandlerManifest {
  readonly installCommand: string;
  readonly uninstallCommand: string;
  readonly updateCommand: string;
  readonly enableCommand: string;
  readonly disableCommand: string;
  readonly rebootAfterInstall: boolean;
  readonly reportHeartbeat: boolean;
  readonly updateMode: string | undefined;
  /** Tether's addition: a long-running process supervised while the extension is enabled. */
  readonly hostedCommand: string | undefined;
}

export type HandlerCommandName = 'install' | 'uninstall' | 'update' | 'enable' | 'disable';

export const MANIFEST_FILE = 'HandlerManifest.json';

const COMMANDS = [
  'installCommand',
  'uninstallCommand',
  'updateCommand',
  'enableCommand',
  'disableCommand',
] as const;

/** Throws ERR_EXTENSION_PACKAGE_INVALID naming the first problem. */
export function parseHandlerManifest(text: string, source: string): HandlerManifest {
  const invalid = (why: string): AgentError =>
    new AgentError(
      'ERR_EXTENSION_PACKAGE_INVALID',
      `${source} is not a valid ${MANIFEST_FILE}: ${why}.`,
      {
        target: source,
      },
    );
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw invalid(`it is not JSON (${(error as Error).message})`);
  }
  const first: unknown = Array.isArray(json) ? json[0] : undefined;
  if (!Array.isArray(json) || json.length !== 1 || !isRecord(first)) {
    throw invalid('expected an array of one {version, handlerManifest} object');
  }
  const manifest = first.handlerManifest;
  if (!isRecord(manifest)) throw invalid('handlerManifest is missing or not an object');
  const commands: Partial<Record<(typeof COMMANDS)[number], string>> = {};
  for (const key of COMMANDS) {
    const value = manifest[key];
    if (typeof value !== 'string' || value.trim() === '') {
      throw invalid(`${key} must be a non-empty string`);
    }
    commands[key] = value;
  }
  const hosted = manifest.hostedCommand;
  if (hosted !== undefined && (typeof hosted !== 'string' || hosted.trim() === '')) {
    throw invalid('hostedCommand, when present, must be a non-empty string');
  }
  const updateMode = manifest.updateMode;
  if (updateMode !== undefined && typeof updateMode !== 'string') {
    throw invalid('updateMode, when present, must be a string');
  }
  return {
    installCommand: commands.installCommand ?? '',
    uninstallCommand: commands.uninstallCommand ?? '',
    updateCommand: commands.updateCommand ?? '',
    enableCommand: commands.enableCommand ?? '',
    disableCommand: commands.disableCommand ?? '',
    rebootAfterInstall: manifest.rebootAfterInstall === true,
    reportHeartbeat: manifest.reportHeartbeat === true,
    updateMode,
    hostedCommand: hosted,
  };
}

export function manifestCommand(manifest: HandlerManifest, name: HandlerCommandName): string {
  switch (name) {
    case 'install':
      return manifest.installCommand;
    case 'uninstall':
      return manifest.uninstallCommand;
    case 'update':
      return manifest.updateCommand;
    case 'enable':
      return manifest.enableCommand;
    case 'disable':
      return manifest.disableCommand;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
