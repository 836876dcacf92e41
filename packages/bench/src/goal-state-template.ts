// How the extension-push floor answers a goal-state request with Tether's own bytes for each
// machine: the sample machine's captured answer, cut where its extensions go, joined again with
// one entry per extension the machine was given (the sample's entry with their name and
// operation id) and the machine's generation.
import type { GoalStateAnswer } from './long-poll-fleet.js';

/**
 * A captured goal state cut where its extensions go, so that the floor can answer with each
 * machine's own extensions (one entry each, the sample's bytes with their name and operation id)
 * and generation, at the cost of joining strings.
 */
export interface GoalStateTemplate {
  readonly head: string;
  readonly entry: string;
  readonly tail: string;
}

export function goalStateTemplate(text: string, extension: string): GoalStateTemplate {
  const parsed = JSON.parse(text) as GoalStateAnswer;
  if (JSON.stringify(parsed) !== text) throw new Error(`not compact JSON: ${text}`);
  const entry = parsed.extensions.find((e) => e.name === extension);
  if (entry === undefined || parsed.extensions.length !== 1) {
    throw new Error(`the goal state does not carry ${extension} alone: ${text}`);
  }
  const parts = JSON.stringify({ ...parsed, extensions: [] }).split('"extensions":[]');
  if (parts.length !== 2) throw new Error(`the goal state has no one extensions list: ${text}`);
  return {
    head: `${parts[0] ?? ''}"extensions":[`,
    entry: JSON.stringify(entry),
    tail: `]${parts[1] ?? ''}`,
  };
}

/** The template's goal state at `generation` carrying `operations` (extension → operation id). */
export function goalStateText(
  template: GoalStateTemplate,
  sample: { extension: string; operationId: string },
  generation: number,
  operations: ReadonlyMap<string, string>,
): string {
  const entries: string[] = [];
  for (const [extension, id] of operations) {
    entries.push(
      template.entry
        .split(sample.operationId)
        .join(id)
        .split(`"${sample.extension}"`)
        .join(`"${extension}"`),
    );
  }
  const at = (piece: string): string =>
    piece.replace(/"generation":\d+/, `"generation":${generation}`);
  return `${at(template.head)}${entries.join(',')}${at(template.tail)}`;
}
