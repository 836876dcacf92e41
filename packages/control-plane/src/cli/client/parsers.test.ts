// Flag values are checked before anything is sent: each parser accepts what az accepts and
// says what is accepted when it refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidArgumentError } from 'commander';
import {
  parseDateTime,
  parseEndpoint,
  parseGuid,
  parseOffset,
  parseOutputFormat,
  parseResourceGroupName,
  parseResourceName,
  parseTag,
} from './parsers.js';

function rejects(parse: (value: string) => unknown, value: string, accepted: RegExp): void {
  assert.throws(
    () => parse(value),
    (error: unknown) => error instanceof InvalidArgumentError && accepted.test(error.message),
    `${value} should be refused`,
  );
}

void describe('client argument parsers', () => {
  void it('accepts json and table output and names them when refusing another', () => {
    assert.equal(parseOutputFormat('json'), 'json');
    assert.equal(parseOutputFormat('table'), 'table');
    rejects(parseOutputFormat, 'yaml', /json, table/);
  });

  void it('lower-cases GUIDs and refuses anything else', () => {
    assert.equal(
      parseGuid('8E3AF657-A8FF-443C-A75C-2FE8C4BCB635'),
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
    );
    for (const bad of [
      '',
      'owner',
      '8e3af657a8ff443ca75c2fe8c4bcb635',
      '8e3af657-a8ff-443c-a75c-2fe8c4bcb63',
    ]) {
      rejects(parseGuid, bad, /GUID/);
    }
  });

  void it('follows Azure resource group naming', () => {
    for (const good of ['rg', 'my-rg_1', 'rg.(prod)', 'é'.repeat(90)]) {
      assert.equal(parseResourceGroupName(good), good);
    }
    for (const bad of ['', 'a/b', 'ends.', 'a'.repeat(91), 'a b', 'x?y']) {
      rejects(parseResourceGroupName, bad, /1-90/);
    }
  });

  void it('keeps resource names to one safe path segment', () => {
    assert.equal(parseResourceName('web-01.example'), 'web-01.example');
    for (const bad of ['', '.', '..', 'a/b', 'a%2f', 'a b'])
      rejects(parseResourceName, bad, /non-empty/);
  });

  void it('collects az-style tags', () => {
    let tags = parseTag('env=prod');
    tags = parseTag('owner=ops=team', tags);
    tags = parseTag('flag', tags);
    assert.deepEqual(tags, { env: 'prod', owner: 'ops=team', flag: '' });
    rejects((v) => parseTag(v), '=value', /key=value/);
  });

  void it('reads ISO dates and date-times as UTC unless a zone is given', () => {
    assert.equal(parseDateTime('2026-01-31').toISOString(), '2026-01-31T00:00:00.000Z');
    assert.equal(parseDateTime('2026-01-31T08:30').toISOString(), '2026-01-31T08:30:00.000Z');
    assert.equal(parseDateTime('2026-01-31 08:30:15').toISOString(), '2026-01-31T08:30:15.000Z');
    assert.equal(
      parseDateTime('2026-01-31T08:30:00+02:00').toISOString(),
      '2026-01-31T06:30:00.000Z',
    );
    for (const bad of ['yesterday', '2026-02-30', '2026-13-01', '2026-01-01T25:00', '1/2/2026']) {
      rejects(parseDateTime, bad, /ISO 8601/);
    }
  });

  void it('reads az offsets in ##d##h form', () => {
    assert.equal(parseOffset('6h'), 6 * 3_600_000);
    assert.equal(parseOffset('1d'), 24 * 3_600_000);
    assert.equal(parseOffset('2d12h'), 60 * 3_600_000);
    for (const bad of ['', '6', '1w', '0h', 'h']) rejects(parseOffset, bad, /offset/);
  });

  void it('accepts only https endpoints without credentials or query', () => {
    assert.equal(parseEndpoint('https://tether.example:8443/'), 'https://tether.example:8443');
    assert.equal(parseEndpoint('https://tether.example/base/'), 'https://tether.example/base');
    rejects(parseEndpoint, 'http://tether.example', /https only/);
    rejects(parseEndpoint, 'tether.example', /https:\/\//);
    rejects(parseEndpoint, 'https://user:pw@tether.example', /without credentials/);
    rejects(parseEndpoint, 'https://tether.example/?a=1', /without credentials, query/);
  });
});
