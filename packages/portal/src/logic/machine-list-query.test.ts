import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIST_STATE, machineListParams, odataString } from './machine-list-query.js';

void describe('the machines page query', () => {
  void it('asks for one sorted page and no filter by default', () => {
    const params = machineListParams(DEFAULT_LIST_STATE);
    assert.equal(params.get('$top'), '50');
    assert.equal(params.get('$orderby'), 'name asc');
    assert.equal(params.get('$filter'), null);
  });

  void it('joins every filter with and, quoting values the OData way', () => {
    const params = machineListParams({
      ...DEFAULT_LIST_STATE,
      status: 'Disconnected',
      resourceGroup: ' web ',
      osType: 'linux',
      tag: "team = o'brien",
      search: 'db',
      sort: 'lastStatusChange',
      descending: true,
    });
    assert.equal(
      params.get('$filter'),
      "status eq 'Disconnected' and resourceGroup eq 'web' and osType eq 'linux' and tagName eq 'team' and tagValue eq 'o''brien' and contains(name,'db')",
    );
    assert.equal(params.get('$orderby'), 'lastStatusChange desc');
  });

  void it('filters by a tag name alone when no value is given', () => {
    const params = machineListParams({ ...DEFAULT_LIST_STATE, tag: 'critical' });
    assert.equal(params.get('$filter'), "tagName eq 'critical'");
  });

  void it('doubles quotes in string literals', () => {
    assert.equal(odataString("it's"), "'it''s'");
  });
});
