// The files the agent gives a handler (SPEC §4): HandlerEnvironment.json naming its folders, and
// config/<seq>.settings (mode 0600, the only place protected settings are written in clear).
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileAtomically } from '../../config/atomic-file.js';
import type { AgentPaths } from '../../paths.js';

export interface HandlerFolders {
  /** `var/lib/waagent/<Publisher.Type-version>`: the working directory of every command. */
  readonly handlerDir: string;
  /** `var/lib/GuestConfig/extension_logs/<Publisher.Type>`: the handler's and the agent's logs. */
  readonly logFolder: string;
  readonly configFolder: string;
  readonly statusFolder: string;
  readonly heartbeatFile: string;
  /** What the agent records of each handler command and its output. */
  readonly commandLog: string;
  /** The hosted process's output. */
  readonly hostedLog: string;
}

export interface HandlerIdentity {
  readonly publisher: string;
  readonly type: string;
  readonly version: string;
}

export function handlerFolders(paths: AgentPaths, handler: HandlerIdentity): HandlerFolders {
  const handlerDir = paths.extensionDir(handler.publisher, handler.type, handler.version);
  const logFolder = join(paths.extensionLogsDir, `${handler.publisher}.${handler.type}`);
  return {
    handlerDir,
    logFolder,
    configFolder: join(handlerDir, 'config'),
    statusFolder: join(handlerDir, 'status'),
    heartbeatFile: join(handlerDir, 'heartbeat.log'),
    commandLog: join(logFolder, 'CommandExecution.log'),
    hostedLog: join(logFolder, 'hosted.log'),
  };
}

const ROOT_OWNED = { ownerUid: 0, ownerGid: 0 } as const;

/** Creates the folders and writes HandlerEnvironment.json (`version` written as 1.0, as waagent does). */
export function writeHandlerEnvironment(handler: HandlerIdentity, folders: HandlerFolders): void {
  mkdirSync(folders.logFolder, { recursive: true, mode: 0o755 });
  mkdirSync(folders.statusFolder, { recursive: true, mode: 0o755 });
  mkdirSync(folders.configFolder, { recursive: true, mode: 0o700 });
  chmodSync(folders.configFolder, 0o700);
  const environment = JSON.stringify({
    logFolder: folders.logFolder,
    configFolder: folders.configFolder,
    statusFolder: folders.statusFolder,
    heartbeatFile: folders.heartbeatFile,
  });
  const name = JSON.stringify(`${handler.publisher}.${handler.type}`);
  replaceFileAtomically(
    join(folders.handlerDir, 'HandlerEnvironment.json'),
    `[{"name":${name},"version":1.0,"handlerEnvironment":${environment}}]\n`,
    { mode: 0o644, ...ROOT_OWNED },
  );
}

/** Writes config/<seq>.settings (0600) and deletes the older ones, which may hold old secrets. */
export function writeSettings(
  folders: HandlerFolders,
  sequence: number,
  settings: Readonly<Record<string, unknown>>,
  protectedSettings: Readonly<Record<string, unknown>> | null,
): void {
  const file = `${sequence}.settings`;
  const body = {
    runtimeSettings: [
      {
        handlerSettings: {
          publicSettings: settings,
          protectedSettings,
          protectedSettingsCertThumbprint: null,
        },
      },
    ],
  };
  replaceFileAtomically(join(folders.configFolder, file), `${JSON.stringify(body)}\n`, {
    mode: 0o600,
    ...ROOT_OWNED,
  });
  for (const entry of readdirSync(folders.configFolder)) {
    if (entry.endsWith('.settings') && entry !== file) {
      rmSync(join(folders.configFolder, entry), { force: true });
    }
  }
}
