// Finds the value a program would take for a key in its config file, the way that program reads
// it: sshd (first match wins, keys case-insensitive, `Match` ends the global section), login.defs
// and sysctl.conf (the last match wins). Pure.
import type { ConfigFileFormat } from '@tether/protocol';
import type { ConfigLine } from './rule-facts.js';

export interface FoundValue {
  readonly value: string;
  readonly at: ConfigLine;
}

export interface ParsedLine {
  readonly key: string;
  readonly value: string;
}

/** The key and value of one line, or undefined for comments, blank and unparsable lines. */
export function parseConfigLine(format: ConfigFileFormat, text: string): ParsedLine | undefined {
  const line = text.trim();
  if (line === '' || line.startsWith('#') || (format === 'sysctl' && line.startsWith(';'))) {
    return undefined;
  }
  const match =
    format === 'sysctl'
      ? /^-?([^=\s]+)\s*=\s*(.*)$/.exec(line)
      : format === 'sshd'
        ? /^(\S+?)(?:\s*=\s*|\s+)(.*)$/.exec(line)
        : /^(\S+)\s+(.*)$/.exec(line);
  if (match === null) return undefined;
  return { key: match[1] ?? '', value: unquote((match[2] ?? '').trim()) };
}

export function sameKey(format: ConfigFileFormat, a: string, b: string): boolean {
  switch (format) {
    case 'sshd':
      return a.toLowerCase() === b.toLowerCase();
    case 'sysctl':
      return a.replaceAll('/', '.') === b.replaceAll('/', '.');
    case 'loginDefs':
      return a === b;
  }
}

/** True at the line where sshd's global section ends. */
export function endsGlobalSection(format: ConfigFileFormat, text: string): boolean {
  return format === 'sshd' && /^\s*match\s/i.test(text);
}

export function findConfigValue(
  format: ConfigFileFormat,
  lines: readonly ConfigLine[],
  key: string,
): FoundValue | undefined {
  let found: FoundValue | undefined;
  for (const at of lines) {
    if (endsGlobalSection(format, at.text)) break;
    const parsed = parseConfigLine(format, at.text);
    if (parsed === undefined || !sameKey(format, parsed.key, key)) continue;
    found = { value: parsed.value, at };
    if (format === 'sshd') break;
  }
  return found;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value;
}
