// Azure RBAC action patterns ('Microsoft.HybridCompute/machines/*', '*/read'): `*` stands
// for any run of characters, '/' included, and matching ignores case.
import { RbacError } from './rbac-error.js';

const MAX_PATTERN_LENGTH = 512;
const FORBIDDEN_CHARACTERS = /[\s\p{Cc}]/u;

export interface ActionPattern {
  /** The pattern as written in the role definition. */
  readonly source: string;
  /** `action` must already be lower case. */
  matches(action: string): boolean;
}

/**
 * Compiles a pattern into a matcher. No regular expression is built: the pattern is cut
 * at each `*` and the literal pieces are found in order, so nothing in a custom role can
 * inject regex syntax or make matching backtrack.
 */
export function compileActionPattern(source: string): ActionPattern {
  if (typeof source !== 'string' || source.length === 0) {
    throw new RbacError(
      'ERR_INVALID_ACTION_PATTERN',
      'an action pattern is empty; write e.g. "Microsoft.HybridCompute/machines/read" or "*/read"',
      {
        target: 'permissions',
      },
    );
  }
  if (source.length > MAX_PATTERN_LENGTH || FORBIDDEN_CHARACTERS.test(source)) {
    throw new RbacError(
      'ERR_INVALID_ACTION_PATTERN',
      `action pattern ${JSON.stringify(source.slice(0, 80))} is not valid: it must be at most ${MAX_PATTERN_LENGTH} characters without whitespace or control characters`,
      { target: 'permissions' },
    );
  }
  const pieces = source.toLowerCase().split('*');
  if (pieces.length === 1) {
    const literal = pieces[0] ?? '';
    return { source, matches: (action) => action === literal };
  }
  if (pieces.every((p) => p.length === 0)) return { source, matches: () => true };
  return { source, matches: (action) => matchPieces(pieces, action) };
}

/** `pieces` is the pattern split at `*`, so there is a wildcard between each two. */
function matchPieces(pieces: readonly string[], action: string): boolean {
  const head = pieces[0] ?? '';
  const tail = pieces[pieces.length - 1] ?? '';
  if (action.length < head.length + tail.length) return false;
  if (!action.startsWith(head) || !action.endsWith(tail)) return false;
  // Taking the leftmost occurrence of each middle piece is always right for `*`-only
  // patterns: an earlier match leaves at least as much room for what follows.
  let at = head.length;
  const limit = action.length - tail.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] ?? '';
    const found = action.indexOf(piece, at);
    if (found < 0 || found + piece.length > limit) return false;
    at = found + piece.length;
  }
  return true;
}
