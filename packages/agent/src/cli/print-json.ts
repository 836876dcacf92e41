// JSON output for `--json`: one compact document per command on stdout.
import type { CommandContext } from './command-module.js';

export function printJson(context: CommandContext, value: unknown): void {
  context.out.stdout(`${JSON.stringify(value)}\n`);
}
