// Machines through the unmodified @azure/arm-hybridcompute SDK (api-version 2021-05-20).
// Actions: listByResourceGroup, listBySubscription, get, delete.
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import {
  collect,
  credentialFor,
  runClient,
  sdkOptions,
  text,
  type ArmClientInput,
} from './arm-client-kit.js';

async function main(input: ArmClientInput): Promise<unknown> {
  const client = new HybridComputeManagementClient(
    credentialFor(input),
    input.subscriptionId,
    sdkOptions(input),
  );
  switch (input.action) {
    case 'listByResourceGroup':
      return collect(client.machines.listByResourceGroup(text(input, 'resourceGroup')));
    case 'listBySubscription':
      return collect(client.machines.listBySubscription());
    case 'get':
      return client.machines.get(text(input, 'resourceGroup'), text(input, 'name'));
    case 'delete':
      return client.machines.delete(text(input, 'resourceGroup'), text(input, 'name'));
    default:
      throw new Error(`unknown action ${input.action}`);
  }
}

runClient(main);
