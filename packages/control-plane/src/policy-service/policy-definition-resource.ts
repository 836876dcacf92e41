// The policyDefinitions and policySetDefinitions resources: PUT bodies and the shape
// @azure/arm-policy reads back.
import { ArmError } from '../api/arm-error.js';
import {
  parsePolicyDefinition,
  parsePolicySet,
  type PolicyDefinitionDocument,
} from '../policy/index.js';
import {
  asObject,
  checkEchoedNameAndType,
  field,
  rejectUnknownFields,
  type JsonObject,
} from '../resources/arm-request.js';
import { asArm } from './policy-arm-error.js';
import type { CatalogEntry } from './policy-catalog.js';
import { policyResourceId, POLICY_RESOURCE_TYPES } from './policy-ids.js';

/** Checks a custom definition's or set's PUT body; returns the `properties` to store. */
export function parseDefinitionPut(
  kind: 'definition' | 'set',
  body: JsonObject,
  name: string,
  definitions: ReadonlyMap<string, PolicyDefinitionDocument>,
): Record<string, unknown> {
  rejectUnknownFields(body, ['properties', 'id', 'name', 'type', 'systemData'], '');
  checkEchoedNameAndType(
    body,
    name,
    kind === 'set' ? 'policy set definition' : 'policy definition',
    POLICY_RESOURCE_TYPES[kind],
  );
  const properties = { ...asObject(field(body, 'properties'), 'properties') };
  const policyType = field(properties, 'policyType');
  if (
    policyType !== undefined &&
    policyType !== null &&
    (typeof policyType !== 'string' || policyType.toLowerCase() !== 'custom')
  ) {
    throw new ArmError(
      'InvalidPolicyRule',
      `The request content is invalid: 'properties.policyType' is ${JSON.stringify(policyType)}; only Custom definitions can be created.`,
      { target: 'properties.policyType' },
    );
  }
  for (const key of Object.keys(properties))
    if (key.toLowerCase() === 'policytype') delete properties[key];
  if (kind === 'definition') {
    const document = asArm(() => parsePolicyDefinition(properties));
    return { policyType: 'Custom', ...properties, mode: document.mode };
  }
  const { filled } = asArm(() => parsePolicySet(properties, (id) => definitions.get(id)));
  return { policyType: 'Custom', ...filled };
}

export function renderDefinition(entry: CatalogEntry): JsonObject {
  const row = entry.row;
  return {
    id: policyResourceId(entry.kind, entry.scope, entry.name),
    type: POLICY_RESOURCE_TYPES[entry.kind],
    name: entry.name,
    properties: entry.properties,
    ...(row === undefined
      ? {}
      : {
          systemData: {
            createdBy: row.created_by,
            createdByType: 'Application',
            createdAt: row.created_at,
            lastModifiedBy: row.updated_by,
            lastModifiedByType: 'Application',
            lastModifiedAt: row.updated_at,
          },
        }),
  };
}
