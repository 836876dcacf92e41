// `azcmagent disconnect`: root only. Deletes the machine resource with the operator's credential,
// then the local state and key; `--force-local-only` removes only the local part.
import { rmSync } from 'node:fs';
import { deleteMachine } from '../control-plane/machine-api.js';
import { trustedOwnerUid } from '../extensions/host/trusted-owner.js';
import { requireAgentState } from '../identity/agent-state.js';
import { removeRetiredKeys } from '../identity/retired-keys.js';
import { readTrustedCa } from '../identity/trusted-ca.js';
import { localConfigEgress } from '../network/egress.js';
import type { CommandContext, CommandSpec } from './command-module.js';
import { CREDENTIAL_FLAGS, operatorTokenSource, resolveTarget } from './credential-flags.js';
import { requireRoot } from './require-root.js';

export const spec: CommandSpec = {
  usage: 'disconnect',
  summary: 'Delete the machine resource, then the local state and machine key.',
  flags: [
    ...CREDENTIAL_FLAGS,
    {
      long: 'force-local-only',
      type: 'boolean',
      description: 'Remove only the local state and key; leave the resource',
    },
  ],
  positionals: { min: 0, max: 0 },
  examples: [
    'azcmagent disconnect -i <appId> -p <secret>',
    'azcmagent disconnect --force-local-only',
  ],
};

export async function run(context: CommandContext): Promise<number> {
  requireRoot(['disconnect']);
  const paths = context.paths();
  const state = requireAgentState(paths);
  const progress = (line: string): void => {
    if (!context.json) context.out.stdout(`${line}\n`);
  };
  if (context.flags['force-local-only'] !== true) {
    // The operator's token goes where this CA says: only a CA only root can change will do.
    const savedCa = readTrustedCa(paths);
    const target = resolveTarget(context, state.endpoint, savedCa);
    const egress = localConfigEgress(paths, { trustedOwnerUid: trustedOwnerUid(paths) });
    const tokenFor = operatorTokenSource(
      context,
      { ...target, tenantId: target.tenantId ?? state.tenantId },
      egress,
    );
    progress(`Deleting ${state.resourceId}`);
    const token = await tokenFor(Date.now());
    const outcome = await deleteMachine(
      {
        endpoint: state.endpoint,
        ca: target.ca,
        egress,
        subscriptionId: state.subscriptionId,
        resourceGroup: state.resourceGroup,
        resourceName: state.resourceName,
      },
      token,
    );
    if (outcome === 'absent') progress('The machine resource was already gone');
  }
  progress('Removing the local state and the machine key');
  for (const file of [
    paths.agentState,
    paths.machineKey,
    `${paths.machineKey}.new`,
    paths.caCert,
    paths.legacyCaCert,
    paths.serviceStatus('himds'),
  ]) {
    rmSync(file, { force: true });
  }
  removeRetiredKeys(paths);
  if (context.json) context.printJson({ Status: 'Disconnected', ResourceId: state.resourceId });
  else progress('Disconnected');
  return 0;
}
