// `azcmagent extension list [--json]`: root only, like the handler folders themselves — the last
// status of an extension carries the tail of its handler's output. What the extension host has
// installed on this server, from var/opt/azcmagent/extensions/state.json alone (connected or not).
import { AgentError } from '../errors.js';
import type { InstalledExtension } from '../extensions/extension-host.js';
import { readExtensionState } from '../extensions/host/extension-state.js';
import type { CommandContext, CommandSpec } from './command-module.js';

export const spec: CommandSpec = {
  usage: 'extension list',
  summary: 'List the extensions installed on this server, their state and last status.',
  details:
    'Reads var/opt/azcmagent/extensions/state.json; works without a control plane. An extension\nremoved locally with \'azcmagent extension remove\' is listed as "removed locally" until the\nextension service has reported the removal to the control plane.',
  flags: [],
  positionals: { min: 0, max: 0 },
  examples: ['azcmagent extension list', 'azcmagent extension list --json'],
};

export function run(context: CommandContext): number {
  if (process.geteuid?.() !== 0) {
    throw new AgentError(
      'ERR_NOT_ROOT',
      `'azcmagent extension list' shows the extensions' last status, which carries their handlers' output that only root may read (this process runs as uid ${process.geteuid?.() ?? 'unknown'}). Run it as root: sudo azcmagent extension list`,
    );
  }
  const records = Object.values(readExtensionState(context.paths())).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  if (context.json) {
    context.printJson(records);
    return 0;
  }
  if (records.length === 0) {
    context.out.stdout('No extensions are installed.\n');
    return 0;
  }
  const rows = [
    ['NAME', 'PUBLISHER/TYPE', 'VERSION', 'STATE', 'STATUS'],
    ...records.map((record) => [
      record.name,
      `${record.publisher}/${record.type}`,
      record.version,
      stateLabel(record),
      record.status.message.replace(/\s+/g, ' '),
    ]),
  ];
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  for (const row of rows) {
    const line = row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
    context.out.stdout(`${line.trimEnd()}\n`);
  }
  return 0;
}

function stateLabel(record: InstalledExtension): string {
  return record.removedLocallyAt === undefined ? record.state : 'removed locally';
}
