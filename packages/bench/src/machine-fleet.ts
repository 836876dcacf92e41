// A fleet of machines for the fleet benchmarks: the real `tether server`, an HTTPS keep-alive
// client for its API, and machines onboarded through that API, each with its own P-256 key and
// a token obtained with a client assertion, as connected agents get theirs.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'node:https';
import { SignJWT } from 'jose';
import { listening, runTether, TETHER_BIN } from './tether-process.js';

export const SETUP_PARALLEL = 32;
export const V = 'api-version=2024-07-10';

export interface Installation {
  tenantId: string;
  subscriptionId: string;
  appId: string;
  password: string;
  caCert: string;
}

export interface Answer {
  status: number;
  text: string;
  headers: Record<string, string>;
}

export interface TetherServer {
  readonly install: Installation;
  readonly ca: Buffer;
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
}

/**
 * `tether init` and `tether server` (log level warn) on 127.0.0.1; the server child is pushed to
 * `children` before it is waited on, so the caller's clean-up ends it even when start-up fails.
 */
export async function startTetherServer(
  dataDir: string,
  nodeFlags: readonly string[],
  children: ChildProcess[],
): Promise<TetherServer> {
  const install = JSON.parse(
    await runTether(['init', '--data-dir', dataDir, '--json']),
  ) as Installation;
  const child = spawn(
    process.execPath,
    [
      ...nodeFlags,
      TETHER_BIN,
      'server',
      '--data-dir',
      dataDir,
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env } },
  );
  children.push(child);
  const url = await listening(child, /^tether listening on (https:\/\/\S+)$/m);
  return { install, ca: readFileSync(install.caCert), url, port: Number(new URL(url).port), child };
}

/** JSON calls to Tether's API over a keep-alive agent of `maxSockets` connections. */
export class TetherApi {
  readonly agent: Agent;

  constructor(
    readonly url: string,
    readonly port: number,
    ca: Buffer,
    maxSockets = SETUP_PARALLEL,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets, ca });
  }

  call(
    method: string,
    path: string,
    token: string | undefined,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<Answer> {
    return httpsCall(this.agent, this.port, method, path, token, body, headers);
  }

  /** A token from the token endpoint for a client-credentials form. */
  async formToken(tenantId: string, form: Record<string, string>): Promise<string> {
    const payload = new URLSearchParams(form).toString();
    const answer = await new Promise<Answer>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: this.port,
          path: `/${tenantId}/oauth2/v2.0/token`,
          method: 'POST',
          agent: this.agent,
          servername: 'localhost',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        },
        (res) => collect(res, resolve),
      );
      req.on('error', reject);
      req.end(payload);
    });
    const token = (JSON.parse(answer.text) as { access_token?: unknown }).access_token;
    if (typeof token !== 'string') throw new Error(`no token: ${answer.status} ${answer.text}`);
    return token;
  }

  /** The installation's bootstrap principal (Owner at /). */
  adminToken(install: Installation): Promise<string> {
    return this.formToken(install.tenantId, {
      grant_type: 'client_credentials',
      client_id: install.appId,
      client_secret: install.password,
      scope: `${this.url}/.default`,
    });
  }

  destroy(): void {
    this.agent.destroy();
  }
}

export interface FleetMachine {
  readonly name: string;
  readonly principalId: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The machine's access token (client assertion with its own key). */
  readonly token: string;
}

export interface Fleet {
  readonly machines: FleetMachine[];
  readonly onboardSeconds: number;
  readonly tokenSeconds: number;
}

export interface OnboardedMachine {
  readonly name: string;
  /** `/subscriptions/…/machines/{name}`. */
  readonly path: string;
  readonly principalId: string;
  readonly kid: string;
  readonly privateKey: KeyObject;
}

/**
 * Onboards `count` machines `{prefix}<i>` into `group` (a resource group path) through the API,
 * SETUP_PARALLEL at a time, each with its own P-256 key, as `azcmagent connect` does.
 */
/** What a simulated machine says of itself when it is onboarded, besides its key. */
export const SIMULATED_MACHINE_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({
  osName: 'linux',
  agentVersion: '1.0',
});

export async function onboardMachines(
  api: TetherApi,
  admin: string,
  group: string,
  count: number,
  prefix = 'node-',
): Promise<OnboardedMachine[]> {
  return inParallel(count, async (i) => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const der = publicKey.export({ format: 'der', type: 'spki' });
    const name = `${prefix}${i}`;
    const path = `${group}/providers/Microsoft.HybridCompute/machines/${name}`;
    const put = await api.call('PUT', `${path}?${V}`, admin, {
      location: 'westeurope',
      identity: { type: 'SystemAssigned' },
      properties: { clientPublicKey: der.toString('base64'), ...SIMULATED_MACHINE_PROPERTIES },
    });
    if (put.status !== 201) throw new Error(`PUT ${name} answered ${put.status}: ${put.text}`);
    const principalId = (JSON.parse(put.text) as { identity: { principalId: string } }).identity
      .principalId;
    const kid = createHash('sha256').update(der).digest('base64url');
    return { name, path, principalId, kid, privateKey };
  });
}

/**
 * Onboards `count` machines `node-<i>` into `group` (a resource group path) through the API,
 * SETUP_PARALLEL at a time, then gets each a token through the token endpoint.
 */
export async function onboardFleet(
  api: TetherApi,
  install: Installation,
  admin: string,
  group: string,
  count: number,
): Promise<Fleet> {
  let started = performance.now();
  const onboarded = await onboardMachines(api, admin, group, count);
  const onboardSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const tokenEndpoint = `${api.url}/${install.tenantId}/oauth2/v2.0/token`;
  const machines = await inParallel(count, async (i) => {
    const m = onboarded[i];
    if (m === undefined) throw new Error('no machine');
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: m.kid })
      .setIssuer(m.principalId)
      .setSubject(m.principalId)
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 600)
      .sign(m.privateKey);
    const token = await api.formToken(install.tenantId, {
      grant_type: 'client_credentials',
      client_id: m.principalId,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope: `${api.url}/.default`,
    });
    const { name, principalId, kid, privateKey } = m;
    return { name, principalId, kid, privateKey, token };
  });
  return { machines, onboardSeconds, tokenSeconds: (performance.now() - started) / 1000 };
}

/** Runs work(0 … count-1) with `parallel` in flight; results in index order. */
export async function inParallel<T>(
  count: number,
  work: (i: number) => Promise<T>,
  parallel = SETUP_PARALLEL,
): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await work(i);
    }),
  );
  return out;
}

export function collect(res: IncomingMessage, resolve: (answer: Answer) => void): void {
  let text = '';
  res.setEncoding('utf8').on('data', (c: string) => (text += c));
  res.on('end', () => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (typeof value === 'string') headers[name] = value;
    resolve({ status: res.statusCode ?? 0, text, headers });
  });
}

export function httpsCall(
  agent: Agent,
  port: number,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        agent,
        servername: 'localhost',
        headers: {
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...extraHeaders,
        },
      },
      (res) => collect(res, resolve),
    );
    req.on('error', reject);
    req.end(payload);
  });
}
