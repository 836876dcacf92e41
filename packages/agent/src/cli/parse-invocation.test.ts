// Flag parsing: common and command flags, argument counts, and the --config JSON file of flags.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeTempRoot } from '../test-support/temp-root.js';
import type { CommandSpec } from './command-module.js';
import { parseInvocation } from './parse-invocation.js';

const spec: CommandSpec = {
  usage: 'config set <property> <value>',
  summary: 'test',
  flags: [{ long: 'add', short: 'a', type: 'boolean', description: 'add' }],
  positionals: { min: 2, max: 2 },
};
const path = ['config', 'set'];

void describe('parseInvocation', () => {
  void test('reads positionals, short and long flags in any order', () => {
    const parsed = parseInvocation(path, spec, [
      '-j',
      'extensions.allowlist',
      '--verbose',
      'A/B',
      '-a',
    ]);
    assert.deepEqual(parsed.positionals, ['extensions.allowlist', 'A/B']);
    assert.equal(parsed.flags.json, true);
    assert.equal(parsed.flags.verbose, true);
    assert.equal(parsed.flags.add, true);
  });

  void test('unknown flags and wrong argument counts are usage errors that point at --help', () => {
    assert.throws(
      () => parseInvocation(path, spec, ['a', 'b', '--force']),
      /Unknown option '--force'.*azcmagent config set --help/,
    );
    assert.throws(
      () => parseInvocation(path, spec, ['a']),
      /Missing argument: expected 'config set <property> <value>'/,
    );
    assert.throws(
      () => parseInvocation(path, spec, ['a', 'b', 'c']),
      /Unexpected argument "c".*Quote a value/,
    );
  });

  void test('--config fills flags from a JSON file; the command line wins', () => {
    const temp = makeTempRoot();
    try {
      const file = join(temp.root, 'flags.json');
      writeFileSync(file, JSON.stringify({ verbose: true, add: true }));
      const parsed = parseInvocation(path, spec, ['--config', file, 'p', 'v']);
      assert.equal(parsed.flags.verbose, true);
      assert.equal(parsed.flags.add, true);
      writeFileSync(file, JSON.stringify({ remove: true }));
      assert.throws(
        () => parseInvocation(path, spec, ['--config', file, 'p', 'v']),
        /names "remove", which is not a flag of this command/,
      );
      writeFileSync(file, JSON.stringify({ verbose: 'yes' }));
      assert.throws(
        () => parseInvocation(path, spec, ['--config', file, 'p', 'v']),
        /gives "verbose" a string; expected a boolean/,
      );
      writeFileSync(file, 'verbose: true');
      assert.throws(
        () => parseInvocation(path, spec, ['--config', file, 'p', 'v']),
        /Cannot read the --config file .* as JSON/,
      );
    } finally {
      temp.remove();
    }
  });
});
