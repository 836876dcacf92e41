// Validates a guest configuration once, when its package is loaded: every field of every rule is
// checked, unknown fields are errors, and no rule may name the agent's own folders.
import { posix } from 'node:path';
import { PACKAGE_VERSION_PATTERN } from './extension-package.js';
import {
  agentFolderOf,
  AGENT_FOLDERS,
  type GuestConfiguration,
  type GuestConfigurationRule,
  type RuleKind,
  type ValueExpectation,
} from './guest-configuration.js';
import { TetherError } from './tether-error.js';

export type GuestConfigurationErrorCode = 'ERR_GUEST_CONFIGURATION_INVALID';

type Fields = Readonly<Record<string, unknown>>;

/** Fields each kind allows besides id, title and kind; `?` marks optional ones. */
const KIND_FIELDS: { readonly [K in RuleKind]: readonly string[] } = {
  file: ['path', 'present?', 'owner?', 'group?', 'mode?', 'maxMode?'],
  configKey: ['path', 'format', 'key', 'expect', 'default?', 'remediateTo?'],
  kernelParameter: ['name', 'expect'],
  package: ['names', 'installed'],
  accounts: ['check'],
  systemdUnit: ['unit', 'enabled'],
  command: ['command', 'timeoutSeconds?', 'compliantExitCodes?'],
};

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;
const RULE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ACCOUNT_PATTERN = /^(?:[a-z_][a-z0-9_-]{0,31}\$?|\d{1,10})$/;
const MODE_PATTERN = /^0?[0-7]{3,4}$/;
const MAX_RULES = 500;

/** Throws ERR_GUEST_CONFIGURATION_INVALID naming the configuration, rule and field. */
export function parseGuestConfiguration(value: unknown): GuestConfiguration {
  const top = record(value, () => fail('The guest configuration', 'is not a JSON object'));
  const where =
    typeof top.name === 'string' ? `Guest configuration "${top.name}"` : 'The guest configuration';
  onlyFields(top, ['name', 'version', 'rules'], where);
  const name = text(top.name, () => fail(where, 'has no "name" string'));
  if (!NAME_PATTERN.test(name)) {
    fail(where, 'has a name that is not 1-100 letters, digits, ".", "_" or "-"');
  }
  const version = text(top.version, () => fail(where, 'has no "version" string'));
  if (!PACKAGE_VERSION_PATTERN.test(version)) {
    fail(where, `has version "${version}"; expected dotted numbers like 1.0.0`);
  }
  if (!Array.isArray(top.rules) || top.rules.length === 0 || top.rules.length > MAX_RULES) {
    fail(where, `needs "rules": a list of 1 to ${MAX_RULES} rules`);
  }
  const seen = new Set<string>();
  const rules = (top.rules as unknown[]).map((raw, index) => {
    const rule = parseRule(raw, where, index);
    if (seen.has(rule.id))
      fail(`${where} rule "${rule.id}"`, 'repeats an id used by an earlier rule');
    seen.add(rule.id);
    return rule;
  });
  return deepFreeze({ name, version, rules });
}

function parseRule(raw: unknown, configuration: string, index: number): GuestConfigurationRule {
  const position = `${configuration} rules[${index}]`;
  const r = record(raw, () => fail(position, 'is not a JSON object'));
  const id = text(r.id, () => fail(position, 'has no "id" string'));
  if (!RULE_ID_PATTERN.test(id)) {
    fail(position, `has id "${id}"; expected letters, digits, ".", "_" or "-" (like 5.2.1)`);
  }
  const where = `${configuration} rule "${id}"`;
  const kind = r.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(KIND_FIELDS, kind)) {
    fail(
      where,
      `has kind ${JSON.stringify(kind)}; expected one of ${Object.keys(KIND_FIELDS).join(', ')}`,
    );
  }
  const known = KIND_FIELDS[kind as RuleKind];
  onlyFields(r, ['id', 'title', 'kind', ...known.map((f) => f.replace('?', ''))], where);
  for (const field of known) {
    if (!field.endsWith('?') && r[field] === undefined) fail(where, `needs the field "${field}"`);
  }
  const title = text(r.title, () => fail(where, 'needs a "title" string'));
  if (title.trim() === '' || title.length > 300)
    fail(where, 'needs a title of 1 to 300 characters');
  const base = { id, title };
  const field = (name: string): string => `${where} field "${name}"`;
  switch (kind as RuleKind) {
    case 'file':
      return {
        ...base,
        kind: 'file',
        path: safePath(r.path, field('path')),
        ...optional('present', r.present, (v) => bool(v, field('present'))),
        ...optional('owner', r.owner, (v) => account(v, field('owner'))),
        ...optional('group', r.group, (v) => account(v, field('group'))),
        ...optional('mode', r.mode, (v) => mode(v, field('mode'))),
        ...optional('maxMode', r.maxMode, (v) => mode(v, field('maxMode'))),
      };
    case 'configKey': {
      const format = r.format;
      if (format !== 'sshd' && format !== 'loginDefs' && format !== 'sysctl') {
        fail(field('format'), `is ${JSON.stringify(format)}; expected sshd, loginDefs or sysctl`);
      }
      const key = text(r.key, () => fail(field('key'), 'is not a string'));
      if (!/^[A-Za-z0-9_./-]{1,100}$/.test(key)) {
        fail(field('key'), `is "${key}"; expected a setting name without spaces`);
      }
      return {
        ...base,
        kind: 'configKey',
        path: safePath(r.path, field('path')),
        format,
        key,
        expect: expectation(r.expect, field('expect')),
        ...optional('default', r.default, (v) => value(v, field('default'))),
        ...optional('remediateTo', r.remediateTo, (v) => value(v, field('remediateTo'))),
      };
    }
    case 'kernelParameter': {
      const name = text(r.name, () => fail(field('name'), 'is not a string'));
      if (!/^[a-z0-9_]+(?:\.[A-Za-z0-9_-]+)+$/.test(name)) {
        fail(
          field('name'),
          `is "${name}"; expected a dotted sysctl name like net.ipv4.tcp_syncookies`,
        );
      }
      return {
        ...base,
        kind: 'kernelParameter',
        name,
        expect: expectation(r.expect, field('expect')),
      };
    }
    case 'package': {
      const names = list(r.names, field('names')).map((n) => {
        if (typeof n !== 'string' || !/^[a-z0-9][a-z0-9+.-]{1,99}$/.test(n)) {
          fail(field('names'), `contains ${JSON.stringify(n)}, which is not a Debian package name`);
        }
        return n;
      });
      if (names.length === 0) fail(field('names'), 'is empty; name at least one package');
      return { ...base, kind: 'package', names, installed: bool(r.installed, field('installed')) };
    }
    case 'accounts': {
      const check = r.check;
      if (
        check !== 'onlyRootUid0' &&
        check !== 'noEmptyPasswords' &&
        check !== 'passwordHashSha512'
      ) {
        fail(
          field('check'),
          `is ${JSON.stringify(check)}; expected onlyRootUid0, noEmptyPasswords or passwordHashSha512`,
        );
      }
      return { ...base, kind: 'accounts', check };
    }
    case 'systemdUnit': {
      const unit = text(r.unit, () => fail(field('unit'), 'is not a string'));
      if (!/^[A-Za-z0-9:_.\\@-]{1,200}\.(?:service|socket|timer|target|path|mount)$/.test(unit)) {
        fail(field('unit'), `is "${unit}"; expected a unit name like ssh.service`);
      }
      return { ...base, kind: 'systemdUnit', unit, enabled: bool(r.enabled, field('enabled')) };
    }
    case 'command':
      return {
        ...base,
        kind: 'command',
        command: command(r.command, field('command')),
        timeoutSeconds:
          r.timeoutSeconds === undefined
            ? 60
            : integer(r.timeoutSeconds, 1, 600, field('timeoutSeconds')),
        compliantExitCodes:
          r.compliantExitCodes === undefined
            ? [0]
            : list(r.compliantExitCodes, field('compliantExitCodes')).map((c) =>
                integer(c, 0, 255, field('compliantExitCodes')),
              ),
      };
  }
}

function safePath(v: unknown, where: string): string {
  const path = text(v, () => fail(where, 'is not a string'));
  if (!path.startsWith('/') || path.includes('\0') || path.length > 1024) {
    fail(where, `is "${path}"; expected an absolute path such as /etc/ssh/sshd_config`);
  }
  const normal = posix.normalize(path);
  const folder = agentFolderOf(normal.replace(/\/+$/, '') || '/');
  if (folder !== undefined || normal === '/') {
    fail(
      where,
      `is "${path}", ${normal === '/' ? 'the whole file system' : `under the agent's folder ${folder}`}: guest configuration may not touch ${AGENT_FOLDERS.join(', ')}`,
    );
  }
  return normal;
}

function command(v: unknown, where: string): string[] {
  const argv = list(v, where);
  if (argv.length === 0) fail(where, 'is empty; expected [program, arguments...]');
  const strings = argv.map((a) => text(a, () => fail(where, 'must hold only strings')));
  if (!strings[0]?.startsWith('/'))
    fail(where, `starts with "${strings[0]}"; the program must be an absolute path`);
  for (const arg of strings) {
    // Case-folded: a file system or a shell glob may reach the same folder in other casing.
    const normal = posix.normalize(arg).toLowerCase();
    const folder = AGENT_FOLDERS.find((f) => normal.includes(f.toLowerCase()));
    if (/azcmagent|waagent|guestconfig/i.test(arg) || folder !== undefined) {
      fail(where, `names "${arg}": a command may not name azcmagent or the agent's folders`);
    }
  }
  return strings;
}

function expectation(v: unknown, where: string): ValueExpectation {
  const e = record(v, () => fail(where, 'is not an object like {"equals": "no"}'));
  const keys = Object.keys(e);
  if (keys.length !== 1) {
    fail(where, 'needs exactly one of equals, oneOf, atMost, atLeast, matches');
  }
  const only = keys[0] ?? '';
  switch (only) {
    case 'equals':
      return { equals: value(e.equals, `${where}.equals`) };
    case 'oneOf': {
      const values = list(e.oneOf, `${where}.oneOf`).map((x) => value(x, `${where}.oneOf`));
      if (values.length === 0) fail(`${where}.oneOf`, 'is empty');
      return { oneOf: values };
    }
    case 'atMost':
    case 'atLeast': {
      const n = e[only];
      if (typeof n !== 'number' || !Number.isFinite(n)) fail(`${where}.${only}`, 'is not a number');
      return only === 'atMost' ? { atMost: n } : { atLeast: n };
    }
    case 'matches': {
      const pattern = text(e.matches, () => fail(`${where}.matches`, 'is not a string'));
      try {
        new RegExp(pattern);
      } catch {
        fail(`${where}.matches`, `is /${pattern}/, which is not a valid regular expression`);
      }
      return { matches: pattern };
    }
    default:
      return fail(where, `has "${only}"; expected one of equals, oneOf, atMost, atLeast, matches`);
  }
}

function mode(v: unknown, where: string): string {
  const m = text(v, () => fail(where, 'is not a string; expected an octal mode like "0600"'));
  if (!MODE_PATTERN.test(m)) fail(where, `is "${m}"; expected an octal mode like "0600"`);
  return m.padStart(4, '0');
}

function account(v: unknown, where: string): string {
  const a = text(v, () => fail(where, 'is not a string'));
  if (!ACCOUNT_PATTERN.test(a)) fail(where, `is "${a}"; expected a user or group name or a number`);
  return a;
}

function value(v: unknown, where: string): string {
  const s = text(v, () => fail(where, 'is not a string'));
  if (/[\r\n]/.test(s) || s.length > 1000)
    fail(where, 'must be one line of at most 1000 characters');
  return s;
}

function bool(v: unknown, where: string): boolean {
  if (typeof v !== 'boolean') fail(where, `is ${JSON.stringify(v)}; expected true or false`);
  return v;
}

function integer(v: unknown, min: number, max: number, where: string): number {
  if (!Number.isInteger(v) || (v as number) < min || (v as number) > max) {
    fail(where, `is ${JSON.stringify(v)}; expected a whole number from ${min} to ${max}`);
  }
  return v as number;
}

function list(v: unknown, where: string): unknown[] {
  if (!Array.isArray(v)) fail(where, 'is not a list');
  return v as unknown[];
}

function optional<K extends string, T>(
  key: K,
  v: unknown,
  parse: (v: unknown) => T,
): { [P in K]?: T } {
  return (v === undefined ? {} : { [key]: parse(v) }) as { [P in K]?: T };
}

function onlyFields(r: Fields, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(r).find((k) => !allowed.includes(k));
  if (unknown !== undefined) {
    fail(where, `has the unknown field "${unknown}"; allowed: ${allowed.join(', ')}`);
  }
}

function record(v: unknown, orElse: () => never): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return orElse();
  return v as Fields;
}

function text(v: unknown, orElse: () => never): string {
  return typeof v === 'string' ? v : orElse();
}

function fail(where: string, why: string): never {
  throw new TetherError<GuestConfigurationErrorCode>(
    'ERR_GUEST_CONFIGURATION_INVALID',
    `${where} ${why}.`,
    { target: where },
  );
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(deepFreeze);
    Object.freeze(value);
  }
  return value;
}
