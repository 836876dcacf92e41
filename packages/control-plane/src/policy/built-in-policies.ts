// The policy definitions and the initiative Tether ships, as data with stable GUID names,
// read at `/providers/Microsoft.Authorization/policyDefinitions/{name}` and listed in every
// subscription. Where Azure ships the same policy, its name is Azure's.
import { deepFreeze } from '../rbac/deep-freeze.js';

export interface BuiltInPolicy {
  readonly name: string;
  /** The definition's `properties`, exactly as served. */
  readonly properties: Readonly<Record<string, unknown>>;
}

export const LINUX_BASELINE_POLICY = 'fc9b3da7-8347-4380-8e70-0a0361d8dedd';
export const LINUX_SSH_KEYS_POLICY = '630c64f9-8b6b-4c64-b511-6544ceff6fd6';
export const LINUX_NO_PASSWORDLESS_ACCOUNTS_POLICY = 'ea53dbee-c6c9-4f0e-9f9e-de0039b78023';
/** Tether's own; Azure's equivalent is for virtual machines, not Arc-enabled servers. */
export const ALLOWED_EXTENSIONS_POLICY = '7b8f4a2e-3c91-4d6b-a0f5-2e9d81c6b437';
/** Tether's own initiative grouping the three Linux guest configuration audits. */
export const LINUX_SECURITY_INITIATIVE = '4d2c9e71-6a3b-48f0-9b15-c7e0a8d3f962';

export const GUEST_CONFIGURATION_ASSIGNMENT_TYPE =
  'Microsoft.GuestConfiguration/guestConfigurationAssignments';

/** The shape of every guest configuration audit: machines whose imageOffer is Linux. */
function linuxAudit(
  name: string,
  displayName: string,
  description: string,
  configuration: string,
  version: string,
): BuiltInPolicy {
  return {
    name,
    properties: {
      displayName,
      policyType: 'BuiltIn',
      mode: 'Indexed',
      description,
      metadata: {
        category: 'Guest Configuration',
        version: '1.0.0',
        requiredProviders: ['Microsoft.GuestConfiguration'],
        guestConfiguration: { name: configuration, version },
      },
      parameters: {
        effect: {
          type: 'String',
          metadata: {
            displayName: 'Effect',
            description: 'Enable or disable the execution of this policy',
          },
          allowedValues: ['AuditIfNotExists', 'Disabled'],
          defaultValue: 'AuditIfNotExists',
        },
      },
      policyRule: {
        if: {
          allOf: [
            { field: 'type', equals: 'Microsoft.HybridCompute/machines' },
            { field: 'Microsoft.HybridCompute/imageOffer', like: 'linux*' },
          ],
        },
        then: {
          effect: "[parameters('effect')]",
          details: {
            type: GUEST_CONFIGURATION_ASSIGNMENT_TYPE,
            name: configuration,
            existenceCondition: {
              field: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/complianceStatus',
              equals: 'Compliant',
            },
          },
        },
      },
    },
  };
}

export const BUILT_IN_POLICY_DEFINITIONS: readonly BuiltInPolicy[] = deepFreeze([
  linuxAudit(
    LINUX_BASELINE_POLICY,
    'Linux machines should meet requirements for the Azure compute security baseline',
    'Requires the guest configuration service on the machine. Machines are non-compliant if they do not meet the Linux security baseline.',
    'AzureLinuxBaseline',
    '1.*',
  ),
  linuxAudit(
    LINUX_SSH_KEYS_POLICY,
    'Authentication to Linux machines should require SSH keys',
    'Machines are non-compliant if their SSH server accepts passwords (PasswordAuthentication is not "no").',
    'LinuxNoPasswordForSSH',
    '1.*',
  ),
  linuxAudit(
    LINUX_NO_PASSWORDLESS_ACCOUNTS_POLICY,
    'Linux machines should not allow accounts without passwords to connect remotely',
    'Machines are non-compliant if accounts without passwords can connect remotely.',
    'PasswordPolicy_msid110',
    '1.*',
  ),
  {
    name: ALLOWED_EXTENSIONS_POLICY,
    properties: {
      displayName: 'Only allowed extensions should be installed on Arc-enabled machines',
      policyType: 'BuiltIn',
      mode: 'Indexed',
      description:
        'Refuses (or audits) machine extensions whose publisher.type is not in the allowed list.',
      metadata: { category: 'Azure Arc', version: '1.0.0' },
      parameters: {
        allowedExtensions: {
          type: 'Array',
          metadata: {
            displayName: 'Allowed extensions',
            description: 'Extension types allowed, e.g. Microsoft.Azure.Monitor',
          },
        },
        allowedPublishers: {
          type: 'Array',
          metadata: {
            displayName: 'Allowed publishers',
            description: 'Publishers whose extensions are allowed',
          },
          defaultValue: [],
        },
        effect: {
          type: 'String',
          metadata: { displayName: 'Effect', description: 'Deny, Audit or Disabled' },
          allowedValues: ['Deny', 'Audit', 'Disabled'],
          defaultValue: 'Deny',
        },
      },
      policyRule: {
        if: {
          allOf: [
            { field: 'type', equals: 'Microsoft.HybridCompute/machines/extensions' },
            {
              field: 'Microsoft.HybridCompute/machines/extensions/type',
              notIn: "[parameters('allowedExtensions')]",
            },
            {
              field: 'Microsoft.HybridCompute/machines/extensions/publisher',
              notIn: "[parameters('allowedPublishers')]",
            },
          ],
        },
        then: { effect: "[parameters('effect')]" },
      },
    },
  },
]);

const definitionId = (name: string): string =>
  `/providers/Microsoft.Authorization/policyDefinitions/${name}`;

export const BUILT_IN_POLICY_SETS: readonly BuiltInPolicy[] = deepFreeze([
  {
    name: LINUX_SECURITY_INITIATIVE,
    properties: {
      displayName: 'Linux machines should meet the Tether security baseline',
      policyType: 'BuiltIn',
      description:
        'Audits Linux Arc-enabled machines against the security baseline, SSH key authentication and remote access without passwords.',
      metadata: { category: 'Guest Configuration', version: '1.0.0' },
      parameters: {
        effect: {
          type: 'String',
          metadata: { displayName: 'Effect', description: 'Enable or disable the audits' },
          allowedValues: ['AuditIfNotExists', 'Disabled'],
          defaultValue: 'AuditIfNotExists',
        },
      },
      policyDefinitions: [
        ['LinuxSecurityBaseline', LINUX_BASELINE_POLICY],
        ['LinuxRequireSshKeys', LINUX_SSH_KEYS_POLICY],
        ['LinuxNoAccountsWithoutPasswords', LINUX_NO_PASSWORDLESS_ACCOUNTS_POLICY],
      ].map(([referenceId = '', name = '']) => ({
        policyDefinitionReferenceId: referenceId,
        policyDefinitionId: definitionId(name),
        parameters: { effect: { value: "[parameters('effect')]" } },
        groupNames: [],
      })),
      policyDefinitionGroups: [],
    },
  },
]);
