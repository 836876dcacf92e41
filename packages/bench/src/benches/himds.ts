// HIMDS on a real connected agent, over one keep-alive node:http connection: the managed-identity
// token flow with the token already cached, and instance metadata, beside a bare node:http floor.
import { writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent, createServer, request } from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startAgentFixture, waitForLine, waitUntil, type AgentFixture } from '../agent-fixture.js';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import { serveFloorUntilTerminated } from '../floor-server.js';
import { report, summarize } from '../stats.js';

const WARMUP_MS = 1_000;
const ROUND_MS = 600;
const ROUNDS = 10;
const METADATA_PATH = '/metadata/instance?api-version=2020-06-01';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What the floor answers: HIMDS's own bytes for each request shape. */
interface FloorScript {
  challenge: Answer;
  token: Answer;
  metadata: Answer;
}

type Flow = (port: number) => Promise<void>;

export async function run(): Promise<void> {
  let fixture: AgentFixture | undefined;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    fixture = await startAgentFixture();
    const port = await freePort();
    fixture.startService('himds', { AZCMAGENT_HIMDS_PORT: String(port) });
    await waitUntil('HIMDS to answer', async () => {
      const answer = await get(agent, port, METADATA_PATH, { Metadata: 'true' });
      return answer.status === 200 ? true : undefined;
    });
    const tokenPath = `/metadata/identity/oauth2/token?api-version=2020-06-01&resource=${encodeURIComponent(fixture.endpoint)}`;

    // The first flow fetches and caches the token; every timed flow after it is HIMDS alone.
    const challenge = await get(agent, port, tokenPath, { Metadata: 'true' });
    const secret = await readFile(realmOf(challenge), 'utf8');
    const token = await get(agent, port, tokenPath, {
      Metadata: 'true',
      Authorization: `Basic ${secret}`,
    });
    if (token.status !== 200) throw new Error(`HIMDS token: ${token.status} ${token.body}`);
    const metadata = await get(agent, port, METADATA_PATH, { Metadata: 'true' });

    // The floor's challenge names a file of the secret's size, so the client reads alike.
    const floorSecretFile = join(fixture.scratch, 'floor-challenge.key');
    writeFileSync(floorSecretFile, secret, { mode: 0o600 });
    const script: FloorScript = {
      challenge: {
        ...challenge,
        headers: { ...challenge.headers, 'www-authenticate': `Basic realm=${floorSecretFile}` },
      },
      token,
      metadata,
    };
    const floor = fixture.spawnNode(
      [fileURLToPath(import.meta.url), '--floor'],
      JSON.stringify(script),
    );
    const floorPort = Number(await waitForLine(floor, /^floor listening on (\d+)$/m));

    const tokenFlow: Flow = async (p) => {
      const first = await get(agent, p, tokenPath, { Metadata: 'true' });
      if (first.status !== 401) throw new Error(`challenge answered ${first.status}`);
      const key = await readFile(realmOf(first), 'utf8');
      const second = await get(agent, p, tokenPath, {
        Metadata: 'true',
        Authorization: `Basic ${key}`,
      });
      if (second.status !== 200) throw new Error(`token answered ${second.status}`);
    };
    const metadataFlow: Flow = async (p) => {
      const answer = await get(agent, p, METADATA_PATH, { Metadata: 'true' });
      if (answer.status !== 200) throw new Error(`metadata answered ${answer.status}`);
    };
    const cases = [
      { label: 'himds token', flow: tokenFlow, port },
      { label: 'floor token', flow: tokenFlow, port: floorPort },
      { label: 'himds metadata', flow: metadataFlow, port },
      { label: 'floor metadata', flow: metadataFlow, port: floorPort },
    ];
    const samples = new Map<string, number[]>(cases.map((c) => [c.label, []]));
    const loadBefore = loadavg()[0] ?? 0;
    for (const c of cases) await measure(c.flow, c.port, WARMUP_MS);
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate the order so that neither side always follows the other.
      for (const c of round % 2 === 0 ? cases : [...cases].reverse()) {
        samples.get(c.label)?.push(...(await measure(c.flow, c.port, ROUND_MS)));
      }
    }
    const loadAfter = loadavg()[0] ?? 0;
    const s = (label: string): ReturnType<typeof summarize> => summarize(samples.get(label) ?? []);
    const [ht, ft, hm, fm] = [
      s('himds token'),
      s('floor token'),
      s('himds metadata'),
      s('floor metadata'),
    ];
    const us = (ms: number): number => Math.round(ms * 1000);
    report(
      `HIMDS on one keep-alive connection (${ROUNDS} interleaved rounds of ${ROUND_MS} ms per case; ` +
        `token n=${ht.n}, metadata n=${hm.n}; 1-min load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)}). ` +
        `Token flow = GET -> 401 with realm, read the ${secret.length}-byte file, GET with Basic -> 200, token cached; ` +
        `its floor = bare node:http (one process) answering HIMDS's bytes for the same two round trips ` +
        `and the client reading a file of the same size (the floor writes no challenge file).`,
      [
        {
          metric: 'token flow p50',
          value: us(ht.p50),
          unit: 'µs',
          floor: us(ft.p50),
          target: '<= 1.5x floor',
        },
        { metric: 'token flow p99', value: us(ht.p99), unit: 'µs', floor: us(ft.p99) },
        {
          metric: 'metadata p50',
          value: us(hm.p50),
          unit: 'µs',
          floor: us(fm.p50),
          target: '<= 1.5x floor',
        },
        { metric: 'metadata p99', value: us(hm.p99), unit: 'µs', floor: us(fm.p99) },
      ],
    );
  } finally {
    agent.destroy();
    await fixture?.stop();
  }
}

/** Runs flow back to back for durationMs; one latency per flow in ms. */
async function measure(flow: Flow, port: number, durationMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  while (performance.now() < end) {
    const start = performance.now();
    await flow(port);
    latencies.push(performance.now() - start);
  }
  return latencies;
}

function realmOf(answer: Answer): string {
  const realm = /^Basic realm=(\S+)$/.exec(answer.headers['www-authenticate'] ?? '')?.[1];
  if (realm === undefined) throw new Error(`no challenge in ${answer.status} ${answer.body}`);
  return realm;
}

function get(
  agent: Agent,
  port: number,
  path: string,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        const kept: Record<string, string> = {};
        for (const name of ['content-type', 'www-authenticate']) {
          const value = res.headers[name];
          if (typeof value === 'string') kept[name] = value;
        }
        resolve({ status: res.statusCode ?? 0, headers: kept, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The floor: bare node:http, answering HIMDS's recorded bytes by request shape. */
function serveFloor(): void {
  let input = '';
  process.stdin.setEncoding('utf8').on('data', (c: string) => (input += c));
  process.stdin.on('end', () => {
    const script = JSON.parse(input) as FloorScript;
    const server = createServer((req, res) => {
      const answer = (req.url ?? '').startsWith('/metadata/instance')
        ? script.metadata
        : req.headers['authorization'] === undefined
          ? script.challenge
          : script.token;
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
      req.resume();
    });
    serveFloorUntilTerminated(server);
  });
}

if (
  process.argv[2] === '--floor' &&
  import.meta.url === pathToFileURL(process.argv[1] ?? '').href
) {
  serveFloor();
}
