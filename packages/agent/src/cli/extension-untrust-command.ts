// `azcmagent extension untrust --publisher P --key-id ID` (root): stops trusting one of a
// publisher's keys; the change is written to the local-changes journal before the key file is
// removed.
import { assertPublisherName } from '../extensions/host/publisher-key.js';
import { untrustPublisherKey } from '../extensions/host/publisher-trust.js';
import { AgentError } from '../errors.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { PUBLISHER_FLAG } from './extension-trust-command.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'extension untrust',
  summary: "Stop trusting one of a publisher's keys for its extension packages.",
  details:
    "The key id is what 'azcmagent extension trust' printed, the file name under\nvar/opt/azcmagent/trusted-publishers/<publisher>/ without .pem. With no key trusted for a\npublisher, its packages are refused.",
  flags: [
    PUBLISHER_FLAG,
    { long: 'key-id', type: 'string', valueName: 'id', description: 'The id of the key' },
  ],
  positionals: { min: 0, max: 0 },
  examples: ['sudo azcmagent extension untrust --publisher Contoso.Tools --key-id 3q2-7w0R…'],
};

export async function run(context: CommandContext): Promise<number> {
  const publisher = context.flags.publisher;
  const keyId = context.flags['key-id'];
  requireRoot([
    'extension',
    'untrust',
    ...(typeof publisher === 'string' ? ['--publisher', publisher] : []),
    ...(typeof keyId === 'string' ? ['--key-id', keyId] : []),
  ]);
  if (typeof publisher !== 'string' || typeof keyId !== 'string' || keyId === '') {
    throw new AgentError('ERR_USAGE', 'Give both --publisher <publisher> and --key-id <id>.');
  }
  assertPublisherName(publisher);
  const change = await untrustPublisherKey(context.paths(), publisher, keyId);
  if (context.json) {
    context.printJson({ Publisher: publisher, KeyId: keyId, TrustedKeyIds: change.keyIds });
  } else {
    context.out.stdout(
      `Publisher ${publisher} key ${keyId} is no longer trusted; ${change.keyIds.length === 0 ? `no key of ${publisher} is trusted, so its packages are refused` : `${change.keyIds.length} still trusted`}.\n`,
    );
  }
  return 0;
}
