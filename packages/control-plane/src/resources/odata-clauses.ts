// Splits an OData `$filter` into its `and`-joined clauses, leaving quoted strings whole (a
// role may be called "Backup and Restore"). Tether's filters accept conjunctions only. One pass
// over the text, and a bounded length: a filter costs time in proportion to its size.
import { ArmError } from '../api/arm-error.js';

/** Far more than any filter a client sends; a longer one is refused before it is read. */
export const MAX_FILTER_LENGTH = 4096;

const AND = /\s+and\s+/iy;
const SPACE = /\s/;

export function andClauses(raw: string): string[] {
  if (raw.length > MAX_FILTER_LENGTH) {
    throw new ArmError(
      'BadRequest',
      `The $filter is ${raw.length} characters long; at most ${MAX_FILTER_LENGTH} are accepted.`,
      { target: '$filter' },
    );
  }
  const clauses: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] ?? '';
    if (c === "'") quoted = !quoted;
    else if (!quoted && SPACE.test(c)) {
      AND.lastIndex = i;
      if (AND.test(raw)) {
        clauses.push(raw.slice(start, i).trim());
        start = AND.lastIndex;
        i = start - 1;
      }
    }
  }
  if (quoted) {
    throw new ArmError('BadRequest', 'The $filter has an unterminated quoted string.', {
      target: '$filter',
    });
  }
  clauses.push(raw.slice(start).trim());
  const empty = clauses.findIndex((c) => c.length === 0);
  if (empty >= 0) {
    throw new ArmError('BadRequest', `The $filter has an empty clause (clause ${empty + 1}).`, {
      target: '$filter',
    });
  }
  return clauses;
}
