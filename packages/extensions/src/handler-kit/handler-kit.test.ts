// The handler kit: HandlerEnvironment.json, picking the sequence, reading settings and the
// status file shape, written atomically.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { HandlerError } from './handler-error.js';
import { readHandlerEnvironment } from './handler-environment.js';
import { currentSequence, readSettings } from './handler-settings.js';
import { writeStatus } from './handler-status.js';

void describe('handler kit', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'handler-kit-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const settingsFile = (sequence: number, handlerSettings: unknown): void => {
    mkdirSync(join(dir, 'config'), { recursive: true });
    writeFileSync(
      join(dir, 'config', `${sequence}.settings`),
      JSON.stringify({ runtimeSettings: [{ handlerSettings }] }),
    );
  };

  void it('reads HandlerEnvironment.json, relative folders from the handler folder', () => {
    writeFileSync(
      join(dir, 'HandlerEnvironment.json'),
      JSON.stringify([
        {
          version: 1.0,
          handlerEnvironment: {
            logFolder: '/var/log/x',
            configFolder: 'config',
            statusFolder: 'status',
            heartbeatFile: 'heartbeat.log',
          },
        },
      ]),
    );
    assert.deepEqual(readHandlerEnvironment(dir), {
      handlerDir: dir,
      logFolder: '/var/log/x',
      configFolder: join(dir, 'config'),
      statusFolder: join(dir, 'status'),
      heartbeatFile: join(dir, 'heartbeat.log'),
    });
  });

  void it('refuses a missing or incomplete HandlerEnvironment.json naming what is wrong', () => {
    assert.throws(() => readHandlerEnvironment(dir), /HandlerEnvironment\.json/);
    writeFileSync(
      join(dir, 'HandlerEnvironment.json'),
      JSON.stringify([{ handlerEnvironment: { logFolder: 'l', configFolder: 'c' } }]),
    );
    assert.throws(() => readHandlerEnvironment(dir), /no "statusFolder"/);
  });

  void it('takes the sequence from ConfigSequenceNumber, else the highest settings file', () => {
    const config = join(dir, 'config');
    assert.equal(currentSequence({}, config), undefined);
    settingsFile(2, {});
    settingsFile(10, {});
    settingsFile(9, {});
    writeFileSync(join(config, 'notes.txt'), '');
    assert.equal(currentSequence({}, config), 10);
    assert.equal(currentSequence({ ConfigSequenceNumber: '2' }, config), 2);
    assert.throws(
      () => currentSequence({ ConfigSequenceNumber: '-1' }, config),
      (error: unknown) => error instanceof HandlerError && error.code === 'ERR_HANDLER_SETTINGS',
    );
  });

  void it('reads public and opened protected settings; no settings means empty public', () => {
    settingsFile(1, { publicSettings: { a: 1 }, protectedSettings: { secret: 's' } });
    settingsFile(2, { protectedSettings: JSON.stringify({ secret: 't' }) });
    settingsFile(3, { publicSettings: null, protectedSettings: null });
    const config = join(dir, 'config');
    assert.deepEqual(readSettings(config, 1), {
      sequence: 1,
      publicSettings: { a: 1 },
      protectedSettings: { secret: 's' },
    });
    assert.deepEqual(readSettings(config, 2).protectedSettings, { secret: 't' });
    assert.deepEqual(readSettings(config, 3), {
      sequence: 3,
      publicSettings: {},
      protectedSettings: null,
    });
  });

  void it('refuses sealed protected settings without quoting them', () => {
    settingsFile(4, { protectedSettings: 'MIIB-sealed-secret-blob' });
    assert.throws(
      () => readSettings(join(dir, 'config'), 4),
      (error: unknown) =>
        error instanceof HandlerError &&
        /not a JSON object/.test(error.message) &&
        !error.message.includes('sealed-secret'),
    );
  });

  void it('writes status/<seq>.status in the handler shape, leaving no temporary file', () => {
    const status = join(dir, 'status');
    const file = writeStatus(status, 7, {
      name: 'Publisher.Type',
      operation: 'Enable',
      result: { status: 'success', code: 0, message: 'ok' },
      time: new Date('2026-01-01T00:00:00Z'),
    });
    assert.equal(file, join(status, '7.status'));
    assert.deepEqual(readdirSync(status), ['7.status']);
    writeStatus(status, 7, {
      name: 'Publisher.Type',
      operation: 'Enable',
      result: { status: 'error', code: 3, message: 'bad' },
      time: new Date('2026-01-01T00:01:00Z'),
    });
    assert.deepEqual(readdirSync(status), ['7.status']);
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), [
      {
        version: 1,
        timestampUTC: '2026-01-01T00:01:00.000Z',
        status: {
          name: 'Publisher.Type',
          operation: 'Enable',
          status: 'error',
          code: 3,
          formattedMessage: { lang: 'en-US', message: 'bad' },
        },
      },
    ]);
  });
});
