// Output written past process.stdout arrives whole and in order: through a pipe, through a file,
// and through a full pipe that process.stdout has made non-blocking.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const MODULE = new URL('./standard-output.js', import.meta.url).href;
/** Far more than a pipe holds, so that the writer meets a full pipe. */
const LINES = 4096;
const LINE = `${'x'.repeat(250)}\n`;
const EXPECTED = `${LINE.repeat(LINES)}end\n`;
const writerScript = (prelude: string): string => `
import { writeStderr, writeStdout } from ${JSON.stringify(MODULE)};
${prelude}
for (let i = 0; i < ${LINES}; i++) writeStdout(${JSON.stringify(LINE)});
writeStdout('end\\n');
writeStderr('done\\n');
`;

function writer(stdout: 'pipe' | number, prelude = ''): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['--input-type=module', '-e', writerScript(prelude)], {
    stdio: ['ignore', stdout, 'pipe'],
  });
}

function exitOf(child: ReturnType<typeof spawn>): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stderr })));
}

void describe('standard output', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-standard-output-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  void it('writes everything, in order, to a pipe', async () => {
    const child = writer('pipe');
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    assert.deepEqual(await exitOf(child), { code: 0, stderr: 'done\n' });
    assert.equal(stdout, EXPECTED);
  });

  void it('writes everything to a file', async () => {
    const path = join(dir, 'out.txt');
    const fd = openSync(path, 'w');
    const child = writer(fd);
    closeSync(fd);
    assert.deepEqual(await exitOf(child), { code: 0, stderr: 'done\n' });
    assert.equal(readFileSync(path, 'utf8'), EXPECTED);
  });

  void it('waits on a full pipe that process.stdout made non-blocking', async () => {
    // Node opens a pipe behind process.stdout in non-blocking mode; any code may touch it first.
    const child = writer('pipe', 'process.stdout;');
    // Reading starts late, so the writer finds the pipe full (how late does not matter).
    await new Promise((resolve) => setTimeout(resolve, 200));
    let stdout = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    assert.deepEqual(await exitOf(child), { code: 0, stderr: 'done\n' });
    assert.equal(stdout, EXPECTED);
  });
});
