// Policy through the unmodified @azure/arm-policy 6.0.0 SDK (api-version 2024-05-01):
// definitions and assignments with the SDK's own operations. That SDK has no exemption
// operations, so exemptions go through the same client's authenticated pipeline
// (`sendRequest`) at 2022-07-01-preview, the shape Azure serves them in.
// Actions: createDefinition, createAssignment, getAssignment, deleteAssignment, createExemption,
// listExemptions.
import { PolicyClient } from '@azure/arm-policy';
import { createHttpHeaders, createPipelineRequest } from '@azure/core-rest-pipeline';
import {
  credentialFor,
  runClient,
  sdkOptions,
  text,
  type ArmClientInput,
} from './arm-client-kit.js';

const EXEMPTION_API = '2022-07-01-preview';

async function main(input: ArmClientInput): Promise<unknown> {
  const client = new PolicyClient(credentialFor(input), input.subscriptionId, sdkOptions(input));
  switch (input.action) {
    case 'createDefinition':
      return client.policyDefinitions.createOrUpdate(
        text(input, 'name'),
        input['definition'] as Parameters<typeof client.policyDefinitions.createOrUpdate>[1],
      );
    case 'createAssignment':
      return client.policyAssignments.create(
        text(input, 'scope'),
        text(input, 'name'),
        input['assignment'] as Parameters<typeof client.policyAssignments.create>[2],
      );
    case 'getAssignment':
      return client.policyAssignments.get(text(input, 'scope'), text(input, 'name'));
    case 'deleteAssignment':
      return client.policyAssignments.delete(text(input, 'scope'), text(input, 'name'));
    case 'createExemption':
      return exemptionRequest(client, input, 'PUT', input['exemption']);
    case 'listExemptions':
      return exemptionRequest(client, input, 'GET');
    default:
      throw new Error(`unknown action ${input.action}`);
  }
}

/** `{scope}/providers/Microsoft.Authorization/policyExemptions[/{name}]` through the SDK's pipeline. */
async function exemptionRequest(
  client: PolicyClient,
  input: ArmClientInput,
  method: 'PUT' | 'GET',
  body?: unknown,
): Promise<unknown> {
  const name = method === 'PUT' ? `/${text(input, 'name')}` : '';
  const filter =
    typeof input['filter'] === 'string' ? `&$filter=${encodeURIComponent(input['filter'])}` : '';
  const request = createPipelineRequest({
    url: `${input.endpoint}${text(input, 'scope')}/providers/Microsoft.Authorization/policyExemptions${name}?api-version=${EXEMPTION_API}${filter}`,
    method,
    headers: createHttpHeaders({ 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const response = await client.sendRequest(request);
  const parsed = (response.bodyAsText ? JSON.parse(response.bodyAsText) : {}) as {
    error?: { code?: string; message?: string };
  };
  if (response.status >= 400) {
    throw Object.assign(new Error(parsed.error?.message ?? `HTTP ${response.status}`), {
      statusCode: response.status,
      code: parsed.error?.code,
    });
  }
  return parsed;
}

runClient(main);
