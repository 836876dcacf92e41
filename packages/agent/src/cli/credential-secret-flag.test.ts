// Secrets for connect and disconnect can come from a file or standard input, so they never
// appear in the process list; what is read is checked like a value typed on the line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentError } from '../errors.js';
import type { CommandContext } from './command-module.js';
import { secretFlag } from './credential-flags.js';

const context = (value: string): CommandContext =>
  ({ flags: { 'service-principal-secret': value } }) as unknown as CommandContext;

void test('a plain value is taken as it is; @FILE and - read the file and standard input, dropping one newline', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-flag-'));
  try {
    writeFileSync(join(dir, 'sp.secret'), 's3cr3t\n');
    const stdin = { stdin: () => 'from-stdin\r\n', file: (p: string) => `never ${p}` };
    assert.equal(secretFlag(context('abc'), 'service-principal-secret', stdin), 'abc');
    assert.equal(secretFlag(context('-'), 'service-principal-secret', stdin), 'from-stdin');
    assert.equal(
      secretFlag(context(`@${join(dir, 'sp.secret')}`), 'service-principal-secret'),
      's3cr3t',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a missing, empty or multi-line source is refused naming the flag and the source', () => {
  const cases: [string, { stdin(): string; file(p: string): string }, RegExp][] = [
    [
      '@/no/such/file',
      {
        stdin: () => '',
        file: () => {
          throw Object.assign(new Error('x'), { code: 'ENOENT' });
        },
      },
      /--service-principal-secret @\/no\/such\/file: cannot read \/no\/such\/file \(ENOENT\)/,
    ],
    [
      '-',
      { stdin: () => '\n', file: () => '' },
      /standard input must hold the value on one line; it is empty/,
    ],
    [
      '@f',
      { stdin: () => '', file: () => 'a\nb\n' },
      /f must hold the value on one line; it is several lines/,
    ],
  ];
  for (const [value, read, expected] of cases) {
    assert.throws(
      () => secretFlag(context(value), 'service-principal-secret', read),
      (error: unknown) =>
        error instanceof AgentError &&
        error.code === 'ERR_INVALID_VALUE' &&
        expected.test(error.message),
      value,
    );
  }
});
