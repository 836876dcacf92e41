// `tether server --data-dir D --listen HOST:PORT`: serves the control plane over HTTPS until
// SIGTERM or SIGINT, then shuts down gracefully; machine status timings are flags too. With
// `--workers N` (PostgreSQL only) this process starts N workers that serve the port and each run
// this same command.
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { systemClock } from '../../clock.js';
import { parseDuration } from '../../server/duration.js';
import {
  MACHINE_TIMING_FLAG_DEFAULTS,
  parseMachineTimingFlags,
  type MachineTimingFlags,
} from '../../server/machine-timing-flags.js';
import {
  certificateNames,
  checkSubjectAltName,
  parseListenAddress,
} from '../../server/listen-address.js';
import { dataDirPaths } from '../../server/data-dir.js';
import { ensureTlsMaterial } from '../../tls/tls-material.js';
import { checkTrustedProxy } from '../../server/trusted-proxies.js';
import { ServerError } from '../../server/server-error.js';
import { startServer } from '../../server/start-server.js';
import { normalizePublicUrl } from '../../identity/identity-endpoints.js';
import { runServerCommand } from '../../server/run-server-command.js';
import { jsonLog } from '../../server/json-log.js';
import {
  defaultPoolSize,
  NODE_CONNECTION_BUDGET,
  parseWorkers,
  reportReady,
  superviseWorkers,
  workerNumber,
} from '../../server/server-workers.js';

interface ServerCommandOptions extends MachineTimingFlags {
  dataDir: string;
  listen: string;
  publicUrl?: string;
  databaseUrl?: string;
  tlsCert?: string;
  tlsKey?: string;
  san: string[];
  keyRotation: string;
  tokenLifetime: string;
  agentChannel: boolean;
  logLevel: string;
  agentPackage?: string;
  keyEncryptionKeyFile: string[];
  trustedProxy: string[];
  portalListen?: string;
  portalUrl?: string;
  portalDir?: string;
  workers: string;
  databasePoolSize?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function register(program: Command): void {
  program
    .command('server')
    .description('serve the control plane over HTTPS')
    .requiredOption('--data-dir <dir>', 'data directory made by `tether init`')
    .requiredOption(
      '--listen <host:port>',
      'address to listen on, e.g. 127.0.0.1:8443 (port 0 picks a free one)',
    )
    .option(
      '--public-url <url>',
      'https://HOST:PORT clients use (issuer, token endpoint); defaults to the listen address',
    )
    .option(
      '--database-url <url>',
      'PostgreSQL URL (postgres://…) instead of SQLite in the data directory',
    )
    .option('--tls-cert <file>', 'PEM certificate (chain) to serve instead of the generated one')
    .option('--tls-key <file>', 'PEM private key of --tls-cert')
    .option(
      '--san <name...>',
      'extra DNS names or IP addresses for the generated server certificate',
      [],
    )
    .option(
      '--key-rotation <duration>',
      'rotate the token signing key this often (s, m, h, d)',
      '7d',
    )
    .option(
      '--token-lifetime <duration>',
      'how long an access token the token endpoint issues is valid (1m to 24h)',
      '1h',
    )
    .option(
      '--no-agent-channel',
      "refuse agents' WebSocket channels (426): their heartbeats come by HTTPS POST",
    )
    .option(
      '--heartbeat-interval <duration>',
      'how often agents are told to send heartbeats (s, m, h, d)',
      MACHINE_TIMING_FLAG_DEFAULTS.heartbeatInterval,
    )
    .option(
      '--disconnect-after <duration>',
      'silence after which a machine shows Disconnected; longer than --heartbeat-interval',
      MACHINE_TIMING_FLAG_DEFAULTS.disconnectAfter,
    )
    .option(
      '--expire-after <duration>',
      'silence after which a machine is Expired and refused tokens; longer than --disconnect-after',
      MACHINE_TIMING_FLAG_DEFAULTS.expireAfter,
    )
    .option(
      '--rotation-grace <duration>',
      'how long a machine key replaced by rotateCredential still gets tokens',
      MACHINE_TIMING_FLAG_DEFAULTS.rotationGrace,
    )
    .option(
      '--extension-request-timeout <duration>',
      'how long an extension operation waits for its machine before it fails (MachineNotReached)',
      MACHINE_TIMING_FLAG_DEFAULTS.extensionRequestTimeout,
    )
    .option(
      '--agent-package <file>',
      'the azcmagent .deb that machines added with `tether onboarding-token create --install-command` install',
    )
    .option(
      '--key-encryption-key-file <file>',
      'key that wraps the token signing keys (repeat to hold the old and the new key while a rotation rolls out); default: key-encryption.key in the data directory if it exists',
      (file: string, files: string[]) => [...files, file],
      [],
    )
    .option(
      '--trusted-proxy <address...>',
      "load balancers (IP or address/prefix) whose X-Forwarded-For gives the client's address",
      [],
    )
    .option(
      '--portal-listen <host:port>',
      'also serve the web portal on this address, an origin of its own (port 0 picks a free one)',
    )
    .option(
      '--portal-url <url>',
      'https://HOST:PORT people open the portal at; defaults to the portal listen address',
    )
    .option(
      '--portal-dir <dir>',
      "the portal's built files; defaults to the checkout's packages/portal/dist/site",
    )
    .option(
      '--workers <n>',
      'processes that serve the port (auto: one per CPU); more than 1 needs --database-url',
      '1',
    )
    .option(
      '--database-pool-size <n>',
      `PostgreSQL connections each worker's pool may open (default ${defaultPoolSize(1)}; with --workers N, ${NODE_CONNECTION_BUDGET}/N - 1 within 2 to 10)`,
    )
    .option('--log-level <level>', `log level on stderr: ${LOG_LEVELS.join(', ')}`, 'info')
    .action((options: ServerCommandOptions) => runServerCommand(() => serve(options)));
}

/** packages/portal/dist/site beside this program's package (bin/tether.cjs or its bundles). */
function defaultPortalDir(): string {
  const program = process.argv[1] ?? '.';
  const controlPlane = program.includes(`${sep}dist${sep}`)
    ? program.slice(0, program.lastIndexOf(`${sep}dist${sep}`))
    : dirname(dirname(program));
  return join(dirname(controlPlane), 'portal', 'dist', 'site');
}

async function serve(options: ServerCommandOptions): Promise<void> {
  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      '--tls-cert and --tls-key go together: give both or neither',
      { target: '--tls-cert' },
    );
  }
  if (!LOG_LEVELS.includes(options.logLevel)) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--log-level ${JSON.stringify(options.logLevel)} is not valid: expected one of ${LOG_LEVELS.join(', ')}`,
      { target: '--log-level' },
    );
  }
  if (options.agentPackage !== undefined && !existsSync(options.agentPackage)) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--agent-package ${JSON.stringify(options.agentPackage)} does not exist: give the path of the azcmagent .deb`,
      { target: '--agent-package' },
    );
  }
  const machineTimings = parseMachineTimingFlags(options);
  const workers = parseWorkers(options.workers);
  if (workers > 1 && options.databaseUrl === undefined) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--workers ${workers} needs --database-url postgres://…: over SQLite one process alone writes the database; serve it with --workers 1 (the default), or move to PostgreSQL`,
      { target: '--workers' },
    );
  }
  const poolSize =
    options.databasePoolSize === undefined
      ? undefined
      : parsePoolSize(options.databasePoolSize, options.databaseUrl);
  if (
    options.portalListen === undefined &&
    (options.portalUrl ?? options.portalDir) !== undefined
  ) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      '--portal-url and --portal-dir need --portal-listen HOST:PORT: the portal is served only on an address of its own',
      { target: '--portal-listen' },
    );
  }
  const listen = parseListenAddress(options.listen);
  const publicUrl =
    options.publicUrl === undefined ? undefined : normalizePublicUrl(options.publicUrl);
  const subjectAltNames = options.san.map(checkSubjectAltName);
  if (workers > 1 && cluster.isPrimary) {
    // The generated certificate is made or reissued here, once, before the workers read it.
    if (options.tlsCert === undefined) {
      await ensureTlsMaterial(
        dataDirPaths(options.dataDir).tls,
        certificateNames(listen.host, publicUrl, subjectAltNames),
        systemClock,
      );
    }
    const log = jsonLog(options.logLevel);
    log.info(
      { workers, databasePoolSize: poolSize ?? defaultPoolSize(workers) },
      'starting the workers',
    );
    await superviseWorkers(workers, log, (ready) => announce(ready.url, ready.portalUrl));
    log.info({}, 'tether stopped');
    return;
  }
  const worker = workerNumber();
  const running = await startServer({
    dataDir: options.dataDir,
    listen,
    publicUrl,
    databaseUrl: options.databaseUrl,
    tls:
      options.tlsCert === undefined || options.tlsKey === undefined
        ? undefined
        : { certFile: options.tlsCert, keyFile: options.tlsKey },
    subjectAltNames,
    trustedProxies: options.trustedProxy.map(checkTrustedProxy),
    keyRotationMs: parseDuration(options.keyRotation, '--key-rotation', 60_000),
    tokenLifetimeMs: parseTokenLifetime(options.tokenLifetime),
    agentChannel: options.agentChannel,
    machineTimings,
    clock: systemClock,
    logLevel: options.logLevel,
    agentPackage: options.agentPackage === undefined ? undefined : resolve(options.agentPackage),
    databasePoolSize: poolSize ?? (workers > 1 ? defaultPoolSize(workers) : undefined),
    worker,
    keyEncryptionKeyFiles:
      options.keyEncryptionKeyFile.length === 0 ? undefined : options.keyEncryptionKeyFile,
    portal:
      options.portalListen === undefined
        ? undefined
        : {
            listen: parseListenAddress(options.portalListen, '--portal-listen'),
            dir: resolve(options.portalDir ?? defaultPortalDir()),
            publicUrl:
              options.portalUrl === undefined ? undefined : normalizePublicUrl(options.portalUrl),
          },
  });
  if (worker === undefined) announce(running.url, running.portalUrl);
  else reportReady({ url: running.url, portalUrl: running.portalUrl });
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      running.app.log.info({ signal }, 'shutting down');
      // A second signal ends a lone server at once; a worker, which gets the terminal's SIGINT
      // and then its primary's SIGTERM, goes on with its shutdown.
      if (worker === undefined) {
        process.off('SIGTERM', stop);
        process.off('SIGINT', stop);
      }
      running.close().then(resolve, (error: unknown) => {
        running.app.log.error({ err: error }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  // A worker's channel to the primary would keep it running: it is let go once all is closed.
  cluster.worker?.disconnect();
}

function announce(url: string, portalUrl: string | undefined): void {
  // The portal's line first: whoever waits for "listening" has both then.
  const portalLine = portalUrl === undefined ? '' : `tether portal on ${portalUrl}\n`;
  process.stdout.write(`${portalLine}tether listening on ${url}\n`);
}

function parseTokenLifetime(text: string): number {
  const ms = parseDuration(text, '--token-lifetime', 60_000);
  if (ms > 86_400_000) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--token-lifetime ${JSON.stringify(text)} is too long: at most 24h`,
      { target: '--token-lifetime' },
    );
  }
  return ms;
}

function parsePoolSize(text: string, databaseUrl: string | undefined): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 1000) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      `--database-pool-size ${JSON.stringify(text)} is not valid: expected a whole number from 1 to 1000`,
      { target: '--database-pool-size' },
    );
  }
  if (databaseUrl === undefined) {
    throw new ServerError(
      'ERR_SERVER_CONFIG',
      '--database-pool-size sizes the PostgreSQL pool: give it with --database-url postgres://…',
      { target: '--database-pool-size' },
    );
  }
  return n;
}
