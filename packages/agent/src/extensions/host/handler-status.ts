// Reads what a handler reported in status/<seq>.status (SPEC §4). A missing, unreadable or
// malformed file is "no status": the command's exit code then decides.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface HandlerStatus {
  readonly status: 'transitioning' | 'error' | 'success' | 'warning';
  readonly code: string;
  readonly message: string;
  readonly operation: string;
}

const STATES = ['transitioning', 'error', 'success', 'warning'] as const;
const MAX_BYTES = 1024 * 1024;

export function readHandlerStatus(
  statusFolder: string,
  sequence: number,
): HandlerStatus | undefined {
  let text: string;
  try {
    text = readFileSync(join(statusFolder, `${sequence}.status`), 'utf8');
  } catch {
    return undefined;
  }
  return parseHandlerStatus(text);
}

/** The status file's text as a status; anything malformed is undefined, never an error. */
export function parseHandlerStatus(text: string): HandlerStatus | undefined {
  if (text.length > MAX_BYTES) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    return undefined;
  }
  const first: unknown = Array.isArray(json) ? json[0] : json;
  const status = record(record(first)?.status);
  if (status === undefined) return undefined;
  const state = typeof status.status === 'string' ? status.status.toLowerCase() : '';
  const known = STATES.find((candidate) => candidate === state);
  if (known === undefined) return undefined;
  const formatted = record(status.formattedMessage);
  const message = typeof formatted?.message === 'string' ? formatted.message : '';
  const code =
    typeof status.code === 'number' || typeof status.code === 'string' ? String(status.code) : '0';
  const operation = typeof status.operation === 'string' ? status.operation : '';
  return { status: known, code, message, operation };
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
