// Loading localconfig.json for a command: a corrupt file stops the command with the repair advice.
import {
  corruptConfigError,
  loadLocalConfig,
  type LoadedConfig,
} from '../config/local-config-file.js';
import type { CommandContext } from './command-module.js';

export function readConfigOrFail(context: CommandContext): Extract<LoadedConfig, { state: 'ok' }> {
  const paths = context.paths();
  context.verbose(`Reading ${paths.localConfig}`);
  const loaded = loadLocalConfig(paths);
  if (loaded.state === 'corrupt') throw corruptConfigError(loaded);
  return loaded;
}
