import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ArmError } from '../api/arm-error.js';
import { rejectUnknownFields } from './arm-request.js';

const KNOWN = ['agentVersion', 'serviceStatuses'];

void describe('rejectUnknownFields', () => {
  void it('accepts known fields in any letter case, as ARM does', () => {
    for (let i = 0; i < 3; i++) {
      rejectUnknownFields({ agentVersion: '1', SERVICESTATUSES: {} }, KNOWN, '');
      rejectUnknownFields({ agentversion: '1' }, KNOWN, 'x');
    }
  });

  void it('refuses an unknown field, naming it with its path and the accepted ones', () => {
    for (const prefix of ['', 'serviceStatuses.himds']) {
      assert.throws(
        () => rejectUnknownFields({ agentVersion: '1', agentVersions: '2' }, KNOWN, prefix),
        (error: unknown) => {
          assert.ok(error instanceof ArmError);
          assert.equal(error.code, 'InvalidRequestContent');
          const target = prefix === '' ? 'agentVersions' : `${prefix}.agentVersions`;
          assert.equal(error.target, target);
          assert.match(error.message, /accepted: agentVersion, serviceStatuses/);
          return true;
        },
      );
    }
  });

  void it('judges each list by its own names, whichever was checked before', () => {
    rejectUnknownFields({ status: 'running' }, ['status', 'startupType'], 's');
    assert.throws(() => rejectUnknownFields({ status: 'running' }, KNOWN, ''), ArmError);
    rejectUnknownFields({ Status: 'running' }, ['status', 'startupType'], 's');
  });
});
