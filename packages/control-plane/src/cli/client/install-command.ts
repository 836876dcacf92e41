// The one command "Add a server" prints, from the shared builder; a value that cannot go into it
// is a usage error of the command.
import {
  installCommand as buildInstallCommand,
  InstallCommandError,
} from '@tether/protocol/install-command';
import { CliError } from './cli-error.js';

export function installCommand(options: {
  endpoint: string;
  caPem: string;
  token: string;
}): string {
  try {
    return buildInstallCommand(options);
  } catch (error) {
    if (error instanceof InstallCommandError) throw new CliError('ERR_USAGE', error.message);
    throw error;
  }
}
