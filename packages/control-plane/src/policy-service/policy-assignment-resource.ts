// The policyAssignments resource: the PUT body (checked field by field, parameters against
// the assigned policy) and the shape @azure/arm-policy reads back, with read-only `scope`.
import { ArmError } from '../api/arm-error.js';
import { isWithinScope } from '../rbac/scope.js';
import {
  asObject,
  checkEchoedNameAndType,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';
import { parseScope, type ParsedScope } from '../resources/arm-scope.js';
import type { PolicyAssignmentsTable } from '../store/schema.js';
import type { StoredAssignmentProperties } from './policy-catalog.js';
import { definitionKindOf, policyResourceId, POLICY_RESOURCE_TYPES } from './policy-ids.js';

const PROPERTIES = [
  'displayName',
  'policyDefinitionId',
  'scope',
  'notScopes',
  'parameters',
  'description',
  'metadata',
  'enforcementMode',
  'nonComplianceMessages',
  'definitionVersion',
  'latestDefinitionVersion',
  'effectiveDefinitionVersion',
  'assignmentType',
  'instanceId',
  'resourceSelectors',
  'overrides',
];

export interface AssignmentPut {
  location: string | undefined;
  properties: StoredAssignmentProperties & {
    description?: string;
    metadata?: JsonObject;
    nonComplianceMessages?: { message: string; policyDefinitionReferenceId?: string }[];
  };
}

export function parseAssignmentPut(
  body: JsonObject,
  name: string,
  scope: ParsedScope,
): AssignmentPut {
  rejectUnknownFields(
    body,
    ['properties', 'location', 'identity', 'id', 'name', 'type', 'systemData'],
    '',
  );
  checkEchoedNameAndType(body, name, 'policy assignment', POLICY_RESOURCE_TYPES.assignment);
  const identity = field(body, 'identity');
  if (identity !== undefined && identity !== null) {
    const type = field(asObject(identity, 'identity'), 'type');
    if (type !== undefined && type !== 'None') {
      throw invalidContent(
        'identity.type',
        "must be 'None': policy assignments have no managed identity here",
      );
    }
  }
  const properties = asObject(field(body, 'properties'), 'properties');
  rejectUnknownFields(properties, PROPERTIES, 'properties');
  const givenScope = optionalString(properties, 'scope', 'properties.scope', 2048);
  if (givenScope !== undefined && parseScope(givenScope).scope !== scope.scope) {
    throw invalidContent(
      'properties.scope',
      `is read-only: it is the scope in the URL ('${scope.scope}')`,
    );
  }
  const policyDefinitionId = optionalString(
    properties,
    'policyDefinitionId',
    'properties.policyDefinitionId',
    2048,
  );
  if (policyDefinitionId === undefined || definitionKindOf(policyDefinitionId) === undefined) {
    throw invalidContent(
      'properties.policyDefinitionId',
      'must be the id of a policy definition or policy set definition, e.g. /providers/Microsoft.Authorization/policyDefinitions/{name}',
    );
  }
  const rawNotScopes = field(properties, 'notScopes') ?? [];
  if (!Array.isArray(rawNotScopes))
    throw invalidContent('properties.notScopes', 'must be an array of scopes');
  const notScopes = rawNotScopes.map((raw: unknown, i) => {
    const at = `properties.notScopes[${i}]`;
    if (typeof raw !== 'string') throw invalidContent(at, 'must be a scope string');
    const parsed = parseScope(raw).scope;
    if (parsed === scope.scope || !isWithinScope(parsed, scope.scope)) {
      throw invalidContent(
        at,
        `('${raw}') must be a scope below the assignment's scope '${scope.scope}'`,
      );
    }
    return raw;
  });
  const mode = field(properties, 'enforcementMode') ?? 'Default';
  const enforcementMode = ['Default', 'DoNotEnforce'].find(
    (m) => typeof mode === 'string' && m.toLowerCase() === mode.toLowerCase(),
  );
  if (enforcementMode === undefined) {
    throw invalidContent(
      'properties.enforcementMode',
      `(${JSON.stringify(mode)}) must be Default or DoNotEnforce`,
    );
  }
  const parameters = field(properties, 'parameters') ?? {};
  asObject(parameters, 'properties.parameters');
  const metadata = field(properties, 'metadata');
  if (metadata !== undefined && metadata !== null) asObject(metadata, 'properties.metadata');
  const messages = parseMessages(field(properties, 'nonComplianceMessages'));
  const displayName = optionalString(properties, 'displayName', 'properties.displayName', 128);
  const description = optionalString(properties, 'description', 'properties.description', 512);
  const location = optionalString(body, 'location', 'location', 64);
  return {
    location,
    properties: {
      ...(displayName === undefined ? {} : { displayName }),
      policyDefinitionId,
      notScopes,
      parameters: parameters as Record<string, unknown>,
      enforcementMode: enforcementMode as 'Default' | 'DoNotEnforce',
      ...(description === undefined ? {} : { description }),
      ...(metadata === undefined || metadata === null ? {} : { metadata: metadata as JsonObject }),
      ...(messages === undefined ? {} : { nonComplianceMessages: messages }),
    },
  };
}

function parseMessages(
  raw: unknown,
): { message: string; policyDefinitionReferenceId?: string }[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!Array.isArray(raw))
    throw invalidContent(
      'properties.nonComplianceMessages',
      'must be an array of {message, policyDefinitionReferenceId}',
    );
  return raw.map((item: unknown, i) => {
    const at = `properties.nonComplianceMessages[${i}]`;
    const object = asObject(item, at);
    rejectUnknownFields(object, ['message', 'policyDefinitionReferenceId'], at);
    const message = optionalString(object, 'message', `${at}.message`, 1024);
    if (message === undefined || message.length === 0)
      throw invalidContent(`${at}.message`, 'is required');
    const reference = optionalString(
      object,
      'policyDefinitionReferenceId',
      `${at}.policyDefinitionReferenceId`,
      64,
    );
    return {
      message,
      ...(reference === undefined ? {} : { policyDefinitionReferenceId: reference }),
    };
  });
}

/** nonComplianceMessages may name only the set's reference ids. */
export function checkMessageReferences(
  put: AssignmentPut,
  referenceIds: readonly string[] | undefined,
): void {
  (put.properties.nonComplianceMessages ?? []).forEach((m, i) => {
    if (m.policyDefinitionReferenceId === undefined) return;
    const wanted = m.policyDefinitionReferenceId.toLowerCase();
    if (referenceIds === undefined || !referenceIds.some((r) => r.toLowerCase() === wanted)) {
      throw new ArmError(
        'InvalidPolicyDefinitionReference',
        `The request content is invalid: 'properties.nonComplianceMessages[${i}].policyDefinitionReferenceId' ('${m.policyDefinitionReferenceId}') is not a member of the assigned ${referenceIds === undefined ? 'definition (only policy sets have reference ids)' : `policy set; its reference ids are: ${referenceIds.join(', ')}`}.`,
        { target: `properties.nonComplianceMessages[${i}].policyDefinitionReferenceId` },
      );
    }
  });
}

export function renderAssignment(row: PolicyAssignmentsTable): JsonObject {
  const properties = JSON.parse(row.properties) as JsonObject;
  return {
    id: policyResourceId('assignment', row.scope, row.name),
    type: POLICY_RESOURCE_TYPES.assignment,
    name: row.name,
    ...(row.location === null ? {} : { location: row.location }),
    properties: { ...properties, scope: row.scope },
    systemData: {
      createdBy: row.created_by,
      createdAt: row.created_at,
      lastModifiedBy: row.updated_by,
      lastModifiedAt: row.updated_at,
    },
  };
}
