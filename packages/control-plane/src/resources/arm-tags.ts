// Tags and locations as ARM accepts them on resource groups and machines.
import { invalidContent } from './arm-request.js';

export type Tags = Record<string, string>;

const MAX_TAGS = 50;
const TAG_NAME_FORBIDDEN = /[<>%&\\?/\p{Cc}]/u;
const LOCATION = /^[A-Za-z0-9][A-Za-z0-9 ]{0,63}$/;

/** `undefined` when absent, so that PATCH can tell "leave as is" from "clear". */
export function parseTags(value: unknown, target = 'tags'): Tags | undefined {
  if (value === undefined) return undefined;
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidContent(target, 'must be an object of string values, e.g. {"env":"prod"}');
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_TAGS)
    throw invalidContent(target, `has ${entries.length} tags; at most ${MAX_TAGS} are allowed`);
  const tags: Tags = {};
  for (const [name, tagValue] of entries) {
    if (name.length === 0 || name.length > 512 || TAG_NAME_FORBIDDEN.test(name)) {
      throw invalidContent(
        `${target}.${name}`,
        'is not a valid tag name: use 1-512 characters without < > % & \\ ? / or control characters',
      );
    }
    if (typeof tagValue !== 'string' || tagValue.length > 256) {
      throw invalidContent(`${target}.${name}`, 'must be a string of at most 256 characters');
    }
    tags[name] = tagValue;
  }
  return tags;
}

/** ARM's spelling of a location: "East US" and "eastus" are the same place. */
export function parseLocation(value: unknown, target = 'location'): string {
  if (typeof value !== 'string' || !LOCATION.test(value)) {
    throw invalidContent(
      target,
      'is required: a region name of letters, digits and spaces such as "westeurope"',
    );
  }
  return value.replaceAll(' ', '').toLowerCase();
}
