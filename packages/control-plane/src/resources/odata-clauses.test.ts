// `and`-splitting of OData filters: quoted values stay whole, malformed filters are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmError } from '../api/arm-error.js';
import { parseDefinitionFilter } from '../authorization/role-definition-filter.js';
import { andClauses } from './odata-clauses.js';

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
});
