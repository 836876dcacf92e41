// The server's local administration socket, `admin.sock` in the data directory: only the
// service account (and root) can enter the directory, so reaching the socket is the
// authorization. `tether backup` asks the running server for an online backup through it.
// One JSON line each way: {"command":"backup"} → {"ok":true,…} or {"ok":false,"message":…}.
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { isTetherError } from '@tether/protocol';
import type { Kysely } from 'kysely';
import { backupSqliteDatabase, type BackupFacts } from '../store/sqlite-backup.js';
import type { Database } from '../store/schema.js';

export const ADMIN_SOCKET_NAME = 'admin.sock';

export type AdminAnswer =
  ({ ok: true; file: string } & BackupFacts) | { ok: false; message: string };

const REQUEST_LIMIT = 1024;
const MAX_SOCKET_PATH = 107;

export class AdminSocket {
  private constructor(
    private readonly server: Server,
    private readonly path: string,
  ) {}

  /** Listens on `<dataDir>/admin.sock`, replacing a socket a dead server left behind. */
  static async listen(
    dataDir: string,
    db: Kysely<Database>,
    log: FastifyBaseLogger,
  ): Promise<AdminSocket> {
    const path = join(dataDir, ADMIN_SOCKET_NAME);
    // Linux cuts a longer path short and would put the socket somewhere else.
    if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
      throw new Error(
        `${path} is longer than a Unix socket path may be (${MAX_SOCKET_PATH} bytes)`,
      );
    }
    const server = createServer((socket) => serve(socket, dataDir, db, log));
    if (await answers(path)) {
      throw new Error(`another server answers on ${path}`);
    }
    await rm(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new AdminSocket(server, path);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}

function serve(socket: Socket, dataDir: string, db: Kysely<Database>, log: FastifyBaseLogger) {
  let request = '';
  socket.setEncoding('utf8');
  socket.on('error', () => socket.destroy());
  socket.on('data', (chunk: string) => {
    request += chunk;
    if (request.length > REQUEST_LIMIT) {
      socket.destroy();
      return;
    }
    const end = request.indexOf('\n');
    if (end < 0) return;
    socket.removeAllListeners('data');
    void answer(request.slice(0, end), dataDir, db, log).then((reply) =>
      socket.end(`${JSON.stringify(reply)}\n`),
    );
  });
}

async function answer(
  line: string,
  dataDir: string,
  db: Kysely<Database>,
  log: FastifyBaseLogger,
): Promise<AdminAnswer> {
  let command: unknown;
  try {
    command = (JSON.parse(line) as { command?: unknown }).command;
  } catch {
    command = undefined;
  }
  if (command !== 'backup') {
    return { ok: false, message: `unknown request ${JSON.stringify(line.slice(0, 100))}` };
  }
  const file = join(dataDir, `backup-${randomBytes(6).toString('hex')}.db`);
  try {
    const facts = await backupSqliteDatabase(db, file);
    log.info({ file, bytes: facts.bytes }, 'online backup taken');
    return { ok: true, file, ...facts };
  } catch (error) {
    await rm(file, { force: true });
    log.error({ err: error }, 'online backup failed');
    return {
      ok: false,
      message: isTetherError(error)
        ? error.message
        : `the backup failed: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/** Whether a server answers on the socket at `path` (a connection is accepted). */
export function answers(path: string): Promise<boolean> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Sends one request to the server on `path` and reads its one-line answer. */
export function askServer(path: string, request: object): Promise<AdminAnswer> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let reply = '';
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => {
      reply += chunk;
    });
    socket.once('error', reject);
    socket.once('end', () => {
      try {
        resolve(JSON.parse(reply) as AdminAnswer);
      } catch (error) {
        reject(
          new Error(`the server's answer was not understood: ${reply.slice(0, 200)}`, {
            cause: error,
          }),
        );
      }
    });
  });
}
