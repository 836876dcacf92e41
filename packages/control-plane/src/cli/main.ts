// `tether`: the control plane's server and admin commands. Each command group lives in its own
// module under commands/ and is loaded only when it is the one asked for.
import { Command } from 'commander';

interface CommandModule {
  register(program: Command): void;
}

/** One line per command group. */
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  init: () => import('./commands/init.js'),
  server: () => import('./commands/server.js'),
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
};

const program = new Command('tether')
  .description('Tether control plane: `tether init`, `tether server`, and commands to manage it')
  .showHelpAfterError('(add --help for usage)');

const asked = process.argv[2];
const wanted = asked !== undefined && asked in COMMANDS ? [asked] : Object.keys(COMMANDS);
for (const name of wanted) {
  const load = COMMANDS[name];
  if (load !== undefined) (await load()).register(program);
}
await program.parseAsync(process.argv);
