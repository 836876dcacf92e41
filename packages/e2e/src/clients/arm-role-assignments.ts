// Role assignments and role definitions through the unmodified @azure/arm-authorization SDK.
// Actions: create, get, list (at a scope, optional filter), delete, listDefinitions, getDefinition.
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import {
  collect,
  credentialFor,
  runClient,
  sdkOptions,
  text,
  type ArmClientInput,
} from './arm-client-kit.js';

async function main(input: ArmClientInput): Promise<unknown> {
  const client = new AuthorizationManagementClient(
    credentialFor(input),
    input.subscriptionId,
    sdkOptions(input),
  );
  const filter = typeof input['filter'] === 'string' ? { filter: input['filter'] } : {};
  switch (input.action) {
    case 'create':
      return client.roleAssignments.create(text(input, 'scope'), text(input, 'name'), {
        roleDefinitionId: text(input, 'roleDefinitionId'),
        principalId: text(input, 'principalId'),
        ...(typeof input['principalType'] === 'string'
          ? { principalType: input['principalType'] }
          : {}),
      });
    case 'get':
      return client.roleAssignments.get(text(input, 'scope'), text(input, 'name'));
    case 'list':
      return collect(client.roleAssignments.listForScope(text(input, 'scope'), filter));
    case 'listForSubscription':
      return collect(client.roleAssignments.listForSubscription(filter));
    case 'delete': {
      // 200 carries the deleted assignment, 204 says there was none: the test needs to tell.
      let status = 0;
      const deleted = await client.roleAssignments.delete(
        text(input, 'scope'),
        text(input, 'name'),
        {
          onResponse: (response) => {
            status = response.status;
          },
        },
      );
      return { status, deleted };
    }
    case 'listDefinitions':
      return collect(client.roleDefinitions.list(text(input, 'scope'), filter));
    case 'getDefinition':
      return client.roleDefinitions.getById(text(input, 'id'));
    default:
      throw new Error(`unknown action ${input.action}`);
  }
}

runClient(main);
