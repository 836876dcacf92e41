// Splits an OData `$filter` into its `and`-joined clauses, leaving quoted strings whole (a
// role may be called "Backup and Restore"). Tether's filters accept conjunctions only.
import { ArmError } from '../api/arm-error.js';

export function andClauses(raw: string): string[] {
  const clauses: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? '';
    if (c === "'") quoted = !quoted;
    if (!quoted && /\s/.test(c)) {
      const rest = /^\s+and\s+/i.exec(raw.slice(i));
      if (rest !== null) {
        clauses.push(current.trim());
        current = '';
        i += rest[0].length - 1;
        continue;
      }
    }
    current += c;
  }
  if (quoted) {
    throw new ArmError('BadRequest', 'The $filter has an unterminated quoted string.', {
      target: '$filter',
    });
  }
  clauses.push(current.trim());
  const empty = clauses.findIndex((c) => c.length === 0);
  if (empty >= 0) {
    throw new ArmError('BadRequest', `The $filter has an empty clause (clause ${empty + 1}).`, {
      target: '$filter',
    });
  }
  return clauses;
}
