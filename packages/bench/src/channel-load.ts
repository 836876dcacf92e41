// Heartbeats as frames over agent channels (WebSocket over TLS), the load the heartbeat bench and
// its floors share: one channel per machine, opened with that machine's token, and a number of
// frames in flight across them, each channel taken in turn, so every channel carries a frame at a
// time and a machine's rate stays what an agent's could be. The server's CPU time is read from
// /proc/<pid>/stat, as for the HTTP load.
import WebSocket from 'ws';
import { cpuMsOf, emptyMeasured, type LoadTarget, type Measured } from './keep-alive-load.js';

export interface ChannelSpec {
  /** `/subscriptions/…/machines/{m}/agentChannel?api-version=…` */
  path: string;
  token: string;
  /** The heartbeat body (JSON text) this machine sends. */
  body: string;
}

export interface OpenChannel {
  ws: WebSocket;
  /** The heartbeat body (JSON text) its frames carry. */
  body: string;
}

const ANSWER_TIMEOUT_MS = 30_000;

/** Frames answered but not yet waited for: id → callback with the answer's status. */
const waiting = new Map<number, (status: number) => void>();
let nextId = 1;

/** Opens a channel per spec, `parallel` at a time; fails on the first refused. */
export async function openChannels(
  port: number,
  ca: Buffer,
  specs: readonly ChannelSpec[],
  parallel = 64,
): Promise<OpenChannel[]> {
  const opened: OpenChannel[] = new Array<OpenChannel>(specs.length);
  let cursor = 0;
  const worker = async (): Promise<void> => {
    while (cursor < specs.length) {
      const index = cursor++;
      const spec = specs[index] as ChannelSpec;
      opened[index] = { ws: await openOne(port, ca, spec), body: spec.body };
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return opened;
}

function openOne(port: number, ca: Buffer, spec: ChannelSpec): Promise<WebSocket> {
  // Checked against the certificate's name `localhost`, as the HTTP load does (ws passes TLS
  // options such as servername on to tls.connect; its types omit it).
  const options = {
    ca,
    servername: 'localhost',
    headers: { authorization: `Bearer ${spec.token}` },
    perMessageDeflate: false,
    // A handshake the server never finishes fails the benchmark instead of stalling it.
    handshakeTimeout: ANSWER_TIMEOUT_MS,
  } as WebSocket.ClientOptions;
  const ws = new WebSocket(`wss://127.0.0.1:${port}${spec.path}`, options);
  ws.on('message', (data: Buffer) => {
    const text = data.toString('utf8');
    const frame = JSON.parse(text) as { id?: number; status?: number };
    const done = waiting.get(frame.id ?? -1);
    if (done === undefined) return;
    waiting.delete(frame.id ?? -1);
    done(frame.status ?? 0);
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_request, response) =>
      reject(new Error(`channel ${spec.path} refused: ${response.statusCode ?? '?'}`)),
    );
    ws.once('error', reject);
  });
}

export function closeChannels(channels: readonly OpenChannel[]): void {
  for (const { ws } of channels) ws.terminate();
}

/** `inFlight` frames at a time over `channels`, each the next channel's, for `ms` milliseconds. */
export async function measureFrames(
  target: LoadTarget,
  channels: readonly OpenChannel[],
  inFlight: number,
  ms: number,
): Promise<Measured> {
  const result = emptyMeasured();
  let cursor = 0;
  const cpuBefore = cpuMsOf(target.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + ms;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const channel = channels[cursor] as OpenChannel;
      cursor = (cursor + 1) % channels.length;
      const id = nextId++;
      const sentAt = performance.now();
      const status = await new Promise<number>((resolve) => {
        // A channel closed under the load counts its frame as failed rather than hanging.
        const timer = setTimeout(() => {
          waiting.delete(id);
          resolve(0);
        }, ANSWER_TIMEOUT_MS);
        waiting.set(id, (answered) => {
          clearTimeout(timer);
          resolve(answered);
        });
        channel.ws.send(`{"type":"heartbeat","id":${id},"body":${channel.body}}`);
      });
      result.requests++;
      if (status !== 200) result.errors++;
      result.latencies.push(performance.now() - sentAt);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, loop));
  result.ms = performance.now() - started;
  result.cpuMs = cpuMsOf(target.pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  result.clientCpuMs = (client.user + client.system) / 1000;
  return result;
}
