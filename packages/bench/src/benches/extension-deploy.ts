// Extension deployment on a real connected agent: from the operator's PUT being accepted to its
// operation reading Succeeded, for Microsoft.Azure.Extensions/CustomScript (`true`) with the
// package already cached — a settings change (enable with a new sequence) and install/remove
// cycles of a fresh extension name. Floor, interleaved in the same run: the handler commands
// the agent runs, spawned directly (`/bin/sh -c "node handler.cjs …"`) in a prepared copy of
// the handler folder. The settings change is also made through the unmodified
// @azure/arm-hybridcompute SDK (beginCreateOrUpdateAndWait), timed from its call to its result.
import { HybridComputeManagementClient } from '@azure/arm-hybridcompute';
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Agent } from 'node:https';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import {
  startAgentFixture,
  waitForLine,
  type AgentFixture,
  type RunningService,
} from '../agent-fixture.js';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import {
  firstPartyPackage,
  makePublisherKey,
  publishPackage,
  type PackageRef,
} from '../extension-publisher.js';
import { TetherApi, type Answer } from '../machine-fleet.js';
import { report, summarize } from '../stats.js';

const ROUNDS = Number(process.env['DEPLOY_BENCH_ROUNDS'] ?? 20);
const POLL_MS = 10;
const OPERATION_TIMEOUT_MS = 60_000;
const MACHINE_API = 'api-version=2024-07-10';
const USUAL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

interface Operation {
  status: string;
  /** From the write's answer to the first status read that is no longer InProgress. */
  ms: number;
  error?: { code?: string; message?: string };
}

export async function run(): Promise<void> {
  let fixture: AgentFixture | undefined;
  let api: TetherApi | undefined;
  let extensionService: RunningService | undefined;
  try {
    fixture = await startAgentFixture();
    const { install, endpoint, scratch } = fixture;
    const url = new URL(endpoint);
    api = new TetherApi(endpoint, Number(url.port), await readFile(install.caCert), 2);
    const admin = await api.adminToken(install);
    const cli = { install, url: endpoint, configDir: join(scratch, 'cli') };
    const ref = firstPartyPackage('Microsoft.Azure.Extensions', 'CustomScript');
    const key = await makePublisherKey(cli, join(scratch, 'keys'));
    await publishPackage(cli, key, ref);
    await fixture.azcmagent([
      'extension',
      'trust',
      ...['--publisher', ref.publisher, '--key', key.publicKeyFile],
    ]);
    const himdsPort = String(await freePort());
    fixture.startService('himds', { AZCMAGENT_HIMDS_PORT: himdsPort });
    extensionService = fixture.startService('extension', { AZCMAGENT_HIMDS_PORT: himdsPort });
    await waitForLine(extensionService.child, /^(extension service running for .*)$/m);

    const machine = `/subscriptions/${install.subscriptionId}/resourceGroups/bench/providers/Microsoft.HybridCompute/machines/bench-machine`;
    const [major, minor] = ref.version.split('.');
    const put = (name: string, command: string): Promise<Answer> =>
      (api as TetherApi).call('PUT', `${machine}/extensions/${name}?${MACHINE_API}`, admin, {
        location: 'westeurope',
        properties: {
          publisher: ref.publisher,
          type: ref.type,
          typeHandlerVersion: `${major}.${minor}`,
          settings: { commandToExecute: command },
        },
      });
    const remove = (name: string): Promise<Answer> =>
      (api as TetherApi).call('DELETE', `${machine}/extensions/${name}?${MACHINE_API}`, admin);
    const service = extensionService;
    const sdk = sdkClient(endpoint, install.subscriptionId, admin, await readFile(install.caCert));
    const sdkSettings = async (command: string): Promise<number> => {
      const started = performance.now();
      const result = await sdk.machineExtensions.beginCreateOrUpdateAndWait(
        'bench',
        'bench-machine',
        'CustomScript',
        {
          location: 'westeurope',
          properties: {
            publisher: ref.publisher,
            type: ref.type,
            typeHandlerVersion: `${major}.${minor}`,
            settings: { commandToExecute: command },
          },
        },
      );
      const ms = performance.now() - started;
      if (result.properties?.provisioningState !== 'Succeeded') {
        throw new Error(
          `SDK settings change ended ${String(result.properties?.provisioningState)}`,
        );
      }
      return ms;
    };
    const complete = async (what: string, answer: Answer, expected: number): Promise<number> => {
      if (answer.status !== expected) {
        throw new Error(`${what} answered ${answer.status} (expected ${expected}): ${answer.text}`);
      }
      const operation = await untilDone(api as TetherApi, admin, answer);
      if (operation.status !== 'Succeeded') {
        throw new Error(
          `${what}: the operation ended ${operation.status}: ${JSON.stringify(operation.error)}\nextension service:\n${service.output()}`,
        );
      }
      return operation.ms;
    };

    // The first install downloads, verifies and unzips the package: the cache is warm after it.
    const firstInstall = await complete('first PUT', await put('CustomScript', 'true'), 201);
    const floor = new HandlerFloor(ref, join(scratch, 'floor'), himdsPort);
    await floor.install();

    const samples = new Map<string, number[]>(
      [
        'settings',
        'sdk settings',
        'floor settings',
        'install',
        'floor install',
        'remove',
        'floor remove',
      ].map((k) => [k, []]),
    );
    const add = (label: string, ms: number): void => void samples.get(label)?.push(ms);
    const loadBefore = loadavg()[0] ?? 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const agent = async (): Promise<void> => {
        add(
          'settings',
          await complete('PUT settings', await put('CustomScript', `true ${round}`), 200),
        );
        add('sdk settings', await sdkSettings(`true sdk ${round}`));
      };
      const bare = async (): Promise<void> => add('floor settings', await floor.enable());
      await inTurn(round, agent, bare);
    }
    // Install/remove cycles of a fresh name: one CustomScript per machine, so the first goes.
    await complete('DELETE CustomScript', await remove('CustomScript'), 202);
    await floor.remove();
    for (let round = 1; round <= ROUNDS; round++) {
      const name = `CustomScript${round}`;
      const agent = async (): Promise<void> => {
        add('install', await complete(`PUT ${name}`, await put(name, 'true'), 201));
        add('remove', await complete(`DELETE ${name}`, await remove(name), 202));
      };
      const bare = async (): Promise<void> => {
        add('floor install', await floor.install());
        add('floor remove', await floor.remove());
      };
      await inTurn(round, agent, bare);
    }
    const loadAfter = loadavg()[0] ?? 0;

    const s = (label: string): ReturnType<typeof summarize> => summarize(samples.get(label) ?? []);
    const ms = (n: number): number => Math.round(n * 10) / 10;
    const rows = (metric: string, label: string, floorLabel: string, target?: string) => {
      const [a, f] = [s(label), s(floorLabel)];
      return [
        {
          metric: `${metric} p50`,
          value: ms(a.p50),
          unit: 'ms',
          floor: ms(f.p50),
          ...(target === undefined ? {} : { target }),
        },
        { metric: `${metric} p99`, value: ms(a.p99), unit: 'ms', floor: ms(f.p99) },
      ];
    };
    report(
      `extension-deploy: ${ref.publisher}/${ref.type} ${ref.version} (commandToExecute "true"), package cached, ` +
        `one real connected agent (azcmagent service run himds + extension, root); ` +
        `${ROUNDS} interleaved rounds per case; time = write answered (201/200/202) -> operation status Succeeded, polled every ${POLL_MS} ms over keep-alive HTTPS; ` +
        `floor = the same handler commands spawned directly (/bin/sh -c "node handler.cjs <cmd>") in a prepared handler folder: ` +
        `settings = enable; install = install + enable; remove = disable + uninstall + delete the folder ` +
        `(first install with download: ${ms(firstInstall)} ms, untimed; 1-min load ${loadBefore.toFixed(1)} -> ${loadAfter.toFixed(1)})`,
      [
        ...rows('settings change (enable)', 'settings', 'floor settings', 'median < 1000 ms'),
        ...rows(
          'settings change, SDK call -> result',
          'sdk settings',
          'floor settings',
          'median < 500 ms',
        ),
        ...rows('install + enable', 'install', 'floor install', 'median < 1000 ms'),
        ...rows('remove', 'remove', 'floor remove'),
      ],
    );
  } finally {
    api?.destroy();
    await fixture?.stop();
  }
}

/** The unmodified SDK over keep-alive HTTPS trusting the installation's CA, as the admin. */
function sdkClient(
  endpoint: string,
  subscriptionId: string,
  token: string,
  ca: Buffer,
): HybridComputeManagementClient {
  const credential = {
    getToken: () => Promise.resolve({ token, expiresOnTimestamp: Date.now() + 3_600_000 }),
  };
  const client = new HybridComputeManagementClient(credential, subscriptionId, {
    endpoint,
    $host: endpoint,
    credentialScopes: [`${endpoint}/.default`],
  });
  const agent = new Agent({ keepAlive: true, ca });
  client.pipeline.addPolicy({
    name: 'tether-bench-ca',
    sendRequest: (request, next) => {
      request.agent = agent;
      return next(request);
    },
  });
  return client;
}

/** Polls the operation status URL (Azure-AsyncOperation) until it leaves InProgress. */
async function untilDone(api: TetherApi, token: string, answer: Answer): Promise<Operation> {
  const started = performance.now();
  const location = answer.headers['azure-asyncoperation'];
  if (location === undefined) throw new Error(`no Azure-AsyncOperation header: ${answer.text}`);
  const path = new URL(location).pathname + new URL(location).search;
  for (;;) {
    const status = await api.call('GET', path, token);
    if (status.status !== 200) throw new Error(`operation status: ${status.status} ${status.text}`);
    const body = JSON.parse(status.text) as Omit<Operation, 'ms'>;
    if (body.status !== 'InProgress') return { ...body, ms: performance.now() - started };
    if (performance.now() - started > OPERATION_TIMEOUT_MS) {
      throw new Error(`operation still InProgress after ${OPERATION_TIMEOUT_MS} ms: ${path}`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * The irreducible work: a handler folder laid out as the agent lays it out, and its manifest
 * commands spawned as the agent spawns them, with nothing around them.
 */
class HandlerFloor {
  #sequence = 0;
  readonly #dir: string;
  readonly #logs: string;

  constructor(
    private readonly ref: PackageRef,
    root: string,
    private readonly himdsPort: string,
  ) {
    this.#dir = join(root, `${ref.publisher}.${ref.type}-${ref.version}`);
    this.#logs = join(root, 'logs');
  }

  /** Unpacked folder (untimed: the package is there), then install and enable, timed. */
  async install(): Promise<number> {
    cpSync(this.ref.dir, this.#dir, { recursive: true });
    const started = performance.now();
    this.#environment();
    await this.#command('install');
    this.#settings();
    await this.#command('enable');
    return performance.now() - started;
  }

  async enable(): Promise<number> {
    const started = performance.now();
    this.#settings();
    await this.#command('enable');
    return performance.now() - started;
  }

  async remove(): Promise<number> {
    const started = performance.now();
    await this.#command('disable');
    await this.#command('uninstall');
    rmSync(this.#dir, { recursive: true, force: true });
    return performance.now() - started;
  }

  #environment(): void {
    for (const dir of ['config', 'status']) mkdirSync(join(this.#dir, dir), { recursive: true });
    mkdirSync(this.#logs, { recursive: true });
    const environment = {
      logFolder: this.#logs,
      configFolder: join(this.#dir, 'config'),
      statusFolder: join(this.#dir, 'status'),
      heartbeatFile: join(this.#dir, 'heartbeat.log'),
    };
    writeFileSync(
      join(this.#dir, 'HandlerEnvironment.json'),
      `[{"name":"${this.ref.publisher}.${this.ref.type}","version":1.0,"handlerEnvironment":${JSON.stringify(environment)}}]\n`,
    );
  }

  #settings(): void {
    this.#sequence++;
    const body = {
      runtimeSettings: [
        {
          handlerSettings: {
            publicSettings: { commandToExecute: `true ${this.#sequence}` },
            protectedSettings: null,
            protectedSettingsCertThumbprint: null,
          },
        },
      ],
    };
    writeFileSync(
      join(this.#dir, 'config', `${this.#sequence}.settings`),
      `${JSON.stringify(body)}\n`,
      { mode: 0o600 },
    );
  }

  #command(name: string): Promise<void> {
    const himds = `http://127.0.0.1:${this.himdsPort}`;
    return new Promise((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', `node handler.cjs ${name}`], {
        cwd: this.#dir,
        stdio: 'ignore',
        env: {
          ...process.env,
          PATH: `${dirname(process.execPath)}:${USUAL_PATH}`,
          ConfigSequenceNumber: String(this.#sequence),
          IDENTITY_ENDPOINT: `${himds}/metadata/identity/oauth2/token`,
          IMDS_ENDPOINT: himds,
        },
      });
      child.once('error', reject);
      child.once('exit', (code) => {
        if (code === 0) resolve();
        else reject(new Error(`floor: node handler.cjs ${name} exited ${String(code)}`));
      });
    });
  }
}

/** Runs both, alternating which goes first by round, so neither always runs right after the other. */
async function inTurn(
  round: number,
  agent: () => Promise<void>,
  bare: () => Promise<void>,
): Promise<void> {
  const [first, second] = round % 2 === 0 ? [agent, bare] : [bare, agent];
  await first();
  await second();
}
