// Writes to standard output and error without process.stdout/stderr where it can: for a pipe
// Node builds those as sockets on first use (net and streams, a sixth of a short command's run).
import { fstatSync, writeSync } from 'node:fs';
import type { OutputConfiguration } from 'commander';

type Fd = 1 | 2;

const stream = (fd: Fd): NodeJS.WriteStream => (fd === 1 ? process.stdout : process.stderr);

/** Descriptors written through their stream since: a later direct write could overtake it. */
const streamed = new Set<Fd>();
const notTerminal = new Map<Fd, boolean>();

/** A pipe, file or socket is certainly no terminal; anything else is left to Node to tell. */
function certainlyNotTerminal(fd: Fd): boolean {
  let known = notTerminal.get(fd);
  if (known === undefined) {
    try {
      const stats = fstatSync(fd);
      known = stats.isFIFO() || stats.isFile() || stats.isSocket();
    } catch {
      known = false;
    }
    notTerminal.set(fd, known);
  }
  return known;
}

function write(fd: Fd, text: string): void {
  let bytes = Buffer.from(text, 'utf8');
  if (!streamed.has(fd) && certainlyNotTerminal(fd)) {
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(fd, bytes));
      return;
    } catch (error) {
      // A descriptor shared with a parent that made it non-blocking: its stream waits instead.
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
  streamed.add(fd);
  stream(fd).write(bytes);
}

export function writeStdout(text: string): void {
  write(1, text);
}

export function writeStderr(text: string): void {
  write(2, text);
}

export function isTerminal(fd: Fd): boolean {
  return !certainlyNotTerminal(fd) && stream(fd).isTTY === true;
}

/** commander's own rule, which asks the stream: NO_COLOR and FORCE_COLOR, else a colour terminal. */
function hasColors(fd: Fd): boolean {
  const env = process.env;
  if (env['NO_COLOR'] || env['FORCE_COLOR'] === '0' || env['FORCE_COLOR'] === 'false') return false;
  if (env['FORCE_COLOR'] || env['CLICOLOR_FORCE'] !== undefined) return true;
  return isTerminal(fd) && stream(fd).hasColors();
}

/** commander's default width when the output is no terminal (or one that does not say). */
const HELP_WIDTH = 80;

/** What commander asks about the terminal (help width, colours), answered without the streams. */
export function terminalQueries(): OutputConfiguration {
  return {
    getOutHelpWidth: () => (isTerminal(1) ? process.stdout.columns : HELP_WIDTH),
    getErrHelpWidth: () => (isTerminal(2) ? process.stderr.columns : HELP_WIDTH),
    getOutHasColors: () => hasColors(1),
    getErrHasColors: () => hasColors(2),
  };
}
