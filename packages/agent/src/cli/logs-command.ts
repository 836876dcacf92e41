// `azcmagent logs`: root only. Zips the agent's logs and its (secret-free) configuration for a
// support case; the machine key, challenge tokens and anything not a regular file stay out.
import { createWriteStream, existsSync, lstatSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ZipFile } from 'yazl';
import { systemClock } from '../clock.js';
import { AgentError } from '../errors.js';
import type { AgentPaths } from '../paths.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'logs',
  summary: 'Collect the agent logs into a zip file for troubleshooting.',
  details:
    'Zips var/opt/azcmagent/log, the guest configuration and extension logs under\nvar/lib/GuestConfig, agentconfig.json and localconfig.json into\n./azcmagent-logs-<timestamp>.zip (or --output FILE). The machine key and the HIMDS challenge\nfiles are never included. Root only: the logs name resources and principals.',
  flags: [
    {
      long: 'output',
      short: 'o',
      type: 'string',
      valueName: 'file',
      description: 'Where to write the zip (must not exist yet)',
    },
  ],
  positionals: { min: 0, max: 0 },
  examples: ['sudo azcmagent logs', 'sudo azcmagent logs --output /tmp/support.zip'],
};

/** Never collected, whatever folder they turn up in. */
const SECRET = /\.(key|pem)$/i;

/** Absolute paths of the files to collect, each with its name in the zip (relative to the root). */
export function logFiles(paths: AgentPaths): { path: string; name: string }[] {
  const found: { path: string; name: string }[] = [];
  const add = (path: string): void => {
    const stats = lstatSync(path, { throwIfNoEntry: false });
    // Regular files only: a symbolic link in a log folder could point at the key.
    if (stats?.isFile() !== true || SECRET.test(path)) return;
    found.push({ path, name: relative(paths.root, path) });
  };
  const walk = (dir: string): void => {
    let entries: string[];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(dir, entry);
      const stats = lstatSync(path, { throwIfNoEntry: false });
      if (stats?.isDirectory() === true) walk(path);
      else add(path);
    }
  };
  walk(paths.logDir);
  walk(paths.policyLogsDir);
  walk(paths.extensionManagerLogsDir);
  walk(paths.extensionLogsDir);
  add(paths.agentState);
  add(paths.localConfig);
  return found;
}

function timestamp(nowMs: number): string {
  return new Date(nowMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
}

export async function run(context: CommandContext): Promise<number> {
  if (process.geteuid?.() !== 0) {
    throw new AgentError(
      'ERR_NOT_ROOT',
      `'azcmagent logs' reads logs only root may read (this process runs as uid ${process.geteuid?.() ?? 'unknown'}). Nothing was written. Run it as root: sudo azcmagent logs`,
    );
  }
  const paths = context.paths();
  const flag = context.flags.output;
  const output = resolve(
    typeof flag === 'string' && flag !== ''
      ? flag
      : `azcmagent-logs-${timestamp(systemClock.now())}.zip`,
  );
  if (existsSync(output)) {
    throw new AgentError(
      'ERR_INVALID_VALUE',
      `${output} already exists; choose another --output or remove it first. Nothing was written.`,
      { target: output },
    );
  }
  if (!existsSync(dirname(output))) {
    throw new AgentError('ERR_INVALID_VALUE', `The folder ${dirname(output)} does not exist.`, {
      target: output,
    });
  }
  const files = logFiles(paths);
  const zip = new ZipFile();
  for (const file of files) zip.addFile(file.path, file.name);
  // Written beside the target and renamed, so a failure never leaves a half zip under its name.
  const partial = join(dirname(output), `.${basename(output)}.partial`);
  try {
    await new Promise<void>((done, fail) => {
      const stream = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
      stream.on('error', fail);
      zip.outputStream.on('error', fail);
      stream.on('close', done);
      zip.outputStream.pipe(stream);
      zip.end();
    });
    renameSync(partial, output);
  } catch (error) {
    rmSync(partial, { force: true });
    throw new AgentError(
      'ERR_CONFIG_WRITE_FAILED',
      `Cannot write ${output}: ${(error as Error).message}. Nothing was written.`,
      { cause: error, target: output },
    );
  }
  if (context.json) context.printJson({ Output: output, Files: files.map((f) => f.name) });
  else context.out.stdout(`Logs written to ${output} (${files.length} files)\n`);
  return 0;
}
