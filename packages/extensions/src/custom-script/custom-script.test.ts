// The built CustomScript handler run as the extension service runs it: real processes in a
// temporary handler folder, reading settings and writing status files.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HandlerFolder } from '../test-support/handler-folder.js';
import { OutputTail } from './output-tail.js';

const PACKAGE = 'Microsoft.Azure.Extensions.CustomScript';

void describe('CustomScript handler (built package)', () => {
  let folder: HandlerFolder;
  beforeEach(() => {
    folder = HandlerFolder.create(PACKAGE);
  });
  afterEach(() => folder.dispose());

  void it('runs a public command in the sequence download folder and reports success', async () => {
    folder.writeSettings(0, { commandToExecute: 'echo hello; pwd; echo warn >&2' });
    const run = await folder.run('enable');
    assert.equal(run.code, 0, run.stderr);
    const [entry] = folder.status(0);
    assert.ok(entry !== undefined);
    assert.equal(entry.version, 1);
    assert.ok(!Number.isNaN(Date.parse(entry.timestampUTC)));
    const downloadDir = join(folder.dir, 'download', '0');
    assert.deepEqual(entry.status, {
      name: PACKAGE,
      operation: 'Enable',
      status: 'success',
      code: 0,
      formattedMessage: {
        lang: 'en-US',
        message: `Enable succeeded: exit code 0\n[stdout]\nhello\n${downloadDir}\n\n[stderr]\nwarn\n`,
      },
    });
    assert.equal(readFileSync(join(downloadDir, 'stdout'), 'utf8'), `hello\n${downloadDir}\n`);
  });

  void it('reports a failing command as error with its exit code and output', async () => {
    folder.writeSettings(1, { commandToExecute: 'echo partial; echo broken >&2; exit 3' });
    const run = await folder.run('enable');
    assert.notEqual(run.code, 0);
    const status = folder.status(1)[0]?.status;
    assert.equal(status?.status, 'error');
    assert.equal(status?.code, 3);
    assert.equal(
      status?.formattedMessage.message,
      'Enable failed: exit code 3\n[stdout]\npartial\n\n[stderr]\nbroken\n',
    );
  });

  void it('never shows a protected command in the status or the logs', async () => {
    const secret = 'S3cr3t-token-value';
    folder.writeSettings(2, {}, { commandToExecute: `X=${secret}; echo "length \${#X}"; exit 1` });
    const run = await folder.run('enable');
    const status = folder.status(2)[0]?.status;
    assert.equal(status?.status, 'error');
    assert.match(
      status?.formattedMessage.message ?? '',
      /^Enable failed: exit code 1\n\[stdout\]\nlength 18\n/,
    );
    for (const text of [JSON.stringify(folder.status(2)), run.stdout, run.stderr]) {
      assert.ok(!text.includes(secret), text);
      assert.ok(!text.includes('X='), text);
    }
    assert.match(run.stdout, /from the protected settings/);
  });

  void it('refuses a command given in both settings, or in neither', async () => {
    folder.writeSettings(3, { commandToExecute: 'true' }, { commandToExecute: 'true' });
    assert.notEqual((await folder.run('enable')).code, 0);
    assert.match(
      folder.status(3)[0]?.status.formattedMessage.message ?? '',
      /in both the public and the protected/,
    );
    folder.writeSettings(4, { other: 1 });
    assert.notEqual((await folder.run('enable')).code, 0);
    const status = folder.status(4)[0]?.status;
    assert.equal(status?.status, 'error');
    assert.match(status?.formattedMessage.message ?? '', /commandToExecute is missing/);
  });

  void it('does not run a sequence twice; a new sequence runs again', async () => {
    folder.writeSettings(5, { commandToExecute: 'echo run >> ../../runs.log' });
    assert.equal((await folder.run('enable')).code, 0);
    const again = await folder.run('enable');
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already run/);
    assert.equal(readFileSync(join(folder.dir, 'runs.log'), 'utf8'), 'run\n');
    assert.equal(folder.status(5)[0]?.status.status, 'success');
    folder.writeSettings(6, { commandToExecute: 'echo run >> ../../runs.log' });
    assert.equal((await folder.run('enable', { ConfigSequenceNumber: '6' })).code, 0);
    assert.equal(readFileSync(join(folder.dir, 'runs.log'), 'utf8'), 'run\nrun\n');
  });

  void it('stops a command that runs too long and says so', async () => {
    folder.writeSettings(7, { commandToExecute: 'echo started; sleep 30' });
    const started = Date.now();
    const run = await folder.run('enable', { TETHER_CUSTOM_SCRIPT_TIMEOUT_MS: '500' });
    assert.ok(Date.now() - started < 10_000);
    assert.notEqual(run.code, 0);
    const status = folder.status(7)[0]?.status;
    assert.equal(status?.status, 'error');
    assert.match(status?.formattedMessage.message ?? '', /did not finish in time[\s\S]*started/);
  });

  void it('install, update and disable succeed; uninstall removes the download folders', async () => {
    folder.writeSettings(8, { commandToExecute: 'true' });
    for (const command of ['install', 'update', 'enable', 'disable']) {
      const run = await folder.run(command);
      assert.equal(run.code, 0, `${command}: ${run.stdout}${run.stderr}`);
    }
    assert.ok(existsSync(join(folder.dir, 'download', '8')));
    assert.equal((await folder.run('uninstall')).code, 0);
    assert.ok(!existsSync(join(folder.dir, 'download')));
    const status = folder.status(8)[0]?.status;
    assert.equal(status?.operation, 'Uninstall');
    assert.equal(status?.status, 'success');
  });
});

void describe('OutputTail', () => {
  void it('keeps only the last bytes', () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from('abc'));
    tail.push(Buffer.from('defg'));
    tail.push(Buffer.from('h'));
    assert.equal(tail.text(), 'defgh');
    const small = new OutputTail(10);
    small.push(Buffer.from('xy'));
    assert.equal(small.text(), 'xy');
  });
});
