// Plans and applies the edit that sets a `configKey` rule's key: the effective line rewritten in
// place (sshd's first in the global section, the last for login.defs and sysctl), or a new line
// where the program will read it; every other line, comment and the order kept. Pure.
import type { ComplianceReason, ConfigFileFormat, ConfigKeyRule } from '@tether/protocol';
import {
  endsGlobalSection,
  findConfigValue,
  parseConfigLine,
  sameKey,
} from './config-file-value.js';
import type { ConfigFacts, ConfigLine } from './rule-facts.js';
import { meetsExpectation } from './value-expectation.js';

export interface ConfigEdit {
  /** The server path of the file to edit (the rule's file or, for sshd, an included one). */
  readonly file: string;
  readonly format: ConfigFileFormat;
  readonly key: string;
  readonly value: string;
  /** 0-based index of the line to replace, or where the new line goes (its length to append). */
  readonly index: number;
  readonly replace: boolean;
  /** The line found at `index` when planned, to refuse an edit of a file changed since. */
  readonly expected: string | undefined;
}

export type ConfigKeyRemediation =
  | { readonly plan: 'edit'; readonly edit: ConfigEdit; readonly reason: ComplianceReason }
  | { readonly plan: 'auditOnly'; readonly reason: ComplianceReason };

export function planConfigKeyRemediation(
  rule: ConfigKeyRule,
  config: ConfigFacts,
): ConfigKeyRemediation {
  const value = rule.remediateTo ?? ('equals' in rule.expect ? rule.expect.equals : undefined);
  if (value === undefined) {
    return auditOnly(`${rule.key} has no value to set (no remediateTo), so nothing was changed`);
  }
  if (!meetsExpectation(rule.expect, value)) {
    return auditOnly(
      `the configured value "${value}" for ${rule.key} would not be compliant, so nothing was changed`,
    );
  }
  if (!config.exists) {
    return auditOnly(`remediation never creates files; ${rule.path} does not exist`);
  }
  const base = { format: rule.format, key: rule.key, value };
  const found = findConfigValue(rule.format, config.lines, rule.key);
  if (found !== undefined) {
    const where = `${found.at.file} line ${found.at.line}`;
    return {
      plan: 'edit',
      edit: {
        ...base,
        file: found.at.file,
        index: found.at.line - 1,
        replace: true,
        expected: found.at.text,
      },
      reason: {
        code: 'configKey.remediated',
        phrase: `changed ${rule.key} from "${found.value}" to "${value}" in ${where}`,
      },
    };
  }
  const own = config.lines.filter((l) => l.file === rule.path);
  // sshd ignores what follows the first Match, so the key goes before it (or before the Include
  // that brings it in): after the last line of the rule's own file read ahead of it.
  const end = config.lines.findIndex((l) => endsGlobalSection(rule.format, l.text));
  const before = end < 0 ? own : config.lines.slice(0, end).filter((l) => l.file === rule.path);
  const index = end < 0 ? lastTextLine(own) : (before.at(-1)?.line ?? 0);
  const expected = end < 0 ? undefined : own.find((l) => l.line === index + 1)?.text;
  return {
    plan: 'edit',
    edit: { ...base, file: rule.path, index, replace: false, expected },
    reason: {
      code: 'configKey.remediated',
      phrase: `added ${rule.key} "${value}" to ${rule.path} line ${index + 1}`,
    },
  };
}

/** The file's text with the edit made; throws when the file no longer looks as planned. */
export function applyConfigEdit(text: string, edit: ConfigEdit): string {
  const lines = text.split('\n');
  const trailingNewline = lines.at(-1) === '';
  if (trailingNewline) lines.pop();
  const current = lines[edit.index];
  if (edit.expected !== undefined && current !== edit.expected) {
    throw new Error(`${edit.file} changed while it was being remediated; it was left as it is`);
  }
  if (edit.replace) {
    const parsed = current === undefined ? undefined : parseConfigLine(edit.format, current);
    if (
      current === undefined ||
      parsed === undefined ||
      !sameKey(edit.format, parsed.key, edit.key)
    ) {
      throw new Error(`${edit.file} changed while it was being remediated; it was left as it is`);
    }
    lines[edit.index] = rewriteLine(edit.format, current, edit.value);
  } else {
    lines.splice(Math.min(edit.index, lines.length), 0, newLine(edit.format, edit.key, edit.value));
  }
  return `${lines.join('\n')}${trailingNewline || !edit.replace ? '\n' : ''}`;
}

/** The line with its value replaced, keeping the indentation, key spelling and separator. */
export function rewriteLine(format: ConfigFileFormat, line: string, value: string): string {
  const cr = line.endsWith('\r') ? '\r' : '';
  const body = cr === '' ? line : line.slice(0, -1);
  const pattern =
    format === 'sysctl'
      ? /^(\s*-?[^=\s]+\s*=\s*)/
      : format === 'sshd'
        ? /^(\s*\S+?(?:\s*=\s*|\s+))/
        : /^(\s*\S+\s+)/;
  const prefix = pattern.exec(body)?.[1] ?? '';
  return `${prefix}${written(format, value)}${cr}`;
}

function newLine(format: ConfigFileFormat, key: string, value: string): string {
  return format === 'sysctl' ? `${key} = ${value}` : `${key} ${written(format, value)}`;
}

/** sshd reads a value with spaces only when quoted. */
function written(format: ConfigFileFormat, value: string): string {
  return format === 'sshd' && /\s/.test(value) ? `"${value}"` : value;
}

/** The 1-based number of the last line that is not blank (0 when none): appends go after it. */
function lastTextLine(lines: readonly ConfigLine[]): number {
  return lines.reduce((last, l) => (l.text.trim() === '' ? last : Math.max(last, l.line)), 0);
}

function auditOnly(phrase: string): ConfigKeyRemediation {
  return { plan: 'auditOnly', reason: { code: 'configKey.notRemediated', phrase } };
}
