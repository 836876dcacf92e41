// Extension identities written `Publisher/Type`: parsing, formatting and comparison shared by
// the agent's allowlist/blocklist and the control plane's extension requests.
import { TetherError } from './tether-error.js';

export interface ExtensionName {
  readonly publisher: string;
  readonly type: string;
}

export type ExtensionNameErrorCode = 'ERR_INVALID_EXTENSION_NAME';

/** The allowlist value that keeps the extension manager running but allows no installs. */
export const ALLOW_NONE: ExtensionName = Object.freeze({ publisher: 'Allow', type: 'None' });

const EXAMPLE = 'Microsoft.Azure.Monitor/AzureMonitorLinuxAgent';
/** Real publisher and type names use only these characters; anything else is a typo or an attack. */
const PART = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Generous next to real names (under 60 characters) while keeping absurd input out of files. */
const MAX_PART_LENGTH = 128;

/** Parses one `Publisher/Type`; surrounding whitespace is ignored, anything odd is rejected. */
export function parseExtensionName(text: string): ExtensionName {
  const entry = text.trim();
  const invalid = (why: string): TetherError<ExtensionNameErrorCode> =>
    new TetherError('ERR_INVALID_EXTENSION_NAME', `Invalid extension name "${entry}": ${why}.`, {
      target: entry,
    });
  if (entry === '') throw invalid(`it is empty; expected Publisher/Type, for example ${EXAMPLE}`);
  if (/[*?]/.test(entry)) {
    throw invalid('wildcards are not supported; each entry names exactly one extension');
  }
  if (/\s/.test(entry)) throw invalid('it contains whitespace');
  const parts = entry.split('/');
  if (parts.length !== 2) {
    throw invalid(
      `expected Publisher/Type with exactly one "/" (found ${parts.length - 1}), for example ${EXAMPLE}`,
    );
  }
  const [publisher = '', type = ''] = parts;
  for (const [label, part] of [
    ['publisher', publisher],
    ['type', type],
  ] as const) {
    if (part === '') throw invalid(`the ${label} is empty; expected Publisher/Type`);
    if (part.length > MAX_PART_LENGTH) {
      throw invalid(`the ${label} is longer than ${MAX_PART_LENGTH} characters`);
    }
    if (!PART.test(part)) {
      throw invalid(
        `the ${label} "${part}" may only contain letters, digits, ".", "-" and "_" and must start with a letter or digit`,
      );
    }
  }
  return Object.freeze({ publisher, type });
}

/**
 * Parses a comma-separated list of `Publisher/Type` entries. Every entry must be valid: an
 * empty entry (",," or a trailing comma) is an error rather than something silently skipped.
 */
export function parseExtensionList(text: string): ExtensionName[] {
  return text.split(',').map((entry, index, all) => {
    if (entry.trim() === '' && all.length > 1) {
      throw new TetherError(
        'ERR_INVALID_EXTENSION_NAME',
        `Invalid extension list "${text}": entry ${index + 1} is empty; separate entries with single commas.`,
        { target: text },
      );
    }
    return parseExtensionName(entry);
  });
}

export function formatExtensionName(name: ExtensionName): string {
  return `${name.publisher}/${name.type}`;
}

/** Names match case-insensitively and exactly: no prefixes, no substrings. */
export function extensionNamesEqual(a: ExtensionName, b: ExtensionName): boolean {
  return (
    a.publisher.toLowerCase() === b.publisher.toLowerCase() &&
    a.type.toLowerCase() === b.type.toLowerCase()
  );
}

export function isAllowNone(name: ExtensionName): boolean {
  return extensionNamesEqual(name, ALLOW_NONE);
}

export function listIncludesExtension(
  list: readonly ExtensionName[],
  name: ExtensionName,
): boolean {
  return list.some((entry) => extensionNamesEqual(entry, name));
}
