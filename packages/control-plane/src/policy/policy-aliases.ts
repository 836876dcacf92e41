// The fields a policy condition can read (`type`, `name`, `tags['x']`, provider aliases) and
// the plain "resource view" they are read from. Aliases are case-insensitive, as in Azure.
import { PolicyError } from './policy-error.js';

/**
 * What policy evaluates: a resource as plain data. `aliases` holds provider alias values by
 * lower-cased alias name; a missing key is a field that does not exist on the resource.
 */
export interface PolicyResourceView {
  readonly id: string;
  readonly type: string;
  readonly name: string;
  readonly location?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly aliases?: Readonly<Record<string, unknown>>;
}

export const ALIASES = {
  imageOffer: 'Microsoft.HybridCompute/imageOffer',
  osName: 'Microsoft.HybridCompute/machines/osName',
  osType: 'Microsoft.HybridCompute/machines/osType',
  osSku: 'Microsoft.HybridCompute/machines/osSku',
  extensionPublisher: 'Microsoft.HybridCompute/machines/extensions/publisher',
  extensionType: 'Microsoft.HybridCompute/machines/extensions/type',
  extensionTypeHandlerVersion: 'Microsoft.HybridCompute/machines/extensions/typeHandlerVersion',
  complianceStatus: 'Microsoft.GuestConfiguration/guestConfigurationAssignments/complianceStatus',
} as const;

const KNOWN_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.values(ALIASES).map((alias) => [alias.toLowerCase(), alias]),
);

export type FieldRef =
  | { readonly kind: 'id' | 'type' | 'name' | 'location' | 'tags' }
  | { readonly kind: 'tag'; readonly tag: string }
  | { readonly kind: 'alias'; readonly alias: string };

const TAG_BRACKET = /^tags\[\s*'?([^'\]]+)'?\s*\]$/i;
const TAG_DOT = /^tags\.(.+)$/i;

/** Parses a `field` value; an unknown alias is an error listing the known ones. */
export function parseField(raw: unknown, path: string): FieldRef {
  if (typeof raw !== 'string' || raw.length === 0) {
    throw new PolicyError('ERR_INVALID_POLICY_RULE', path, 'must be a field name or alias string');
  }
  const lower = raw.toLowerCase();
  if (lower === 'id' || lower === 'type' || lower === 'name' || lower === 'location') {
    return { kind: lower };
  }
  if (lower === 'tags') return { kind: 'tags' };
  const tag = TAG_BRACKET.exec(raw) ?? TAG_DOT.exec(raw);
  if (tag !== null) return { kind: 'tag', tag: (tag[1] ?? '').toLowerCase() };
  const alias = KNOWN_ALIASES.get(lower);
  if (alias === undefined) {
    throw new PolicyError(
      'ERR_INVALID_POLICY_RULE',
      path,
      `(${JSON.stringify(raw.slice(0, 200))}) is not a known field or alias; known: id, type, name, location, tags, tags['name'], tags.name, ${[...KNOWN_ALIASES.values()].join(', ')}`,
    );
  }
  return { kind: 'alias', alias: lower };
}

/** The field's value on the resource; undefined when it does not exist. */
export function readField(ref: FieldRef, view: PolicyResourceView): unknown {
  switch (ref.kind) {
    case 'id':
    case 'type':
    case 'name':
    case 'location':
      return view[ref.kind];
    case 'tags':
      return view.tags;
    case 'tag': {
      const tags = view.tags ?? {};
      // Tag names are case-insensitive in ARM.
      const key = Object.keys(tags).find((k) => k.toLowerCase() === ref.tag);
      return key === undefined ? undefined : tags[key];
    }
    case 'alias':
      return view.aliases?.[ref.alias];
  }
}
