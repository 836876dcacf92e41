// What remediation changes on an existing file, table-driven: the mode, owner and group a rule
// asks for; nothing created, deleted or guessed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FileRule } from '@tether/protocol';
import { planFileRemediation, type FileRemediation } from './file-remediation.js';
import type { FileFacts } from './rule-facts.js';

const ids = {
  users: new Map([
    ['root', 0],
    ['alice', 1000],
  ]),
  groups: new Map([
    ['root', 0],
    ['shadow', 42],
  ]),
};
const rule = (extra: Partial<FileRule>): FileRule => ({
  id: 'r',
  title: 'rule',
  kind: 'file',
  path: '/etc/x',
  ...extra,
});
const file = (extra: Partial<Extract<FileFacts, { exists: true }>> = {}): FileFacts => ({
  exists: true,
  type: 'file',
  uid: 0,
  gid: 0,
  mode: 0o644,
  user: 'root',
  group: 'root',
  links: 1,
  ...extra,
});

const ROWS: [string, FileRule, FileFacts, FileRemediation][] = [
  [
    'exact mode',
    rule({ mode: '0600' }),
    file(),
    {
      plan: 'change',
      change: { mode: 0o600 },
      reasons: [{ code: 'file.mode.remediated', phrase: '/etc/x: changed mode from 0644 to 0600' }],
    },
  ],
  [
    'at most: only the bits not allowed are removed',
    rule({ maxMode: '0640' }),
    file({ mode: 0o604 }),
    {
      plan: 'change',
      change: { mode: 0o600 },
      reasons: [{ code: 'file.mode.remediated', phrase: '/etc/x: changed mode from 0604 to 0600' }],
    },
  ],
  [
    'owner and group by name and number',
    rule({ owner: 'root', group: '42' }),
    file({ uid: 1000, user: 'alice' }),
    {
      plan: 'change',
      change: { uid: 0, gid: 42 },
      reasons: [
        { code: 'file.owner.remediated', phrase: '/etc/x: changed owner from alice to root' },
        { code: 'file.group.remediated', phrase: '/etc/x: changed group from root to 42' },
      ],
    },
  ],
  [
    'a set-id bit kept by the rule is set again after the owner changes',
    rule({ owner: 'root', maxMode: '4755' }),
    file({ uid: 1000, user: 'alice', mode: 0o4755 }),
    {
      plan: 'change',
      change: { uid: 0, mode: 0o4755 },
      reasons: [
        { code: 'file.owner.remediated', phrase: '/etc/x: changed owner from alice to root' },
      ],
    },
  ],
  ['already right', rule({ owner: 'root', mode: '0644' }), file(), { plan: 'nothing' }],
  [
    'unknown user',
    rule({ owner: 'nobody' }),
    file(),
    {
      plan: 'auditOnly',
      reason: {
        code: 'file.notRemediated',
        phrase: 'user nobody does not exist in /etc/passwd, so /etc/x was not changed',
      },
    },
  ],
  [
    'a missing file is never created',
    rule({ present: true, mode: '0600' }),
    { exists: false },
    {
      plan: 'auditOnly',
      reason: {
        code: 'file.notRemediated',
        phrase: 'remediation never creates files; /etc/x is still missing',
      },
    },
  ],
  [
    'a file that must be absent is never deleted',
    rule({ present: false }),
    file(),
    {
      plan: 'auditOnly',
      reason: {
        code: 'file.notRemediated',
        phrase: 'remediation never deletes files; /etc/x was left in place',
      },
    },
  ],
  [
    'a device is not changed',
    rule({ mode: '0600' }),
    file({ type: 'other' }),
    {
      plan: 'auditOnly',
      reason: {
        code: 'file.notRemediated',
        phrase: '/etc/x is not a regular file or folder, so it was not changed',
      },
    },
  ],
];

void describe('planFileRemediation', () => {
  for (const [name, r, facts, expected] of ROWS) {
    void test(name, () => assert.deepEqual(planFileRemediation(r, facts, ids), expected));
  }
});
