// The local-administrator gate (S5): commands that change the agent's settings run only with
// effective uid 0, and say so plainly, with the exact command to rerun under sudo.
import { AgentError } from '../errors.js';

/** `euid` is null where the platform has no uids; such a platform is refused. */
export function requireRoot(
  command: readonly string[],
  euid: number | null = process.geteuid?.() ?? null,
): void {
  if (euid === 0) return;
  const rerun = ['sudo', 'azcmagent', ...command.map(shellQuote)].join(' ');
  throw new AgentError(
    'ERR_NOT_ROOT',
    `'azcmagent ${command.slice(0, 2).join(' ')}' changes the agent's local security settings, which only root may do ` +
      `(this process runs as uid ${euid ?? 'unknown'}). Nothing was changed. Run it as root: ${rerun}`,
  );
}

function shellQuote(word: string): string {
  return /^[A-Za-z0-9._/:=,@+-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
