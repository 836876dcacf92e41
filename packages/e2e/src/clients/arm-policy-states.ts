// Compliance through the unmodified @azure/arm-policyinsights 6.0.0 SDK (api-version
// 2024-10-01): the latest policy states of a resource group, and an on-demand evaluation of it
// polled to the end. Actions: queryResourceGroup, triggerResourceGroupEvaluation.
import { PolicyInsightsClient } from '@azure/arm-policyinsights';
import {
  collect,
  credentialFor,
  runClient,
  sdkOptions,
  text,
  type ArmClientInput,
} from './arm-client-kit.js';

async function main(input: ArmClientInput): Promise<unknown> {
  const client = new PolicyInsightsClient(
    credentialFor(input),
    input.subscriptionId,
    sdkOptions(input),
  );
  const group = text(input, 'resourceGroup');
  switch (input.action) {
    case 'queryResourceGroup':
      return collect(
        client.policyStates.listQueryResultsForResourceGroup(
          'latest',
          input.subscriptionId,
          group,
          {
            queryOptions: typeof input['filter'] === 'string' ? { filter: input['filter'] } : {},
          },
        ),
      );
    case 'triggerResourceGroupEvaluation':
      await client.policyStates.beginTriggerResourceGroupEvaluationAndWait(
        input.subscriptionId,
        group,
        { updateIntervalInMs: 250 },
      );
      return { triggered: group };
    default:
      throw new Error(`unknown action ${input.action}`);
  }
}

runClient(main);
