// Machine extensions through the unmodified @azure/arm-hybridcompute SDK (api-version
// 2021-05-20): the long-running create, update and delete polled to the end, get and list.
// Actions: createOrUpdate, update, delete, get, list.
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import {
  collect,
  credentialFor,
  runClient,
  sdkOptions,
  text,
  type ArmClientInput,
} from './arm-client-kit.js';

/** The SDK's poller follows Retry-After; this only bounds the wait when there is none. */
const POLL = { updateIntervalInMs: 250 };

async function main(input: ArmClientInput): Promise<unknown> {
  const client = new HybridComputeManagementClient(
    credentialFor(input),
    input.subscriptionId,
    sdkOptions(input),
  );
  const group = text(input, 'resourceGroup');
  const machine = text(input, 'machine');
  const name = text(input, 'name');
  const extensions = client.machineExtensions;
  try {
    switch (input.action) {
      case 'createOrUpdate':
        return await extensions.beginCreateOrUpdateAndWait(
          group,
          machine,
          name,
          input['extension'] as Parameters<typeof extensions.beginCreateOrUpdateAndWait>[3],
          POLL,
        );
      case 'update':
        return await extensions.beginUpdateAndWait(
          group,
          machine,
          name,
          input['extension'] as Parameters<typeof extensions.beginUpdateAndWait>[3],
          POLL,
        );
      case 'delete':
        await extensions.beginDeleteAndWait(group, machine, name, POLL);
        return { deleted: name };
      case 'get':
        return await extensions.get(group, machine, name);
      case 'list':
        return await collect(extensions.list(group, machine));
      default:
        throw new Error(`unknown action ${input.action}`);
    }
  } catch (error) {
    // A failed operation is not an HTTP error: report it with the resource as it now stands.
    const e = error as { statusCode?: number; message?: string };
    if (typeof e.statusCode === 'number') throw error;
    const after = await extensions.get(group, machine, name).catch(() => undefined);
    throw Object.assign(new Error(e.message ?? String(error)), {
      statusCode: 0,
      code: 'OperationFailed',
      message: `${e.message ?? String(error)}${after === undefined ? '' : ` | ${JSON.stringify(after)}`}`,
    });
  }
}

runClient(main);
