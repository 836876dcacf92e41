// `azcmagent upgrade untrust --key-id ID` (root): stops trusting a key for agent packages; the
// change is written to the local-changes journal before the key file is removed.
import { untrustAgentPackageKey } from '../agent-upgrade/trusted-agent-package-keys.js';
import { AgentError } from '../errors.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'upgrade untrust',
  summary: 'Stop trusting a key for agent packages.',
  details:
    "The key id is what 'azcmagent upgrade trust --list' shows. With no key trusted, every agent\nupgrade the control plane asks for is refused.",
  flags: [
    {
      long: 'key-id',
      type: 'string',
      valueName: 'id',
      description: 'The id of the key, from azcmagent upgrade trust --list',
    },
  ],
  positionals: { min: 0, max: 0 },
  examples: ['sudo azcmagent upgrade untrust --key-id 3q2-7w0R…'],
};

export async function run(context: CommandContext): Promise<number> {
  const keyId = context.flags['key-id'];
  requireRoot(['upgrade', 'untrust', ...(typeof keyId === 'string' ? ['--key-id', keyId] : [])]);
  if (typeof keyId !== 'string' || keyId === '') {
    throw new AgentError(
      'ERR_USAGE',
      'Give --key-id <id> (azcmagent upgrade trust --list shows them).',
    );
  }
  const change = await untrustAgentPackageKey(context.paths(), keyId);
  if (context.json) context.printJson({ KeyId: keyId, TrustedKeyIds: change.keyIds });
  else {
    context.out.stdout(
      `Key ${keyId} is no longer trusted for agent packages; ${change.keyIds.length === 0 ? 'none is trusted, so every agent upgrade is refused' : `${change.keyIds.length} still trusted`}.\n`,
    );
  }
  return 0;
}
