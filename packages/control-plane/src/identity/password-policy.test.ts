// The password rules, as a table: each refused password names the rule it breaks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { passwordProblem } from './password-policy.js';

const ADA = { userPrincipalName: 'ada@contoso.example', displayName: 'Ada Lovelace' };

void describe('password policy', () => {
  const cases: [string, string, RegExp | undefined][] = [
    ['a long passphrase', 'correct horse battery staple', undefined],
    ['exactly 12 characters', 'Zq8!vR2#mT4k', undefined],
    ['11 characters', 'Zq8!vR2#mT4', /11 characters; a password needs at least 12/],
    ['257 characters', 'ab3'.repeat(85) + 'xy', /257 characters; a password may have at most 256/],
    ['leading space', ' correct horse battery', /white space/],
    ['a tab inside', 'correct\thorse battery', /control character/],
    ['the user name inside', 'my-Ada-password-2026', /user name or display name/],
    ['the whole sign-in name', 'ADA@contoso.example!', /user name or display name/],
    ['the display name', 'ada lovelace 1815', /user name or display name/],
    ['one character repeated', 'aaaaaaaaaaaaaaaa', /at least 4 different/],
    ['three characters repeated', 'abcabcabcabcabc', /at least 4 different/],
  ];
  for (const [name, password, refused] of cases) {
    void it(`${refused === undefined ? 'accepts' : 'refuses'} ${name}`, () => {
      const problem = passwordProblem(password, ADA);
      if (refused === undefined) assert.equal(problem, undefined);
      else assert.match(problem ?? '(accepted)', refused);
    });
  }

  void it('counts characters, not UTF-16 units, so 12 emoji are long enough', () => {
    assert.equal(passwordProblem('🔑🚪🌊🔥🌲🐙🎲🧭⛵🗝🪁🎯', ADA), undefined);
  });
});
