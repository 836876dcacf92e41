// A heartbeat frame as agents write it (JSON.stringify of {type, id, body}) split without reading
// the body: its id and the body's text. A channel whose agent sends the same body text as its
// last heartbeat stores that heartbeat's reading again; any other body is read in full.
import secureJson from 'secure-json-parse';

/** As the router's JSON parser: prototype-poisoning keys are refused. */
export const PARSE_OPTIONS = { protoAction: 'error', constructorAction: 'error' } as const;

/** The envelope in the order and spelling JSON.stringify gives it; an id is a safe integer. */
const ENVELOPE = /^\{"type":"heartbeat","id":(0|[1-9]\d{0,14}),"body":/;

export interface HeartbeatFrameText {
  readonly id: number;
  /** The body's JSON text, exactly as it came. */
  readonly body: string;
}

/**
 * The id and body text of `{"type":"heartbeat","id":N,"body":…}`; undefined for any other
 * spelling (other key order, white space, more keys), which the caller reads in full. The body
 * text is only what lies between the envelope and the last `}`: whether it is the body (one
 * JSON value, not `{…},"body":{…}`) is for `parseFrameBody` to say.
 */
export function splitHeartbeatFrame(text: string): HeartbeatFrameText | undefined {
  if (text.charCodeAt(text.length - 1) !== 0x7d) return undefined;
  const envelope = ENVELOPE.exec(text);
  if (envelope === null) return undefined;
  return { id: Number(envelope[1]), body: text.slice(envelope[0].length, -1) };
}

/**
 * The body text parsed alone; undefined when it is not one JSON value (or has a refused key),
 * and the caller reads the whole frame instead. When it is one value, the frame is exactly
 * `{type: 'heartbeat', id, body}`: no other key can hide in it.
 */
export function parseFrameBody(text: string): { value: unknown } | undefined {
  try {
    return { value: secureJson.parse(text, undefined, PARSE_OPTIONS) as unknown };
  } catch {
    return undefined;
  }
}
