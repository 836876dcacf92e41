// `tether`: the control plane's server and admin commands. Each command group lives in its own
// module under commands/ and is loaded only when it is the one asked for.
import { Command } from 'commander';
import { profileOption } from './client/profile-option.js';
import { TETHER_VERSION } from '../version.js';
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
  policy: () => import('./commands/policy.js'),
  'guest-config': () => import('./commands/guest-config.js'),
};

/** Commands a group module registers besides the one it is named after. */
const ALSO_IN: Record<string, string> = { logout: 'login', account: 'login', user: 'ad' };

/** Top-level await is avoided: the program ships as a CommonJS bundle, which starts faster. */
async function main(argv: readonly string[]): Promise<void> {
  // Not commander's .version(): its --version would be taken from every subcommand's arguments,
  // and `tether extension publish` has a --version of its own.
  if (argv.length === 3 && (argv[2] === '--version' || argv[2] === '-v')) {
    process.stdout.write(`tether version ${TETHER_VERSION}\n`);
    return;
  }
  const program = new Command('tether')
    .description('Tether control plane: `tether init`, `tether server`, and commands to manage it')
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

main(process.argv).catch((error: unknown) => {
  process.stderr.write(
    `tether: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
