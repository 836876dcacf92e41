// The agent behind a real forward proxy (Debian's tinyproxy): the agent runs in a network
// namespace whose only peer is the proxy's address, so the control plane (on the root
// namespace's loopback) is reachable only through it. Connect, heartbeats and an extension
// install go through it; without it, or with Arc bypassing it, the agent fails, trying directly.
// Runs only as root, alone; removes the namespace, the proxy and everything else it made.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readServiceStatus } from '@tether/agent/himds/service-status';
import { agentPaths } from '@tether/agent/paths';
import { runAzcmagent } from '@tether/agent/test-support/azcmagent-process';
import { armInput, createResourceGroup, type ClientAnswer } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  firstPartyPackages,
  makePublisherKey,
  publishPackage,
  runNodeClient,
  startControlPlane,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
} from '../harness/index.js';

const TINYPROXY = '/usr/bin/tinyproxy';
const SKIP = process.geteuid?.() !== 0 ? 'needs root: creates a network namespace' : false;

const suffix = randomBytes(3).toString('hex');
const NS = `tether-proxy-${suffix}`;
const HOST_IF = `tpx${suffix}a`;
const AGENT_IF = `tpx${suffix}b`;
// A /30 of its own: the namespace can reach the proxy's address and nothing else.
const PROXY_ADDRESS = '10.254.77.1';
const AGENT_ADDRESS = '10.254.77.2';
const PROXY_PORT = 20000 + Math.floor(Math.random() * 20000);
const PROXY_URL = `http://${PROXY_ADDRESS}:${PROXY_PORT}`;
const CUSTOM_SCRIPT = { publisher: 'Microsoft.Azure.Extensions', type: 'CustomScript' };

let scratch: string;
let plane: ControlPlane | undefined;
let proxy: ChildProcess | undefined;
let agent: ConnectedAgent | undefined;
let namespaceMade = false;

const ip = (...args: string[]): void => {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};
const proxyLog = (): string => readFileSync(join(scratch, 'tinyproxy.log'), 'utf8');
const tunnels = (): number =>
  proxyLog()
    .split('\n')
    .filter((line) => line.includes(`CONNECT 127.0.0.1:${new URL(plane?.url ?? '').port} `)).length;

async function showJson(): Promise<Record<string, string>> {
  const shown = await agent?.run(['show', '--json']);
  assert.equal(shown?.status, 0, shown?.stderr);
  return JSON.parse(shown?.stdout ?? '{}') as Record<string, string>;
}

async function checkReachability(): Promise<{ Status: string; Detail: string }> {
  const checked = await agent?.run(['check', '--json']);
  const checks = (JSON.parse(checked?.stdout ?? '{}') as { Checks: Record<string, string>[] })
    .Checks;
  const reach = checks.find((c) => c['Id'] === 'reachability');
  return { Status: reach?.['Status'] ?? '', Detail: reach?.['Detail'] ?? '' };
}

function waitListening(host: string, port: number): Promise<void> {
  return waitFor(
    `tinyproxy on ${host}:${port}`,
    () =>
      new Promise<true | undefined>((resolve) => {
        const socket = connect(port, host, () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', () => resolve(undefined));
      }),
  ).then(() => undefined);
}

void describe('agent behind an HTTP proxy', { skip: SKIP }, () => {
  before(async () => {
    assert.ok(existsSync(TINYPROXY), `${TINYPROXY} is missing: apt-get install tinyproxy`);
    scratch = mkdtempSync(join(tmpdir(), 'tether-proxy-e2e-'));
    chmodSync(scratch, 0o755);

    namespaceMade = true;
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', AGENT_IF);
    ip('link', 'set', AGENT_IF, 'netns', NS);
    ip('addr', 'add', `${PROXY_ADDRESS}/30`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `${AGENT_ADDRESS}/30`, 'dev', AGENT_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', AGENT_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up'); // HIMDS listens on loopback

    plane = await startControlPlane();
    const controlPlanePort = new URL(plane.url).port;
    writeFileSync(
      join(scratch, 'tinyproxy.conf'),
      [
        `Port ${PROXY_PORT}`,
        `Listen ${PROXY_ADDRESS}`,
        'Timeout 120',
        `LogFile "${join(scratch, 'tinyproxy.log')}"`,
        'LogLevel Connect',
        'MaxClients 50',
        `Allow ${AGENT_ADDRESS}`,
        `ConnectPort ${controlPlanePort}`,
        'DisableViaHeader Yes',
        '',
      ].join('\n'),
    );
    proxy = spawn(TINYPROXY, ['-d', '-c', join(scratch, 'tinyproxy.conf')], { stdio: 'ignore' });
    await waitListening(PROXY_ADDRESS, PROXY_PORT);

    const key = await makePublisherKey(plane, join(scratch, 'publisher'));
    for (const ref of firstPartyPackages()) await publishPackage(plane, key, ref);
    await createResourceGroup(plane, 'servers');
    // Connect sees the proxy too: it is set before, as an administrator behind one must.
    agent = await connectAgent(plane, {
      resourceGroup: 'servers',
      name: 'behind-proxy',
      launcher: ['ip', 'netns', 'exec', NS],
      before: async (run) => {
        const set = await run(['config', 'set', 'proxy.url', PROXY_URL]);
        assert.equal(set.status, 0, set.stderr);
      },
    });
    const trusted = await agent.run([
      'extension',
      'trust',
      '--publisher',
      CUSTOM_SCRIPT.publisher,
      '--key',
      key.publicKeyFile,
    ]);
    assert.equal(trusted.status, 0, trusted.stderr);
  });

  after(async () => {
    await agent?.stop();
    proxy?.kill('SIGTERM');
    await plane?.stop();
    if (namespaceMade) {
      // Deleting the namespace deletes its end of the pair, and with it the other end.
      try {
        ip('netns', 'del', NS);
      } catch {
        // not made
      }
      try {
        ip('link', 'del', HOST_IF);
      } catch {
        // already gone with the namespace
      }
    }
    rmSync(scratch, { recursive: true, force: true });
  });

  void test('the control plane is out of reach directly: connect without the proxy fails', async () => {
    const root = mkdtempSync(join(tmpdir(), 'azcmagent-noproxy-'));
    try {
      const direct = await runAzcmagent(
        root,
        [
          'connect',
          '--endpoint',
          plane?.url ?? '',
          '--ca-cert',
          plane?.caCert ?? '',
          '-t',
          plane?.tenantId ?? '',
          '-s',
          plane?.subscriptionId ?? '',
          '-g',
          'servers',
          '-n',
          'direct',
          '-i',
          plane?.appId ?? '',
          '-p',
          plane?.password ?? '',
        ],
        { launcher: ['ip', 'netns', 'exec', NS] },
      );
      assert.notEqual(direct.status, 0);
      assert.match(direct.stderr, /Cannot reach the control plane at https:\/\/127\.0\.0\.1:\d+: /);
      assert.doesNotMatch(direct.stderr, /through the proxy/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  void test('connect went through the proxy, and HIMDS heartbeats through it', async () => {
    assert.ok(tunnels() >= 1, `the token and the machine PUT tunnelled:\n${proxyLog()}`);
    const before = tunnels();
    await agent?.startHimds();
    const shown = await waitFor('a heartbeat through the proxy', async () => {
      const show = await showJson();
      return show['AgentStatus'] === 'Connected' ? show : undefined;
    });
    assert.equal(shown['UsingHTTPSProxy'], PROXY_URL);
    assert.ok(tunnels() > before, 'the heartbeat took a tunnel of its own');
    const machine = await plane?.admin.call(
      'GET',
      `${agent?.machinePath ?? ''}?api-version=2021-05-20`,
    );
    const properties = machine?.body['properties'] as Record<string, unknown>;
    assert.equal(properties['status'], 'Connected');
    const configuration = properties['agentConfiguration'] as Record<string, unknown>;
    assert.equal(configuration['proxyUrl'], PROXY_URL);
  });

  void test('an extension installs through the proxy, and its handler gets the proxy', async () => {
    await agent?.startExtensionService();
    const version = firstPartyPackages().find(
      (p) => p.publisher === CUSTOM_SCRIPT.publisher && p.type === CUSTOM_SCRIPT.type,
    )?.version;
    assert.ok(version !== undefined);
    const deployed = await runNodeClient<
      ClientAnswer<{ properties?: { provisioningState?: string; instanceView?: unknown } }>
    >(
      'arm-machine-extensions',
      [
        armInput(plane as ControlPlane, 'createOrUpdate', {
          resourceGroup: 'servers',
          machine: 'behind-proxy',
          name: 'proxied',
          extension: {
            location: 'westeurope',
            properties: {
              ...CUSTOM_SCRIPT,
              typeHandlerVersion: version.split('.').slice(0, 2).join('.'),
              settings: { commandToExecute: 'echo "handler proxy: $https_proxy"' },
            },
          },
        }),
      ],
      (plane as ControlPlane).clientEnv(),
    );
    assert.ok(deployed.ok, JSON.stringify(deployed.error));
    assert.equal(deployed.result?.properties?.provisioningState, 'Succeeded');
    assert.match(
      JSON.stringify(deployed.result?.properties?.instanceView),
      /handler proxy: http:\/\/10\.254\.77\.1:\d+/,
    );
  });

  void test('guest configuration fetches its goal state through the proxy', async () => {
    const before = tunnels();
    await agent?.startGcService();
    // Ready once its first goal-state call is done; the status says whether that failed.
    const status = readServiceStatus(agentPaths(agent?.root ?? '').serviceStatus('gc'));
    assert.equal(status?.status, 'running');
    assert.equal(status?.lastError, undefined);
    assert.ok(tunnels() > before, 'the guest configuration service took a tunnel of its own');
  });

  void test('check probes through the proxy', async () => {
    const reach = await checkReachability();
    assert.equal(reach.Status, 'pass', reach.Detail);
    assert.match(
      reach.Detail,
      new RegExp(`answered through the proxy ${PROXY_URL.replace(/\./g, '\\.')}`),
    );
  });

  void test('with the proxy cleared, heartbeats fail: the agent tries directly', async () => {
    const cleared = await agent?.run(['config', 'clear', 'proxy.url']);
    assert.equal(cleared?.status, 0, cleared?.stderr);
    const shown = await waitFor('a failed direct heartbeat', async () => {
      const show = await showJson();
      return /ECONNREFUSED/.test(show['AgentErrorDetails'] ?? '') ? show : undefined;
    });
    assert.doesNotMatch(shown['AgentErrorDetails'] ?? '', /through the proxy/);
    assert.equal(shown['UsingHTTPSProxy'], '');
    const reach = await checkReachability();
    assert.equal(reach.Status, 'fail');
    assert.match(reach.Detail, /Cannot reach https:\/\/127\.0\.0\.1:\d+ directly/);
  });

  void test('with Arc bypassing the proxy, heartbeats go direct and fail; AAD and ARM still tunnel', async () => {
    const set = await agent?.run(['config', 'set', 'proxy.url', PROXY_URL]);
    assert.equal(set?.status, 0, set?.stderr);
    await waitFor('a heartbeat through the proxy once it is set again', async () => {
      const show = await showJson();
      return show['AgentStatus'] === 'Connected' && show['AgentErrorDetails'] === ''
        ? show
        : undefined;
    });
    const bypass = await agent?.run(['config', 'set', 'proxy.bypass', 'Arc']);
    assert.equal(bypass?.status, 0, bypass?.stderr);
    const shown = await waitFor('a failed direct heartbeat', async () => {
      const show = await showJson();
      return /ECONNREFUSED/.test(show['AgentErrorDetails'] ?? '') ? show : undefined;
    });
    assert.doesNotMatch(shown['AgentErrorDetails'] ?? '', /through the proxy/);
    assert.equal(shown['UsingHTTPSProxy'], `${PROXY_URL} (bypassed for Arc)`);
    const reach = await checkReachability();
    assert.equal(reach.Status, 'fail', reach.Detail);
    assert.match(reach.Detail, /Cannot reach https:\/\/127\.0\.0\.1:\d+ directly \(Arc\)/);
    assert.doesNotMatch(reach.Detail, /through the proxy/, 'the proxied probe (AAD, ARM) passed');
  });

  void test('without the bypass, heartbeats go through the proxy again, no restart needed', async () => {
    const cleared = await agent?.run(['config', 'clear', 'proxy.bypass']);
    assert.equal(cleared?.status, 0, cleared?.stderr);
    // Only the proxy leads out of the namespace, so a heartbeat that arrives went through it.
    await waitFor('a heartbeat through the proxy again', async () => {
      const show = await showJson();
      return show['AgentStatus'] === 'Connected' && show['AgentErrorDetails'] === ''
        ? show
        : undefined;
    });
  });

  void test('disconnect deletes the machine through the proxy', async () => {
    const before = tunnels();
    const gone = await agent?.run([
      'disconnect',
      '-i',
      plane?.appId ?? '',
      '-p',
      plane?.password ?? '',
    ]);
    assert.equal(gone?.status, 0, gone?.stderr);
    assert.ok(tunnels() > before);
    const machine = await plane?.admin.call(
      'GET',
      `${agent?.machinePath ?? ''}?api-version=2021-05-20`,
    );
    assert.equal(machine?.status, 404);
  });
});
