// `azcmagent upgrade trust --key FILE` (root): trusts a publisher's public key for agent packages
// (trusted-agent-package-keys/<key id>.pem, root-owned, 0644); `--list` shows the trusted keys.
// With none trusted, every agent upgrade the control plane asks for is refused. The change is
// written to the local-changes journal before it is made.
import { publisherKeyId } from '@tether/protocol/extension-package';
import {
  trustAgentPackageKey,
  trustedKeyIds,
} from '../agent-upgrade/trusted-agent-package-keys.js';
import { AgentError } from '../errors.js';
import { parsePublisherKey } from '../extensions/host/publisher-key.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { readKeyFile } from './extension-trust-command.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'upgrade trust',
  summary: "Trust a publisher's public key for the agent packages this machine may upgrade to.",
  details:
    "The control plane can ask this machine to install a newer azcmagent package; it is installed\nonly if a key trusted here signed it. The key must be one SPKI PEM public key (-----BEGIN PUBLIC\nKEY-----), Ed25519 or ECDSA P-256, such as the publisher.pub.pem that 'tether extension keygen'\nwrites. It is stored as var/opt/azcmagent/trusted-agent-package-keys/<key id>.pem. --list shows\nthe trusted keys; 'azcmagent upgrade untrust --key-id ID' stops trusting one.",
  flags: [
    { long: 'key', type: 'string', valueName: 'file', description: 'The PEM public key file' },
    { long: 'list', type: 'boolean', description: 'List the trusted keys instead' },
  ],
  positionals: { min: 0, max: 0 },
  examples: [
    'sudo azcmagent upgrade trust --key ./publisher.pub.pem',
    'azcmagent upgrade trust --list',
  ],
};

export async function run(context: CommandContext): Promise<number> {
  const keyFile = context.flags.key;
  if (context.flags.list === true) {
    if (keyFile !== undefined) {
      throw new AgentError('ERR_USAGE', 'Give either --list or --key <file>, not both.');
    }
    const keyIds = trustedKeyIds(context.paths(), {
      ownerUid: 0,
      log: (line) => context.verbose(line),
    });
    if (context.json) context.printJson({ KeyIds: keyIds });
    else if (keyIds.length === 0) {
      context.out.stdout(
        'No key is trusted for agent packages: every agent upgrade is refused on this machine.\n',
      );
    } else context.out.stdout(`${keyIds.join('\n')}\n`);
    return 0;
  }
  requireRoot(['upgrade', 'trust', ...(typeof keyFile === 'string' ? ['--key', keyFile] : [])]);
  if (typeof keyFile !== 'string') {
    throw new AgentError('ERR_USAGE', 'Give --key <file> (or --list).');
  }
  const key = parsePublisherKey(readKeyFile(keyFile), keyFile);
  const keyId = publisherKeyId(key);
  const change = await trustAgentPackageKey(context.paths(), key);
  if (context.json) context.printJson({ KeyId: keyId, Changed: change.changed });
  else {
    context.out.stdout(
      `Key ${keyId} is trusted for agent packages${change.changed ? '' : ' (it already was)'}.\n`,
    );
  }
  return 0;
}
