// An in-process control plane for route tests: the real routes, engine, activity log and a
// SQLite database in a temporary directory. Only token checking is stubbed (a token names
// its principal); the real token path is covered end to end.
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { SqlActivityLog } from '../../activity/sql-activity-log.js';
import { ArmError } from '../../api/arm-error.js';
import { buildApp } from '../../api/build-app.js';
import type { RouteSpec } from '../../api/route-spec.js';
import type { Authenticator, Caller } from '../../api/caller.js';
import { RoleAssignmentStore } from '../../authorization/role-assignment-store.js';
import { ManualClock } from '../../clock.js';
import type { PolicySource } from '../../guest-configuration/policy-source.js';
import { Authorizer } from '../../rbac/authorizer.js';
import type { PrincipalType } from '../../rbac/types.js';
import type { Database } from '../../store/schema.js';
import {
  openSqliteTestDatabase,
  testBackends,
  type TestBackend,
  type TestDatabase,
} from '../../store/testing/test-databases.js';
import { armRoutes, type ArmServices } from '../arm-routes.js';
import { machineScope, resourceGroupScope } from '../arm-scope.js';

export const TEST_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
export const PUBLIC_URL = 'https://tether.test:8443';

const SQLITE: TestBackend = { name: 'sqlite', open: openSqliteTestDatabase };

/**
 * The backends the ARM route tests run on: SQLite, and PostgreSQL when TETHER_TEST_POSTGRES_URL
 * names a server (each test database in its own schema, migrated with its own lock table).
 */
export function armTestBackends(): TestBackend[] {
  return testBackends();
}

export interface InjectOptions {
  /** Principal id whose token to send; none sends no Authorization header. */
  as?: string;
  body?: unknown;
  /** Raw body with its content type, for malformed-input tests. */
  rawBody?: { payload: string; contentType: string };
  headers?: Record<string, string>;
}

export interface InjectResult {
  status: number;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
}

export class ArmTestApp {
  private constructor(
    readonly app: FastifyInstance,
    readonly services: ArmServices & { authorizer: Authorizer },
    readonly clock: ManualClock,
    private readonly principals: Map<string, Caller>,
    private readonly store: TestDatabase,
  ) {}

  /** SQLite unless `backend` says otherwise; see testBackends() for PostgreSQL. */
  static async start(
    options: {
      pageSize?: number;
      fast?: boolean;
      backend?: TestBackend;
      policy?: PolicySource;
      /** Routes beyond the ARM ones, such as the machine agent's heartbeat. */
      extraRoutes?: (services: ArmServices) => RouteSpec[];
    } = {},
  ): Promise<ArmTestApp> {
    const store = await (options.backend ?? SQLITE).open();
    const db = store.db;
    // Thousands of writes per test: skipping fsync changes speed, not behaviour.
    if (options.fast === true && store.location.kind === 'sqlite') {
      await sql`PRAGMA synchronous = OFF`.execute(db);
    }
    const clock = new ManualClock();
    const authorizer = new Authorizer();
    const activityLog = new SqlActivityLog(db, clock);
    const principals = new Map<string, Caller>();
    const authenticator: Authenticator = {
      authenticate(authorization) {
        const caller = principals.get(authorization?.replace(/^Bearer /, '') ?? '');
        if (caller === undefined) {
          return Promise.reject(
            new ArmError('AuthenticationFailed', 'Authentication failed: no valid token.'),
          );
        }
        return Promise.resolve(caller);
      },
    };
    const services = {
      db,
      authorizer,
      clock,
      activityLog,
      publicUrl: PUBLIC_URL,
      ...(options.pageSize === undefined ? {} : { pageSize: options.pageSize }),
      ...(options.policy === undefined ? {} : { policy: options.policy }),
    };
    const app = buildApp({
      routes: [...armRoutes(services), ...(options.extraRoutes?.(services) ?? [])],
      deps: { authenticator, authorizer, activityLog },
    });
    await app.ready();
    return new ArmTestApp(app, services, clock, principals, store);
  }

  get db(): Kysely<Database> {
    return this.services.db;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.store.dispose();
  }

  /** A directory principal that can sign in; returns its object id. */
  async addPrincipal(
    type: PrincipalType = 'ServicePrincipal',
    displayName = `p-${randomUUID().slice(0, 8)}`,
  ): Promise<string> {
    const id = randomUUID();
    await this.db
      .insertInto('principals')
      .values({
        id,
        type,
        display_name: displayName,
        app_id: type === 'ServicePrincipal' ? randomUUID() : null,
        user_principal_name: type === 'User' ? `${displayName}@tether.test` : null,
        machine_id: null,
        reply_urls: null,
        created_at: new Date(this.clock.now()).toISOString(),
      })
      .execute();
    this.authorizer.putPrincipal(id, type);
    this.principals.set(id, {
      principalId: id,
      principalType: type,
      name: displayName,
      claims: { tid: TEST_TENANT, oid: id },
    });
    return id;
  }

  get authorizer(): Authorizer {
    return this.services.authorizer;
  }

  /** Grants a role the way the API would (database, then engine); returns the assignment name. */
  async assign(principalId: string, roleDefinitionName: string, scope: string): Promise<string> {
    const name = randomUUID();
    const type = this.principals.get(principalId)?.principalType ?? 'Group';
    const created = await new RoleAssignmentStore(this.db, this.authorizer).create({
      name,
      scope,
      role_definition_name: roleDefinitionName,
      principal_id: principalId,
      principal_type: type,
      created_at: new Date(this.clock.now()).toISOString(),
      created_by: 'test',
    });
    if (!created) throw new Error(`assignment of ${roleDefinitionName} at ${scope} already exists`);
    return name;
  }

  async addSubscription(subscriptionId: string = randomUUID()): Promise<string> {
    await this.db
      .insertInto('subscriptions')
      .values({
        subscription_id: subscriptionId,
        display_name: `sub ${subscriptionId.slice(0, 8)}`,
        state: 'Enabled',
        created_at: new Date(this.clock.now()).toISOString(),
      })
      .execute();
    return subscriptionId;
  }

  async addResourceGroup(
    subscriptionId: string,
    name: string,
    location = 'westeurope',
  ): Promise<string> {
    const id = resourceGroupScope(subscriptionId, name);
    await this.db
      .insertInto('resource_groups')
      .values({
        id,
        subscription_id: subscriptionId,
        name,
        location,
        tags: '{}',
        created_at: new Date(this.clock.now()).toISOString(),
      })
      .execute();
    return id;
  }

  async addMachine(
    subscriptionId: string,
    resourceGroup: string,
    name: string,
    location = 'westeurope',
  ): Promise<string> {
    const id = machineScope(subscriptionId, resourceGroup, name);
    const now = new Date(this.clock.now()).toISOString();
    await this.db
      .insertInto('machines')
      .values({
        id,
        subscription_id: subscriptionId,
        resource_group: resourceGroup.toLowerCase(),
        name,
        location,
        tags: '{}',
        properties: JSON.stringify({ vmId: randomUUID(), osName: 'linux' }),
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  async inject(method: string, url: string, options: InjectOptions = {}): Promise<InjectResult> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.as !== undefined) headers['authorization'] = `Bearer ${options.as}`;
    let payload: string | undefined;
    if (options.rawBody !== undefined) {
      payload = options.rawBody.payload;
      headers['content-type'] = options.rawBody.contentType;
    } else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await this.app.inject({
      method: method as 'GET',
      url,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });
    const text = response.body;
    let body: Record<string, unknown> = {};
    if (text.length > 0) {
      try {
        body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        body = { text };
      }
    }
    return { status: response.statusCode, body, headers: response.headers };
  }
}
