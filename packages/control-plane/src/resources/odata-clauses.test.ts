// `and`-splitting of OData filters: quoted values stay whole, malformed filters are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmError } from '../api/arm-error.js';
import { parseDefinitionFilter } from '../authorization/role-definition-filter.js';
import { andClauses, MAX_FILTER_LENGTH } from './odata-clauses.js';

void describe('andClauses', () => {
  void it('splits at `and` outside quotes only, ignoring case and extra spaces', () => {
    assert.deepEqual(andClauses("roleName eq 'Backup and Restore'  AND type eq 'CustomRole'"), [
      "roleName eq 'Backup and Restore'",
      "type eq 'CustomRole'",
    ]);
    assert.deepEqual(andClauses('atScope()'), ['atScope()']);
  });

  void it('refuses an unterminated quote and an empty clause', () => {
    for (const raw of ["roleName eq 'Reader", 'atScope() and ', ' and atScope()']) {
      assert.throws(
        () => andClauses(raw),
        (error: unknown) => error instanceof ArmError && error.target === '$filter',
        raw,
      );
    }
  });

  void it('keeps a role name with "and" and a doubled quote intact', () => {
    const filter = parseDefinitionFilter("roleName eq 'Ops and Dev''s role'");
    assert.equal(filter.roleName, "Ops and Dev's role");
  });

  void it('refuses a filter longer than the limit, naming both lengths', () => {
    const long = `atScope()${' and atScope()'.repeat(400)}`;
    assert.throws(
      () => andClauses(long),
      (error: unknown) =>
        error instanceof ArmError && /is 5609 characters long; at most 4096/.test(error.message),
    );
  });

  void it('splits a filter at the limit made of thousands of spaces and clauses in one pass', () => {
    // The old splitter copied the rest of the filter at every space: 14,000 characters of
    // spaces cost a quarter of a second. The sticky match makes each space constant work.
    const spaces = `atScope()${' '.repeat(MAX_FILTER_LENGTH - 30)}and atScope()`;
    assert.deepEqual(andClauses(spaces), ['atScope()', 'atScope()']);
    const many = Array.from({ length: 200 }, () => 'atScope()').join(' and ');
    assert.equal(andClauses(many).length, 200);
  });

  void it('keeps "and" inside a quoted compliance value', () => {
    assert.deepEqual(andClauses("policyAssignmentName eq 'a and b' and complianceState eq 'x'"), [
      "policyAssignmentName eq 'a and b'",
      "complianceState eq 'x'",
    ]);
  });
});
