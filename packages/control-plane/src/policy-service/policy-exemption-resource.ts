// The policyExemptions resource: the PUT body and the shape @azure/arm-policy reads back.
import {
  asObject,
  checkEchoedNameAndType,
  field,
  invalidContent,
  optionalString,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';
import type { PolicyExemptionsTable } from '../store/schema.js';
import { policyResourceId, POLICY_RESOURCE_TYPES } from './policy-ids.js';

const PROPERTIES = [
  'policyAssignmentId',
  'policyDefinitionReferenceIds',
  'exemptionCategory',
  'expiresOn',
  'displayName',
  'description',
  'metadata',
  'assignmentScopeValidation',
  'resourceSelectors',
];

export interface ExemptionPut {
  policyAssignmentId: string;
  /** ISO-8601 UTC, normalized; undefined for no expiry. */
  expiresOn: string | undefined;
  properties: JsonObject & { policyDefinitionReferenceIds: string[] };
}

export function parseExemptionPut(body: JsonObject, name: string): ExemptionPut {
  rejectUnknownFields(body, ['properties', 'id', 'name', 'type', 'systemData'], '');
  checkEchoedNameAndType(body, name, 'policy exemption', POLICY_RESOURCE_TYPES.exemption);
  const properties = asObject(field(body, 'properties'), 'properties');
  rejectUnknownFields(properties, PROPERTIES, 'properties');
  const policyAssignmentId = optionalString(
    properties,
    'policyAssignmentId',
    'properties.policyAssignmentId',
    2048,
  );
  if (
    policyAssignmentId === undefined ||
    !/\/providers\/microsoft\.authorization\/policyassignments\/[^/]+$/i.test(policyAssignmentId)
  ) {
    throw invalidContent(
      'properties.policyAssignmentId',
      'must be the id of a policy assignment, e.g. {scope}/providers/Microsoft.Authorization/policyAssignments/{name}',
    );
  }
  const rawCategory = field(properties, 'exemptionCategory');
  const exemptionCategory = ['Waiver', 'Mitigated'].find(
    (c) => typeof rawCategory === 'string' && c.toLowerCase() === rawCategory.toLowerCase(),
  );
  if (exemptionCategory === undefined) {
    throw invalidContent(
      'properties.exemptionCategory',
      `(${JSON.stringify(rawCategory)}) must be Waiver or Mitigated`,
    );
  }
  const rawExpiry = optionalString(properties, 'expiresOn', 'properties.expiresOn', 64);
  let expiresOn: string | undefined;
  if (rawExpiry !== undefined) {
    const ms = Date.parse(rawExpiry);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(rawExpiry) || Number.isNaN(ms)) {
      throw invalidContent(
        'properties.expiresOn',
        `('${rawExpiry}') must be an ISO 8601 date-time, e.g. 2026-12-31T00:00:00Z`,
      );
    }
    expiresOn = new Date(ms).toISOString();
  }
  const rawReferences = field(properties, 'policyDefinitionReferenceIds') ?? [];
  if (!Array.isArray(rawReferences) || rawReferences.some((r) => typeof r !== 'string')) {
    throw invalidContent(
      'properties.policyDefinitionReferenceIds',
      'must be an array of reference id strings',
    );
  }
  const metadata = field(properties, 'metadata');
  if (metadata !== undefined && metadata !== null) asObject(metadata, 'properties.metadata');
  const validation = field(properties, 'assignmentScopeValidation');
  if (
    validation !== undefined &&
    validation !== null &&
    validation !== 'Default' &&
    validation !== 'DoNotValidate'
  ) {
    throw invalidContent(
      'properties.assignmentScopeValidation',
      'must be Default or DoNotValidate',
    );
  }
  const displayName = optionalString(properties, 'displayName', 'properties.displayName', 128);
  const description = optionalString(properties, 'description', 'properties.description', 512);
  return {
    policyAssignmentId,
    expiresOn,
    properties: {
      policyAssignmentId,
      policyDefinitionReferenceIds: rawReferences as string[],
      exemptionCategory,
      ...(expiresOn === undefined ? {} : { expiresOn }),
      ...(displayName === undefined ? {} : { displayName }),
      ...(description === undefined ? {} : { description }),
      ...(metadata === undefined || metadata === null ? {} : { metadata }),
      assignmentScopeValidation: validation ?? 'Default',
    },
  };
}

export function renderExemption(row: PolicyExemptionsTable): JsonObject {
  return {
    id: policyResourceId('exemption', row.scope, row.name),
    type: POLICY_RESOURCE_TYPES.exemption,
    name: row.name,
    properties: JSON.parse(row.properties) as JsonObject,
    systemData: {
      createdBy: row.created_by,
      createdAt: row.created_at,
      lastModifiedBy: row.updated_by,
      lastModifiedAt: row.updated_at,
    },
  };
}
