import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { shortRunNote, summaryTable } from './run-summary.js';
import type { RunReport } from './run-target.js';

const report = (overrides: Partial<RunReport>): RunReport => ({
  target: 'token-endpoint',
  inputs: 300_000,
  crashes: 0,
  serverErrors: 0,
  hangs: 0,
  stalls: 0,
  elapsedMs: 1_500_000,
  interrupted: true,
  examples: [],
  ...overrides,
});

void describe('run summary', () => {
  void it('says why a budgeted target stopped short: its rate, the time a full run takes, what it covered', () => {
    const note = shortRunNote(
      report({
        outcomes: new Map([
          ['400 invalid_request 900144', 250_000],
          ['401 invalid_client 7000215', 50_000],
        ]),
      }),
      1_000_000,
      { minutes: 25, covers: 'few decisions.' },
    );
    assert.match(note, /stopped at 300000 of 1000000 inputs after its 25 min budget/);
    assert.match(note, /measured 200 inputs\/s, so 1000000 would take 83 min/);
    assert.match(note, /Why 300000 inputs cover it: few decisions\./);
    assert.match(
      note,
      /2 kinds of answer, the rarest \(401 invalid_client 7000215\) seen 50000 times/,
    );
  });

  void it('tabulates every target with its findings, time and rate, marking runs cut short', () => {
    const table = summaryTable([
      report({ target: 'arm-scope', inputs: 1_000_000, elapsedMs: 100_000, interrupted: false }),
      report({ serverErrors: 2, hangs: 1, stalls: 3 }),
    ]).split('\n');
    assert.match(
      table[0] ?? '',
      /^target\s+inputs\s+crashes\s+hangs\s+5xx\s+time\s+inputs\/s\s+stalls$/,
    );
    assert.match(table[2] ?? '', /^arm-scope\s+1000000\s+0\s+0\s+0\s+100\.0 s\s+10000\s+0$/);
    assert.match(table[3] ?? '', /^token-endpoint\s+300000\*\s+0\s+1\s+2\s+1500\.0 s\s+200\s+3$/);
    assert.match(table[4] ?? '', /stopped at its time limit/);
    assert.match(table[5] ?? '', /stalls: inputs over the time limit once but not when sent again/);
  });
});
