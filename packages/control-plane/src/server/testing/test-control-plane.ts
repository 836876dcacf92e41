// An in-process control plane for identity and directory tests: the real app (tokens,
// authorizer, directory, routes) over a fresh initialized database, driven with inject() and
// a ManualClock. Nothing is stubbed.
import type { FastifyInstance } from 'fastify';
import inject from 'light-my-request';
import { ManualClock } from '../../clock.js';
import type { MachineTimings } from '../../machines/machine-timings.js';
import { registerClusterChannel } from '../../cluster/cluster-channel.js';
import { PostgresChannel } from '../../cluster/postgres-channel.js';
import { openDatabase } from '../../store/open-database.js';
import {
  testBackends,
  type TestBackend,
  type TestDatabase,
} from '../../store/testing/test-databases.js';
import { createControlPlaneApp, type ControlPlaneApp } from '../control-plane-app.js';
import { initializeInstallation, type Installation } from '../initialize-installation.js';

export const TEST_PUBLIC_URL = 'https://tether.test:8443';
export const MANAGEMENT_SCOPE = 'https://management.azure.com/.default';
/** People's passwords hashed cheaply in process tests; the server itself uses OWASP's cost. */
export const TEST_PASSWORD_COST = Object.freeze({ N: 1024, r: 8, p: 1 });

export interface Answer {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  form?: Record<string, string>;
  /** A body sent as it is, with the content type `headers` give. */
  raw?: string;
  headers?: Record<string, string>;
}

export class TestControlPlane {
  private constructor(
    private readonly store: TestDatabase,
    readonly clock: ManualClock,
    readonly installation: Installation,
    private plane: ControlPlaneApp,
    private readonly machineTimings: Partial<MachineTimings>,
  ) {}

  static async start(
    backend: TestBackend = testBackends()[0] as TestBackend,
    options: {
      machineTimings?: Partial<MachineTimings>;
      agentPackage?: string;
      trustedProxies?: readonly string[];
      agentChannelPingMs?: number;
    } = {},
  ): Promise<TestControlPlane> {
    const store = await backend.open();
    const clock = new ManualClock();
    const installation = await initializeInstallation(store.db, clock);
    const machineTimings = options.machineTimings ?? {};
    const plane = await createControlPlaneApp({
      db: store.db,
      clock,
      publicUrl: TEST_PUBLIC_URL,
      machineTimings,
      passwordCost: TEST_PASSWORD_COST,
      agentPackage: options.agentPackage,
      trustedProxies: options.trustedProxies,
      agentChannelPingMs: options.agentChannelPingMs,
    });
    await plane.app.ready();
    return new TestControlPlane(store, clock, installation, plane, machineTimings);
  }

  /**
   * `count` nodes of one control plane over one fresh PostgreSQL schema, each with its own
   * connections and its own channel, as separate servers would have. The first owns the schema.
   */
  static async startNodes(backend: TestBackend, count: number): Promise<TestControlPlane[]> {
    const store = await backend.open();
    const location = store.location;
    if (location.kind !== 'postgres') throw new Error('several nodes need PostgreSQL');
    const clock = new ManualClock();
    const installation = await initializeInstallation(store.db, clock);
    const nodes: TestControlPlane[] = [];
    for (let i = 0; i < count; i++) {
      const db = i === 0 ? store.db : await openDatabase(location);
      const channel = await PostgresChannel.open(db, {
        url: location.url,
        schema: location.schema,
        log: { info: () => undefined, warn: () => undefined },
        checkMs: 100,
        applicationName: `tether-test-node-${i}`,
      });
      registerClusterChannel(db as never, channel);
      const own: TestDatabase = {
        db,
        location,
        reopen: () => Promise.reject(new Error('a node of several is not reopened')),
        dispose: async () => {
          await channel.close();
          if (i === 0) await store.dispose();
          else await db.destroy();
        },
      };
      const plane = await createControlPlaneApp({
        db,
        clock,
        publicUrl: TEST_PUBLIC_URL,
        passwordCost: TEST_PASSWORD_COST,
      });
      await plane.app.ready();
      nodes.push(new TestControlPlane(own, clock, installation, plane, {}));
    }
    return nodes;
  }

  get app(): FastifyInstance {
    return this.plane.app;
  }

  get controlPlane(): ControlPlaneApp {
    return this.plane;
  }

  get db() {
    return this.store.db;
  }

  get tenantId(): string {
    return this.installation.tenantId;
  }

  /** Closes the app and builds a new one over the same database, as a server restart does. */
  async restart(): Promise<void> {
    await this.plane.app.close();
    const db = await this.store.reopen();
    this.plane = await createControlPlaneApp({
      db,
      clock: this.clock,
      publicUrl: TEST_PUBLIC_URL,
      machineTimings: this.machineTimings,
      passwordCost: TEST_PASSWORD_COST,
    });
    await this.plane.app.ready();
  }

  async close(): Promise<void> {
    await this.plane.app.close();
    await this.store.dispose();
  }

  /** A token for `clientId` with its secret, through the real token endpoint. */
  async token(clientId: string, secret: string, scope: string = MANAGEMENT_SCOPE): Promise<string> {
    const answer = await this.request('POST', `/${this.tenantId}/oauth2/v2.0/token`, {
      form: { grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope },
    });
    const token = answer.body['access_token'];
    if (answer.status !== 200 || typeof token !== 'string') {
      throw new Error(`token request failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    }
    return token;
  }

  /** The bootstrap (Owner) principal's token. */
  ownerToken(): Promise<string> {
    return this.token(this.installation.appId, this.installation.password);
  }

  async request(method: string, url: string, options: RequestOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let payload: string | undefined = options.raw;
    if (options.form !== undefined) {
      payload = new URLSearchParams(options.form).toString();
      headers['content-type'] ??= 'application/x-www-form-urlencoded';
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    // Through what the HTTPS server calls: heartbeats take their lean path, as they do there.
    const plane = this.plane;
    const response = await inject((req, res) => plane.serve(req, res), {
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    let body: Record<string, unknown> = {};
    if (response.body.length > 0) {
      try {
        body = JSON.parse(response.body) as Record<string, unknown>;
      } catch {
        body = { text: response.body };
      }
    }
    return { status: response.statusCode, body, headers: response.headers };
  }
}
