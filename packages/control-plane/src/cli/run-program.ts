// The `tether` program: commander with every command group. Each group lives in its own module
// under commands/ and is loaded only when it is the one asked for.
import { Command } from 'commander';
import { profileOption } from './client/profile-option.js';
import { terminalQueries, writeStderr, writeStdout } from './client/standard-output.js';
import type * as ServerCommands from './server-commands.js';

interface CommandModule {
  register(program: Command): void;
}

/** A command of the second bundle (server-commands.ts): loaded only when it runs. */
async function serverCommand(name: keyof typeof ServerCommands): Promise<CommandModule> {
  const commands = await import('./server-commands.js');
  return commands[name];
}

/** One line per command group. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  init: () => serverCommand('init'),
  server: () => serverCommand('server'),
  keys: () => serverCommand('keys'),
  backup: () => serverCommand('backup'),
  login: () => import('./commands/login.js'),
  sp: () => import('./commands/sp.js'),
  ad: () => import('./commands/ad.js'),
  group: () => import('./commands/group.js'),
  role: () => import('./commands/role.js'),
  access: () => import('./commands/access.js'),
  machine: () => import('./commands/machine.js'),
  activity: () => import('./commands/activity.js'),
  'onboarding-token': () => import('./commands/onboarding-token.js'),
  extension: () => import('./commands/extension.js'),
  'agent-package': () => import('./commands/agent-package.js'),
  policy: () => import('./commands/policy.js'),
  'guest-config': () => import('./commands/guest-config.js'),
};

/** Commands a group module registers besides the one it is named after. */
const ALSO_IN: Record<string, string> = {
  logout: 'login',
  account: 'login',
  user: 'ad',
  restore: 'backup',
};

export async function runProgram(argv: readonly string[]): Promise<void> {
  const program = new Command('tether')
    .description('Tether control plane: `tether init`, `tether server`, and commands to manage it')
    .configureOutput({ ...terminalQueries(), writeOut: writeStdout, writeErr: writeStderr })
    .addOption(profileOption())
    .addHelpText('after', '\n`tether --version` (or -v) prints the version of tether.')
    .showHelpAfterError('(add --help for usage)');
  const asked = argv[2] === undefined ? undefined : (ALSO_IN[argv[2]] ?? argv[2]);
  const wanted = asked !== undefined && asked in COMMANDS ? [asked] : Object.keys(COMMANDS);
  for (const name of wanted) {
    const load = COMMANDS[name];
    if (load !== undefined) (await load()).register(program);
  }
  await program.parseAsync(argv);
}
