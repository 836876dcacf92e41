// An agent away for longer than the extension request timeout (a short --extension-request-
// timeout stands in for hours): the extension requests made meanwhile, answered 201, fail with
// their reason (MachineNotReached, naming when the machine was last seen); on its return the
// agent's long poll serves it its goal state at once, and a new request reaches it. Then the
// policy cache: a real agent away longer than the 14 days its guest configuration cache is used
// for (agent-away-policy-cache.ts).
import { mkdtemp } from 'node:fs/promises';
import { join } from 'node:path';
import {
  firstPartyPackage,
  makePublisherKey,
  publishPackage,
} from '@tether/bench/dist/extension-publisher.js';
import { Deployment } from '../support/deployment.js';
import { checkPolicyCache } from './agent-away-policy-cache.js';
import { sleep, Verdict, waitFor, type FaultOptions } from '../support/verdict.js';

const TIMEOUT_SECONDS = 4;
const EXTENSION_VERSION = 'api-version=2024-07-10';

export async function run(options: FaultOptions): Promise<Verdict> {
  const verdict = new Verdict(
    'an agent away longer than the extension request timeout and the policy cache',
  );
  const deployment = await Deployment.start({
    nodes: 1,
    database: 'sqlite',
    flags: ['--extension-request-timeout', `${TIMEOUT_SECONDS}s`],
  });
  try {
    const configDir = await mkdtemp(join(deployment.root, 'cli-'));
    const cli = { install: deployment.install, url: deployment.publicUrl, configDir };
    const ref = firstPartyPackage('Microsoft.Azure.Extensions', 'CustomScript');
    await publishPackage(cli, await makePublisherKey(cli, join(configDir, 'key')), ref);

    const machines = await deployment.onboard('faults', options.short ? 5 : 50);
    const first = await deployment.fleet(machines, true);
    first.heartbeats(1000);
    await sleep(1500);
    // Away: the agents stop; requests for them are made and answered.
    await first.stop();
    const api = deployment.api();
    const admin = await deployment.adminToken();
    const extension = (path: string): string =>
      `${path}/extensions/CustomScript?${EXTENSION_VERSION}`;
    const body = (n: number): unknown => ({
      location: 'westeurope',
      properties: {
        publisher: ref.publisher,
        type: ref.type,
        typeHandlerVersion: ref.version.split('.').slice(0, 2).join('.'),
        settings: { commandToExecute: `echo ${n}` },
      },
    });
    // Each request's operation, as the SDK follows it (Azure-AsyncOperation).
    const accepted = new Map<string, string>();
    for (const m of machines) {
      const put = await api.call('PUT', extension(m.path), admin, body(1));
      const operation = put.headers['azure-asyncoperation'];
      if ((put.status === 201 || put.status === 200) && operation !== undefined)
        accepted.set(m.name, new URL(operation).pathname + new URL(operation).search);
      else verdict.expect(false, `PUT extension on ${m.name} answered ${put.status}: ${put.text}`);
    }
    const awayFor = TIMEOUT_SECONDS * 1000 + 3000;
    await sleep(awayFor);
    const failures: string[] = [];
    for (const [name, operation] of accepted) {
      const got = await api.call('GET', operation, admin);
      const answer = JSON.parse(got.text) as { status?: string; error?: { code?: string } };
      if (
        answer.status !== 'Failed' ||
        answer.error?.code !== 'MachineNotReached' ||
        !/last seen at/.test(got.text)
      )
        failures.push(`${name}: ${got.status} ${got.text.slice(0, 300)}`);
    }
    verdict.figure('extension requests answered 201 while the agents were away', accepted.size);
    verdict.figure(
      `failed with their reason after ${awayFor / 1000} s`,
      `${machines.length - failures.length} of ${machines.length}`,
    );
    verdict.expect(
      accepted.size === machines.length && failures.length === 0,
      `every request made while the agent was away fails with MachineNotReached, naming when it was last seen: ${failures.slice(0, 2).join('; ')}`,
    );

    // Back: the agents connect again, a new request reaches each at once.
    const back = await deployment.fleet(machines, true);
    back.heartbeats(1000);
    const returnedAt = Date.now();
    for (const m of machines) {
      const put = await api.call('PUT', extension(m.path), admin, body(2));
      verdict.expect(
        put.status === 200 || put.status === 201,
        `a new request after the failure is taken (${m.name}: ${put.status} ${put.text.slice(0, 200)})`,
      );
    }
    const delivered = await waitFor(async () => {
      const stats = await back.stats();
      return machines.every((m) => stats.operations.get(m.name)?.includes('CustomScript'));
    }, 10_000);
    const stats = await back.stats();
    verdict.figure(
      'new requests delivered to the returned agents',
      `${[...stats.operations.values()].filter((ops) => ops.includes('CustomScript')).length} of ${machines.length} in ${Date.now() - returnedAt} ms`,
    );
    verdict.figure('heartbeats answered 200 after the return', stats.heartbeatsOk);
    verdict.expect(delivered, 'every returned agent is served the new request');
    verdict.expect(
      Object.keys(stats.heartbeatFailures).length === 0 &&
        Object.keys(stats.pollFailures).length === 0,
      `the returned agents are served without errors (heartbeats ${JSON.stringify(stats.heartbeatFailures)}, polls ${JSON.stringify(stats.pollFailures)})`,
    );
  } finally {
    await deployment.stop();
  }
  await checkPolicyCache(verdict);
  return verdict;
}
