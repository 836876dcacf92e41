// A handler folder in a temporary directory, laid out the way the extension service lays one
// out: a built package copied in, HandlerEnvironment.json, config/<seq>.settings; commands run
// as the manifest says, with /bin/sh -c, the folder as working directory and this Node.js first
// on PATH.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StatusFileEntry } from '../handler-kit/handler-status.js';

/** dist/packages, written by scripts/build-packages.mjs. */
export const BUILT_PACKAGES = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'packages');

export interface CommandRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class HandlerFolder {
  private constructor(
    readonly root: string,
    readonly dir: string,
    private readonly manifest: Record<string, string>,
  ) {}

  /** Copies dist/packages/<packageDir> into a fresh folder and writes HandlerEnvironment.json. */
  static create(packageDir: string): HandlerFolder {
    const root = mkdtempSync(join(tmpdir(), 'tether-handler-'));
    const dir = join(root, `${packageDir}-1.0.0`);
    cpSync(join(BUILT_PACKAGES, packageDir), dir, { recursive: true });
    for (const folder of ['config', 'status', 'logs']) mkdirSync(join(dir, folder));
    writeFileSync(
      join(dir, 'HandlerEnvironment.json'),
      JSON.stringify([
        {
          version: 1.0,
          handlerEnvironment: {
            logFolder: join(dir, 'logs'),
            configFolder: join(dir, 'config'),
            statusFolder: join(dir, 'status'),
            heartbeatFile: join(dir, 'heartbeat.log'),
          },
        },
      ]),
    );
    const parsed = JSON.parse(readFileSync(join(dir, 'HandlerManifest.json'), 'utf8')) as [
      { handlerManifest: Record<string, string> },
    ];
    return new HandlerFolder(root, dir, parsed[0].handlerManifest);
  }

  writeSettings(
    sequence: number,
    publicSettings: Record<string, unknown>,
    protectedSettings: Record<string, unknown> | null = null,
  ): void {
    writeFileSync(
      join(this.dir, 'config', `${sequence}.settings`),
      JSON.stringify({
        runtimeSettings: [
          {
            handlerSettings: {
              publicSettings,
              protectedSettings,
              protectedSettingsCertThumbprint: null,
            },
          },
        ],
      }),
      { mode: 0o600 },
    );
  }

  status(sequence: number): StatusFileEntry[] {
    return JSON.parse(
      readFileSync(join(this.dir, 'status', `${sequence}.status`), 'utf8'),
    ) as StatusFileEntry[];
  }

  /** Starts the manifest's `<name>Command` (e.g. `enable`, `hosted`) in its own process group. */
  start(name: string, env: Record<string, string> = {}): RunningHandler {
    const command = this.manifest[`${name}Command`];
    if (command === undefined) throw new Error(`the manifest has no ${name}Command`);
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: this.dir,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    return new RunningHandler(child);
  }

  /** Runs a command to its end. */
  run(name: string, env: Record<string, string> = {}): Promise<CommandRun> {
    return this.start(name, env).done;
  }

  dispose(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A started handler command: its output so far, its end, and signals to its process group. */
export class RunningHandler {
  private stdout = '';
  private stderr = '';
  readonly done: Promise<CommandRun>;

  constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.done = new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: this.stdout, stderr: this.stderr }));
    });
  }

  output(): string {
    return `${this.stdout}${this.stderr}`;
  }

  /** Signals the whole group: /bin/sh and the handler it started. */
  signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}
