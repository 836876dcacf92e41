// Targets for what reaches the agent from outside: extension zips (entry names, modes, damaged
// bytes) and requests to the local HIMDS endpoint from any local process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planZip } from '@tether/agent/extensions/host/zip-extract';
import { ChallengeStore } from '@tether/agent/himds/challenge-store';
import { handleHimdsRequest } from '@tether/agent/himds/himds-server';
import type { AgentState } from '@tether/agent/identity/agent-state';
import fc from 'fast-check';
import { ZipFile } from 'yazl';
import { textFrom } from '../arbitraries.js';
import { describeError, expectOnlyAsync, tetherError } from '../expect-only.js';
import { fuzzTarget, type FuzzTarget } from '../fuzz-target.js';

interface ZipInput {
  readonly entries: readonly { name: string; mode: number; data: string }[];
  readonly damage: readonly { at: number; byte: number }[];
}

async function buildZip(input: ZipInput): Promise<Buffer> {
  const zip = new ZipFile();
  for (const entry of input.entries) {
    if (entry.name.endsWith('/')) zip.addEmptyDirectory(entry.name, { mode: entry.mode });
    else zip.addBuffer(Buffer.from(entry.data), entry.name, { mode: entry.mode, compress: false });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  const bytes = Buffer.concat(chunks);
  for (const { at, byte } of input.damage) {
    if (bytes.length > 0) bytes[at % bytes.length] = byte;
  }
  return bytes;
}

const zipEntries = fuzzTarget(
  'zip-entries',
  'agent extensions/host/zip-extract planZip (extension package entries)',
  () => ({
    arbitrary: fc.record({
      entries: fc.array(
        fc.record({
          name: textFrom(['a', 'bin/', '/', '../', './', '..', '\\', 'C:', 'x.sh', '//', '.'], 5),
          mode: fc.constantFrom(0o100644, 0o100755, 0o120777, 0o40755, 0o10644, 0o140644, 0o644),
          data: fc.string({ maxLength: 8 }),
        }),
        { maxLength: 4 },
      ),
      damage: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), {
        maxLength: 3,
      }),
    }),
    check: async (input: ZipInput) => {
      let bytes: Buffer;
      try {
        bytes = await buildZip(input);
      } catch {
        return undefined; // yazl refused the entry names: nothing reached the agent
      }
      return expectOnlyAsync(tetherError, () => planZip(bytes, 'fuzz.zip'));
    },
  }),
);

const STATE: AgentState = {
  resourceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/m1',
  resourceName: 'm1',
  resourceGroup: 'rg',
  subscriptionId: 's',
  tenantId: 't',
  location: 'local',
  vmId: 'vm',
  principalId: 'p',
  endpoint: 'https://cp',
  tags: { env: 'prod' },
  credentialExpiresOn: '2030-01-01T00:00:00Z',
};

const HEADER_VALUES = [
  'true',
  'True',
  'localhost',
  '127.0.0.1',
  '[::1]',
  'localhost:40342',
  'evil.example',
  'Basic x',
  'Basic ',
  '',
  '1.2.3.4',
];

const himdsRequests = fuzzTarget(
  'himds-requests',
  'agent himds/himds-server handleHimdsRequest (local metadata and token requests)',
  () => {
    const clock = { now: () => 1_700_000_000_000 };
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-himds-'));
    const challenges = new ChallengeStore(dir, clock, () => {});
    const deps = {
      state: () => STATE,
      challenges,
      token: (resource: string) =>
        Promise.resolve({ token: `tok-${resource}`, expiresAt: clock.now() + 3_600_000 }),
      nowMs: clock.now,
    };
    return {
      arbitrary: fc.record({
        method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'get', ''),
        url: textFrom([
          '/metadata/identity/oauth2/token',
          '/metadata/instance',
          '/compute',
          '?',
          '&',
          'api-version=',
          '2020-06-01',
          '2021-02-01',
          'resource=',
          'https://vault',
          '%',
          '%zz',
          '#',
          '/',
          '..',
          'format=text',
          '=',
        ]),
        headers: fc.dictionary(
          fc.constantFrom(
            'host',
            'metadata',
            'authorization',
            'x-forwarded-for',
            'forwarded',
            'x-identity-header',
          ),
          fc.oneof(
            textFrom(HEADER_VALUES, 3),
            fc.array(fc.constantFrom(...HEADER_VALUES), { maxLength: 2 }),
          ),
        ),
      }),
      check: async (request: {
        method: string;
        url: string;
        headers: Record<string, string | string[]>;
      }) => {
        try {
          const answer = await handleHimdsRequest({ ...request, callerUid: () => 1000 }, deps);
          return answer.status >= 500
            ? `5xx ${answer.status}: ${JSON.stringify(answer.body)}`
            : undefined;
        } catch (error) {
          return `crash: ${describeError(error)}`;
        }
      },
      close: () => {
        challenges.clear();
        rmSync(dir, { recursive: true, force: true });
        return Promise.resolve();
      },
    };
  },
);

export const AGENT_INPUT_TARGETS: readonly FuzzTarget[] = [zipEntries, himdsRequests];
