// "Who can run code as root here" follows the server's own settings: a real agent's
// `azcmagent config set` changes the control plane's report by its next heartbeat, and
// `tether access root` shows it. Real processes throughout.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { agentPaths } from '@tether/agent/paths';
import { createResourceGroup } from '../arm/arm-fixtures.js';
import {
  connectAgent,
  heartbeatWatch,
  startControlPlane,
  tetherCli,
  waitFor,
  type ConnectedAgent,
  type ControlPlane,
  type HeartbeatWatch,
} from '../harness/index.js';

const ROOT_ONLY = process.geteuid?.() === 0 ? false : 'connect and config set need root';
const RG = 'root-access';
const AMA = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';

interface Report {
  doors: { name: string; open: boolean; closedBy: string | null }[];
  principals: { principalId: string; doors: string[]; grants: { roleName: string }[] }[];
  localConfiguration: { reported: boolean; allowlist: string[] };
  nobody: boolean;
  summary: string;
}

let plane: ControlPlane;
let agent: ConnectedAgent;
let heartbeats: HeartbeatWatch;
let cliHome = '';

before(async () => {
  if (ROOT_ONLY !== false) return;
  plane = await startControlPlane();
  await createResourceGroup(plane, RG);
  agent = await connectAgent(plane, { resourceGroup: RG, name: 'rooted1' });
  heartbeats = heartbeatWatch(agentPaths(agent.root));
  await agent.startHimds();
  cliHome = mkdtempSync(join(tmpdir(), 'tether-cli-root-'));
});

after(async () => {
  await agent?.stop();
  await plane?.stop();
  if (cliHome !== '') rmSync(cliHome, { recursive: true, force: true });
});

async function report(): Promise<Report> {
  const res = await plane.admin.call(
    'GET',
    `${agent.machinePath}/providers/Tether.Authorization/rootAccess?api-version=2026-11-01`,
  );
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body as unknown as Report;
}

const door = (r: Report, name: string) => r.doors.find((d) => d.name === name);

void test(
  'the report follows azcmagent config set by the next heartbeat, down to nobody',
  { skip: ROOT_ONLY, timeout: 180_000 },
  async () => {
    await waitFor('the first heartbeat', () => heartbeats.last());
    await heartbeats.next();
    const fresh = await report();
    assert.equal(fresh.localConfiguration.reported, true);
    assert.equal(door(fresh, 'extensions')?.open, true);
    assert.equal(door(fresh, 'guestConfiguration')?.open, true);
    // The bootstrap principal, Owner at the tenant root, reaches both doors.
    const owner = fresh.principals.find((p) => p.grants.some((g) => g.roleName === 'Owner'));
    assert.ok(owner !== undefined, JSON.stringify(fresh.principals));
    assert.deepEqual(owner.doors, ['extensions', 'guestConfiguration']);

    const allow = await agent.run(['config', 'set', 'extensions.allowlist', AMA]);
    assert.equal(allow.status, 0, allow.stderr);
    await heartbeats.next();
    const narrowed = await report();
    assert.deepEqual(narrowed.localConfiguration.allowlist, [AMA]);
    assert.equal(door(narrowed, 'extensions')?.open, false);
    assert.match(
      door(narrowed, 'extensions')?.closedBy ?? '',
      /extensions\.allowlist admits no script-capable extension/,
    );
    assert.deepEqual(narrowed.principals.find((p) => p.principalId === owner.principalId)?.doors, [
      'guestConfiguration',
    ]);

    const gc = await agent.run(['config', 'set', 'guestconfiguration.enabled', 'false']);
    assert.equal(gc.status, 0, gc.stderr);
    await heartbeats.next();
    const closed = await report();
    assert.equal(closed.nobody, true);
    assert.deepEqual(closed.principals, []);
    assert.match(closed.summary, /^Nobody, through Tether, can run code as root on rooted1/);

    const cli = tetherCli(plane, cliHome);
    const login = await cli.login();
    assert.equal(login.code, 0, login.stderr);
    const shown = await cli.run(['access', 'root', '-g', RG, '-n', 'rooted1', '-o', 'table']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      /guestConfiguration: closed by guestconfiguration\.enabled is false/,
    );
    assert.match(shown.stdout, /Nobody, through Tether, can run code as root on rooted1/);
    const fleet = await cli.run(['access', 'root', '-g', RG, '-o', 'json']);
    assert.equal(fleet.code, 0, fleet.stderr);
    const rows = JSON.parse(fleet.stdout) as {
      name: string;
      nobody: boolean;
      openDoors: string[];
    }[];
    assert.deepEqual(
      rows.map((r) => [r.name, r.nobody, r.openDoors]),
      [['rooted1', true, []]],
    );
  },
);
