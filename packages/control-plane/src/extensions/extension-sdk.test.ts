// The unmodified @azure/arm-hybridcompute 3.0.0 pollers against the extension routes, in
// process: its requests are handed to the app through inject(), while a stand-in agent takes
// the operation from the goal state and reports it done.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import {
  createHttpHeaders,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { PUBLIC_URL } from '../resources/testing/arm-test-app.js';
import { CUSTOM_SCRIPT, ExtensionTestWorld } from './testing/extension-test-world.js';

void describe('@azure/arm-hybridcompute machineExtensions pollers', () => {
  let w: ExtensionTestWorld;
  let client: HybridComputeManagementClient;
  before(async () => {
    w = await ExtensionTestWorld.create();
    await w.publish(CUSTOM_SCRIPT.publisher, CUSTOM_SCRIPT.type, '2.1.0');
    const httpClient: HttpClient = {
      async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
        const url = new URL(request.url);
        const answer = await w.t.app.inject({
          method: request.method as 'GET',
          url: `${url.pathname}${url.search}`,
          headers: request.headers.toJSON(),
          ...(typeof request.body === 'string' ? { payload: request.body } : {}),
        });
        const headers = createHttpHeaders();
        for (const [name, value] of Object.entries(answer.headers)) {
          if (value !== undefined) headers.set(name, String(value));
        }
        return { request, status: answer.statusCode, headers, bodyAsText: answer.body };
      },
    };
    const credential = {
      getToken: () =>
        Promise.resolve({ token: w.admin, expiresOnTimestamp: Date.now() + 3_600_000 }),
    };
    client = new HybridComputeManagementClient(credential, w.sub, {
      endpoint: PUBLIC_URL,
      httpClient,
    });
  });
  after(() => w.close());

  /** Plays the agent: completes whatever operation the goal state hands out, with `result`. */
  async function agentCompletes(result: 'Succeeded' | 'Failed'): Promise<void> {
    for (;;) {
      const goal = await w.goalState();
      const pending = (
        goal.body['extensions'] as { name: string; operation: { id: string } | null }[]
      ).find((e) => e.operation !== null);
      if (pending !== undefined) {
        await w.report({
          name: pending.name,
          operationId: pending.operation?.id,
          result,
          ...(result === 'Failed'
            ? { error: { code: 'ERR_EXTENSION_NOT_ALLOWED', message: 'not on the allowlist' } }
            : {}),
        });
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  void it('creates, updates and deletes, polling Azure-AsyncOperation to the end', async () => {
    const [created] = await Promise.all([
      client.machineExtensions.beginCreateOrUpdateAndWait('Fleet', 'web-01', 'CustomScript', {
        location: 'westeurope',
        properties: {
          publisher: CUSTOM_SCRIPT.publisher,
          type: CUSTOM_SCRIPT.type,
          typeHandlerVersion: '2.1',
          settings: { commandToExecute: 'date' },
        },
      }),
      agentCompletes('Succeeded'),
    ]);
    assert.equal(created.properties?.provisioningState, 'Succeeded');
    assert.equal(created.name, 'CustomScript');
    const [updated] = await Promise.all([
      client.machineExtensions.beginUpdateAndWait('Fleet', 'web-01', 'CustomScript', {
        properties: { settings: { commandToExecute: 'uptime' } },
      }),
      agentCompletes('Succeeded'),
    ]);
    assert.deepEqual(updated.properties?.settings, { commandToExecute: 'uptime' });
    await Promise.all([
      client.machineExtensions.beginDeleteAndWait('Fleet', 'web-01', 'CustomScript'),
      agentCompletes('Succeeded'),
    ]);
    assert.deepEqual((await w.goalState()).body['extensions'], []);
    await assert.rejects(
      client.machineExtensions.get('Fleet', 'web-01', 'CustomScript'),
      /was not found/,
    );
  });

  void it('rejects with the operation error when the machine refuses', async () => {
    const [outcome] = await Promise.allSettled([
      client.machineExtensions.beginCreateOrUpdateAndWait('Fleet', 'web-01', 'Refused', {
        location: 'westeurope',
        properties: { publisher: CUSTOM_SCRIPT.publisher, type: CUSTOM_SCRIPT.type },
      }),
      agentCompletes('Failed'),
    ]);
    assert.ok(outcome.status === 'rejected');
    assert.match(String(outcome.reason), /not on the allowlist/);
  });
});
