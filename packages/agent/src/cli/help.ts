// `--help` text for azcmagent, each command group and each command, built from the registry
// and the commands' own specs so help can never drift from what is accepted.
import type { CommandEntry, CommandSpec, FlagSpec } from './command-module.js';
import { COMMON_FLAGS } from './parse-invocation.js';

export function formatHelp(
  path: readonly string[],
  entry: CommandEntry,
  spec: CommandSpec | undefined,
): string {
  const command = ['azcmagent', ...path].join(' ');
  const lines: string[] = [];
  if (spec === undefined) {
    lines.push(
      path.length === 0
        ? 'azcmagent manages the Tether connected machine agent on this server.'
        : entry.summary,
      '',
      'Usage:',
      `  ${command} <command> [flags]`,
      '',
      'Commands:',
      ...table((entry.subcommands ?? []).map((c) => [c.name, c.summary])),
    );
  } else {
    lines.push(spec.summary, '', 'Usage:', `  azcmagent ${spec.usage} [flags]`);
    if (spec.details !== undefined) lines.push('', ...spec.details.split('\n'));
    if (spec.examples !== undefined && spec.examples.length > 0) {
      lines.push('', 'Examples:', ...spec.examples.map((example) => `  ${example}`));
    }
    if (spec.flags.length > 0) lines.push('', 'Flags:', ...flagTable(spec.flags));
  }
  lines.push('', 'Common flags:', ...flagTable(COMMON_FLAGS));
  if (spec === undefined)
    lines.push('', `Run '${command} <command> --help' for more about a command.`);
  return `${lines.join('\n')}\n`;
}

function flagTable(flags: readonly FlagSpec[]): string[] {
  return table(
    flags.map((flag) => {
      const names = `${flag.short === undefined ? '    ' : `-${flag.short}, `}--${flag.long}`;
      return [
        flag.valueName === undefined ? names : `${names} <${flag.valueName}>`,
        flag.description,
      ];
    }),
  );
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(0, ...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
