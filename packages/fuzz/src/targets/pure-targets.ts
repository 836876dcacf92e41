// Targets for the pure parsers: each input goes straight to the real function, and only the
// module's own documented error may come out of it.
import { parseGuestConfiguration } from '@tether/protocol';
import { parseGoalState } from '@tether/agent/extensions/service/goal-state';
import { parseGcGoalState } from '@tether/agent/guest-config/service/parse-gc-goal-state';
import { parseStoredConfig } from '@tether/agent/config/local-config-file';
import { PROPERTY_NAMES } from '@tether/agent/config/property-table';
import { propertyDefinition } from '@tether/agent/config/property-values';
import { parseHandlerStatus } from '@tether/agent/extensions/host/handler-status';
import { parsePolicyDefinition } from '@tether/control-plane/policy/policy-definition';
import fc from 'fast-check';
import { jsonAround, textFrom } from '../arbitraries.js';
import { expectOnly, plainError, tetherError } from '../expect-only.js';
import { fuzzTarget, type FuzzTarget } from '../fuzz-target.js';

const CONFIG_TOKENS = [
  'true',
  'false',
  'TRUE',
  '0',
  '1',
  '100',
  '65535',
  '65536',
  '-1',
  '1e3',
  '0x10',
  ' ',
  ',',
  'http://',
  'https://',
  'proxy',
  ':8080',
  '@',
  'user:pw@',
  '[::1]',
  '127.0.0.1',
  '/',
  '?',
  '#',
  'full',
  'monitor',
  'default',
  'arc',
  'azure',
  'Microsoft.',
  'linux',
  '*',
  'AzureMonitor',
];

const configValues = fuzzTarget(
  'config-values',
  'agent config/property-table parse and parseItem (azcmagent config set)',
  () => ({
    arbitrary: fc.tuple(fc.constantFrom(...PROPERTY_NAMES), textFrom(CONFIG_TOKENS)),
    check: ([name, text]: [(typeof PROPERTY_NAMES)[number], string]) =>
      expectOnly(tetherError, () => {
        const property = propertyDefinition(name);
        return property.kind === 'scalar' ? property.parse(text) : property.parseItem(text);
      }),
  }),
);

const localConfig = fuzzTarget(
  'local-config',
  'agent config/local-config-file parseStoredConfig (localconfig.json)',
  () => ({
    arbitrary: fc.oneof(
      textFrom(['{', '}', '[', ']', '"', ':', ',', 'null', 'true', '1', ...PROPERTY_NAMES]),
      jsonAround(PROPERTY_NAMES, [...CONFIG_TOKENS, 8080, 50, [], ['a'], [443]], 2).map((value) =>
        JSON.stringify(value),
      ),
    ),
    check: (text: string) => expectOnly(plainError, () => parseStoredConfig(text)),
  }),
);

const handlerStatus = fuzzTarget(
  'handler-status',
  'agent extensions/host/handler-status parseHandlerStatus (status/<seq>.status)',
  () => ({
    arbitrary: fc.oneof(
      textFrom(['{', '}', '[', ']', '"status"', ':', ',', '"success"', '\uFEFF', 'null']),
      jsonAround(
        ['status', 'formattedMessage', 'message', 'code', 'operation', 'name', 'lang'],
        ['success', 'Error', 'transitioning', 'warning', 'en-US'],
      ).map((value) => JSON.stringify(value) ?? ''),
    ),
    // Documented: anything malformed is "no status"; nothing is thrown.
    check: (text: string) =>
      expectOnly(
        () => false,
        () => parseHandlerStatus(text),
      ),
  }),
);

const goalState = fuzzTarget(
  'goal-state',
  'agent extensions/service/goal-state parseGoalState',
  () => ({
    arbitrary: jsonAround(
      [
        'generation',
        'extensions',
        'name',
        'publisher',
        'type',
        'version',
        'sequence',
        'state',
        'settings',
        'protectedSettings',
        'jwe',
        'keyId',
        'operation',
        'id',
        'kind',
        'enableAutomaticUpgrade',
        'typeHandlerVersion',
      ],
      [
        'enabled',
        'removed',
        'install',
        'update',
        'upgrade',
        'remove',
        'Microsoft.Azure',
        '1.0',
        0,
        3,
      ],
      5,
    ),
    check: (value: unknown) => expectOnly(plainError, () => parseGoalState(value)),
  }),
);

const gcGoalState = fuzzTarget(
  'gc-goal-state',
  'agent guest-config/service/parse-gc-goal-state parseGcGoalState',
  () => ({
    arbitrary: jsonAround(
      [
        'generation',
        'assignments',
        'name',
        'assignmentType',
        'contentHash',
        'contentUri',
        'configurationName',
        'version',
        'publisher',
        'parameters',
        'value',
        'frequencyMinutes',
        'evaluationRequest',
      ],
      ['Audit', 'ApplyAndMonitor', 'ApplyAndAutoCorrect', 'a'.repeat(64), '0'.repeat(64), 15, 1440],
      5,
    ),
    check: (value: unknown) => expectOnly(plainError, () => parseGcGoalState(value)),
  }),
);

const guestConfiguration = fuzzTarget(
  'guest-configuration',
  'protocol parse-guest-configuration parseGuestConfiguration (guest configuration packages)',
  () => ({
    arbitrary: jsonAround(
      [
        'name',
        'version',
        'rules',
        'id',
        'title',
        'check',
        'kind',
        'path',
        'owner',
        'group',
        'maxMode',
        'mode',
        'present',
        'format',
        'key',
        'expect',
        'equals',
        'oneOf',
        'matches',
        'atLeast',
        'atMost',
        'remediateTo',
        'command',
        'compliantExitCodes',
        'timeoutSeconds',
        'unit',
        'enabled',
        'names',
        'installed',
        'configKey',
        'default',
        'accounts',
        'noEmptyPasswords',
        'onlyRootUid0',
        'passwordHashSha512',
      ],
      [
        'file',
        'sshd',
        'sysctl',
        'systemdUnit',
        'package',
        'kernelParameter',
        'loginDefs',
        'command',
        '/etc/ssh/sshd_config',
        '/var/opt/azcmagent/x',
        '0644',
        'root',
        '^a+$',
        '(a+)+$',
        '../etc',
        'ini',
        'keyValue',
      ],
      6,
    ),
    check: (value: unknown) => expectOnly(tetherError, () => parseGuestConfiguration(value)),
  }),
);

const policyDefinition = fuzzTarget(
  'policy-definition',
  'control-plane policy/policy-definition parsePolicyDefinition (rules, conditions, parameters)',
  () => ({
    arbitrary: jsonAround(
      [
        'displayName',
        'description',
        'policyType',
        'mode',
        'metadata',
        'parameters',
        'policyRule',
        'if',
        'then',
        'effect',
        'details',
        'field',
        'value',
        'equals',
        'notEquals',
        'like',
        'notLike',
        'in',
        'notIn',
        'contains',
        'notContains',
        'exists',
        'less',
        'greater',
        'lessOrEquals',
        'greaterOrEquals',
        'allOf',
        'anyOf',
        'not',
        'type',
        'allowedValues',
        'defaultValue',
        'guestConfiguration',
        'name',
        'version',
        'assignmentType',
        'configurationParameter',
        'existenceCondition',
        'roleDefinitionIds',
        'deployment',
      ],
      [
        'Audit',
        'Deny',
        'Disabled',
        'AuditIfNotExists',
        'DeployIfNotExists',
        'All',
        'Indexed',
        'Custom',
        'String',
        'Array',
        'Integer',
        'Boolean',
        'Object',
        'Float',
        'DateTime',
        'type',
        'name',
        'location',
        'tags',
        "[parameters('effect')]",
        "[parameters('x')]",
        '[',
        '[[x',
        "[concat('a')]",
        'Microsoft.HybridCompute/machines',
        'tags[env]',
        '*',
        'a*b*c*d*e',
      ],
      6,
    ),
    check: (value: unknown) => expectOnly(tetherError, () => parsePolicyDefinition(value)),
  }),
);

export const PURE_TARGETS: readonly FuzzTarget[] = [
  configValues,
  localConfig,
  handlerStatus,
  goalState,
  gcGoalState,
  guestConfiguration,
  policyDefinition,
];
