// Hides the values of an extension's protected settings in what a handler printed or reported,
// before that text leaves the machine or lands in the world-listable extension state.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type SecretMask = (text: string) => string;

/** Shorter values are too common ("true", "443") to hide without mangling ordinary output. */
export const MIN_SECRET_LENGTH = 4;
const MASK = '***';

/**
 * Every string value of `protectedSettings` (at any depth) of at least MIN_SECRET_LENGTH
 * characters, also as it reads JSON-escaped and base64-encoded, is replaced with `***`.
 */
export function secretMask(protectedSettings: unknown): SecretMask {
  const values = new Set<string>();
  collect(protectedSettings, values);
  const forms = new Set<string>();
  for (const value of values) {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    const base64 = Buffer.from(value, 'utf8').toString('base64');
    forms.add(base64);
    forms.add(base64.replace(/=+$/, ''));
  }
  // Longest first, so that a secret containing another is hidden whole.
  const needles = [...forms].filter((form) => form.length >= MIN_SECRET_LENGTH);
  needles.sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (text) => text;
  return (text) => {
    let masked = text;
    for (const needle of needles) masked = masked.split(needle).join(MASK);
    return hideCutPrefix(masked, needles);
  };
}

/**
 * An output tail may start in the middle of a secret: a leading fragment that is the end of a
 * secret (MIN_SECRET_LENGTH characters or more) is hidden too.
 */
function hideCutPrefix(text: string, needles: readonly string[]): string {
  let longest = 0;
  for (const needle of needles) {
    for (let length = needle.length - 1; length >= MIN_SECRET_LENGTH; length--) {
      if (length > longest && text.startsWith(needle.slice(-length))) {
        longest = length;
        break;
      }
    }
  }
  return longest === 0 ? text : `${MASK}${text.slice(longest)}`;
}

/** The mask for the protected settings in config/<sequence>.settings; none if it cannot be read. */
export function settingsFileMask(configFolder: string, sequence: number): SecretMask {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(configFolder, `${sequence}.settings`), 'utf8'));
  } catch {
    return (text) => text;
  }
  const runtime = (json as { runtimeSettings?: unknown }).runtimeSettings;
  const first: unknown = Array.isArray(runtime) ? runtime[0] : undefined;
  const handlerSettings = (first as { handlerSettings?: { protectedSettings?: unknown } } | null)
    ?.handlerSettings;
  return secretMask(handlerSettings?.protectedSettings ?? null);
}

function collect(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    if (value.length >= MIN_SECRET_LENGTH) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) collect(item, into);
  }
}
