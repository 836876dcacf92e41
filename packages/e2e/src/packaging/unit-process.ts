// Starts what a systemd unit would start, where systemd is not PID 1: the unit's ExecStart,
// as its User (setpriv with that account's ids and groups), with its Environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { lookupAccount } from '@tether/agent/identity/himds-account';

export interface UnitFile {
  readonly execStart: string[];
  readonly user: string | undefined;
  readonly environment: Record<string, string>;
  /** Every `Key=value` of the [Service] section, as written. */
  readonly service: Map<string, string[]>;
}

export function readUnit(path: string): UnitFile {
  const service = new Map<string, string[]>();
  let section = '';
  for (const raw of readFileSync(path, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header !== null) {
      section = header[1] ?? '';
      continue;
    }
    const eq = line.indexOf('=');
    if (section !== 'Service' || eq < 0) continue;
    const key = line.slice(0, eq);
    service.set(key, [...(service.get(key) ?? []), line.slice(eq + 1)]);
  }
  const execStart = service.get('ExecStart')?.[0]?.split(/\s+/) ?? [];
  const environment: Record<string, string> = {};
  for (const value of service.get('Environment') ?? []) {
    for (const pair of value.split(/\s+/)) {
      const eq = pair.indexOf('=');
      if (eq > 0) environment[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }
  return { execStart, user: service.get('User')?.[0], environment, service };
}

export interface UnitProcess {
  readonly child: ChildProcess;
  /** The first group of `ready` in the process's standard output. */
  readonly match: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts the unit's command; resolves once its standard output matches `ready`. */
export function startUnit(
  unit: UnitFile,
  ready: RegExp,
  extraEnv: Record<string, string> = {},
): Promise<UnitProcess> {
  const [program, ...args] = unit.execStart;
  if (program === undefined) throw new Error('the unit has no ExecStart');
  let command = program;
  let argv = args;
  if (unit.user !== undefined) {
    const account = lookupAccount(unit.user);
    if (account === undefined) throw new Error(`the unit's User ${unit.user} does not exist`);
    command = 'setpriv';
    argv = [
      `--reuid=${account.uid}`,
      `--regid=${account.gid}`,
      '--init-groups',
      '--no-new-privs',
      '--',
      program,
      ...args,
    ];
  }
  const child = spawn(command, argv, {
    env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', ...unit.environment, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${program} ${args.join(' ')} was not ready in 60 s:\n${output}`));
    }, 60_000);
    const early = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${program} ${args.join(' ')} exited with ${String(code)}:\n${output}`));
    };
    child.once('exit', early);
    const onData = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
      const found = ready.exec(output);
      if (found === null) return;
      clearTimeout(timer);
      child.off('exit', early);
      resolve({ child, match: found[1] ?? '', output: () => output, stop });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-200_000);
    });
  });
}
