// The reported agentConfiguration is validated on arrival: well-formed reports pass, others are named.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAgentConfiguration, type AgentConfiguration } from './agent-configuration.js';

const valid: AgentConfiguration = {
  extensionsAllowList: [{ publisher: 'Microsoft.Azure.Monitor', type: 'AzureMonitorLinuxAgent' }],
  extensionsBlockList: [],
  extensionsEnabled: 'true',
  guestConfigurationEnabled: 'false',
  configMode: 'full',
  proxyUrl: '',
  proxyBypass: ['Arc'],
  incomingConnectionsPorts: ['22', '6516'],
  incomingConnectionsEnabled: 'true',
};

void describe('parseAgentConfiguration', () => {
  void test('accepts a well-formed report and returns the same content', () => {
    assert.deepEqual(parseAgentConfiguration(JSON.parse(JSON.stringify(valid))), valid);
  });

  const broken: [string, unknown, RegExp][] = [
    ['not an object', [], /agentConfiguration must be a JSON object/],
    ['an unknown field', { ...valid, extra: 1 }, /extra is not a known agentConfiguration field/],
    ['a missing field', { ...valid, configMode: undefined }, /configMode must be a string/],
    [
      'a boolean as a real boolean',
      { ...valid, extensionsEnabled: true },
      /extensionsEnabled must be a string/,
    ],
    [
      'a boolean string in capitals',
      { ...valid, extensionsEnabled: 'True' },
      /must be one of "true", "false"/,
    ],
    [
      'an unknown mode',
      { ...valid, configMode: 'audit' },
      /configMode must be one of "full", "monitor"/,
    ],
    [
      'an extension entry with a wildcard',
      { ...valid, extensionsBlockList: [{ publisher: 'Microsoft.Azure.Extensions', type: '*' }] },
      /extensionsBlockList\[0\] is not a valid extension/,
    ],
    [
      'an extension entry with extra fields',
      { ...valid, extensionsAllowList: [{ publisher: 'A', type: 'B', version: '1' }] },
      /extensionsAllowList\[0\] must be exactly \{publisher, type\}/,
    ],
    ['port 0', { ...valid, incomingConnectionsPorts: ['0'] }, /"0", which is not a port 1-65535/],
    ['port 65536', { ...valid, incomingConnectionsPorts: ['65536'] }, /not a port 1-65535/],
    [
      'ports as numbers',
      { ...valid, incomingConnectionsPorts: [22] },
      /must be an array of strings/,
    ],
  ];
  for (const [label, input, message] of broken) {
    void test(`rejects ${label}`, () => {
      assert.throws(() => parseAgentConfiguration(input), message);
    });
  }

  void test('reports a missing field by name', () => {
    const rest = Object.fromEntries(Object.entries(valid).filter(([key]) => key !== 'proxyUrl'));
    assert.throws(() => parseAgentConfiguration(rest), /proxyUrl is missing/);
  });
});
