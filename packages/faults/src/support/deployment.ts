// A deployment to break: one SQLite node, or several nodes over a PostgreSQL cluster of its own,
// all answering for one public URL (the first node's address), with machines onboarded through
// the API and a simulated fleet of them; and the database read back afterwards.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { initInstallation, startNode, type TetherNode } from '@tether/bench/dist/fleet/cluster.js';
import { freePort } from '@tether/e2e/dist/harness/free-port.js';
import { PostgresCluster } from '@tether/e2e/dist/harness/postgres-server.js';
import type { SimulatedMachine } from '@tether/bench/dist/fleet/fleet-protocol.js';
import {
  onboardSimulatedMachines,
  SimulatedFleet,
} from '@tether/bench/dist/fleet/simulated-fleet.js';
import { TetherApi, type Installation } from '@tether/bench/dist/machine-fleet.js';
import { exited } from '@tether/bench/dist/tether-process.js';
import { dataDirPaths } from '@tether/control-plane/server/data-dir';

export interface DeploymentOptions {
  readonly nodes: number;
  readonly database: 'sqlite' | 'postgres';
  /** The data directory (e.g. on a small file system); a scratch one when not given. */
  readonly dataDir?: string;
  /** Further `tether server` flags. */
  readonly flags?: readonly string[];
}

export interface HeartbeatsOnRecord {
  /** Each machine's last heartbeat, ms since the epoch, by name. */
  at: Map<string, number>;
  /** Machines whose last heartbeat is held by the liveness log, not yet by their row. */
  onlyInLog: number;
}

export class Deployment {
  readonly nodes: (TetherNode | undefined)[] = [];
  readonly children: ChildProcess[] = [];
  readonly ports: number[] = [];
  #fleets: SimulatedFleet[] = [];
  #apis: TetherApi[] = [];

  private constructor(
    readonly options: DeploymentOptions,
    readonly root: string,
    readonly dataDir: string,
    readonly postgres: PostgresCluster | undefined,
    readonly install: Installation,
  ) {}

  static async start(options: DeploymentOptions): Promise<Deployment> {
    const root = await mkdtemp(join(tmpdir(), 'tether-faults-'));
    let postgres: PostgresCluster | undefined;
    try {
      postgres = options.database === 'postgres' ? await PostgresCluster.start() : undefined;
      const dataDir = options.dataDir ?? join(root, 'data');
      const install = await initInstallation(dataDir, postgres?.url);
      const deployment = new Deployment(options, root, dataDir, postgres, install);
      for (let i = 0; i < options.nodes; i++) deployment.ports.push(await freePort());
      for (let i = 0; i < options.nodes; i++) await deployment.startNode(i);
      return deployment;
    } catch (error) {
      await postgres?.destroy();
      await rm(root, { recursive: true, force: true });
      throw error;
    }
  }

  get publicUrl(): string {
    return `https://localhost:${this.ports[0] ?? 0}`;
  }

  get ca(): string {
    return readFileSync(this.install.caCert, 'utf8');
  }

  get subscriptionId(): string {
    return this.install.subscriptionId;
  }

  async startNode(index: number): Promise<TetherNode> {
    const node = await startNode(
      {
        dataDir: this.dataDir,
        databaseUrl: this.postgres?.url,
        publicUrl: this.publicUrl,
        port: this.ports[index],
        flags: this.options.flags ?? [],
        logFile: join(this.root, `node-${index}.log`),
      },
      this.children,
    );
    this.nodes[index] = node;
    return node;
  }

  /** Ends node `index` with `signal` and waits for it to exit. */
  async kill(index: number, signal: NodeJS.Signals): Promise<void> {
    const node = this.nodes[index];
    if (node === undefined) return;
    node.child.kill(signal);
    await exited(node.child);
    this.nodes[index] = undefined;
  }

  /** An API client of node `index`. */
  api(index = 0): TetherApi {
    const api = new TetherApi(this.publicUrl, this.ports[index] as number, Buffer.from(this.ca), 8);
    this.#apis.push(api);
    return api;
  }

  async adminToken(index = 0): Promise<string> {
    return this.api(index).adminToken(this.install);
  }

  /** `count` machines onboarded through node 0 into resource group `group`. */
  async onboard(group: string, count: number): Promise<SimulatedMachine[]> {
    const api = this.api(0);
    const admin = await api.adminToken(this.install);
    const path = `/subscriptions/${this.subscriptionId}/resourceGroups/${group}`;
    const made = await api.call('PUT', `${path}?api-version=2021-04-01`, admin, {
      location: 'westeurope',
    });
    if (made.status >= 300) throw new Error(`resource group ${group}: ${made.status} ${made.text}`);
    return onboardSimulatedMachines(api, admin, path, count);
  }

  async fleet(machines: readonly SimulatedMachine[], longPoll: boolean): Promise<SimulatedFleet> {
    const fleet = await SimulatedFleet.start({
      nodes: this.ports.map((port) => ({ host: '127.0.0.1', port })),
      ca: this.ca,
      tenantId: this.install.tenantId,
      publicUrl: this.publicUrl,
      machines,
      workers: 2,
      longPoll,
      pollWaitSeconds: 20,
      sharedConnections: 2,
    });
    this.#fleets.push(fleet);
    return fleet;
  }

  /**
   * Every machine's last heartbeat as the database holds it (ms since the epoch), by name: the
   * newer of its agent row's time and its entries in the liveness log not yet folded into the
   * row; and how many machines' last heartbeat is on record only in the log.
   */
  async heartbeatsOnRecord(): Promise<HeartbeatsOnRecord> {
    const query = `select m.name as name, a.last_heartbeat_at as row_at,
        (select max(l.at) from liveness_log l where l.machine_id = a.machine_id
          and l.at > coalesce(a.last_heartbeat_at, a.onboarded_at)) as log_at
      from machine_agents a join machines m on m.id = a.machine_id`;
    type Row = { name: string; row_at: string | null; log_at: string | null };
    const rows =
      this.postgres === undefined
        ? this.#sqlite((db) => db.prepare(query).all() as Row[])
        : await this.#postgres(async (client) => (await client.query<Row>(query)).rows);
    const at = new Map<string, number>();
    let onlyInLog = 0;
    for (const row of rows) {
      const last = row.log_at ?? row.row_at;
      if (last === null) continue;
      at.set(row.name, Date.parse(last));
      if (row.log_at !== null) onlyInLog++;
    }
    return { at, onlyInLog };
  }

  /** SQLite's `integrity_check` of the data directory's database (the server must be down). */
  integrityCheck(): string {
    return this.#sqlite((db) => String(db.pragma('integrity_check', { simple: true })));
  }

  #sqlite<T>(read: (db: Database.Database) => T): T {
    const db = new Database(dataDirPaths(this.dataDir).database, { fileMustExist: true });
    try {
      return read(db);
    } finally {
      db.close();
    }
  }

  async #postgres<T>(read: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.postgres?.url });
    await client.connect();
    try {
      return await read(client);
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.#fleets.map((f) => f.stop().catch(() => undefined)));
    for (const api of this.#apis) api.destroy();
    for (const child of this.children) child.kill('SIGKILL');
    await Promise.all(this.children.map(exited));
    await this.postgres?.destroy();
    // FAULTS_KEEP=1 keeps the nodes' logs (node-<i>.log) and data for a look afterwards.
    if (process.env['FAULTS_KEEP'] === '1') console.log(`kept ${this.root}`);
    else await rm(this.root, { recursive: true, force: true });
  }
}
