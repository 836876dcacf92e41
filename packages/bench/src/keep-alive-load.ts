// A lean keep-alive TLS load generator shared by the request-rate benchmarks: a number of
// connections, one request in flight on each, responses framed by Content-Length only, so the
// generator costs the server under test and its floor the same and little. Each measurement also
// reads the server's CPU time from /proc/<pid>/stat, since on a shared 2-CPU machine throughput
// alone mixes the server's cost with the generator's and the neighbours'.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { summarize, type Row } from './stats.js';

export const CLOCK_TICKS = Number(
  execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim(),
);

export interface LoadTarget {
  port: number;
  /** The server's process id, whose CPU time is read before and after. */
  pid: number;
}

export interface Measured {
  requests: number;
  /** Responses whose status was not 200. */
  errors: number;
  ms: number;
  /** The server's user + system CPU time over the measurement. */
  cpuMs: number;
  /** The generator's own user + system CPU time over the measurement. */
  clientCpuMs: number;
  latencies: number[];
}

/** A measurement before its first request. */
export function emptyMeasured(): Measured {
  return { requests: 0, errors: 0, ms: 0, cpuMs: 0, clientCpuMs: 0, latencies: [] };
}

/** user + system CPU of a process so far, in milliseconds. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** `connections` keep-alive connections sending `next()` in turn for `ms` milliseconds. */
export async function measure(
  target: LoadTarget,
  ca: Buffer,
  connections: number,
  next: () => Buffer,
  ms: number,
): Promise<Measured> {
  const result = emptyMeasured();
  const cpuBefore = cpuMsOf(target.pid);
  const clientBefore = process.cpuUsage();
  const started = performance.now();
  const end = started + ms;
  await Promise.all(
    Array.from({ length: connections }, () =>
      connection(target.port, ca, end, next, (status, latency) => {
        result.requests++;
        if (status !== 200) result.errors++;
        result.latencies.push(latency);
      }),
    ),
  );
  result.ms = performance.now() - started;
  result.cpuMs = cpuMsOf(target.pid) - cpuBefore;
  const client = process.cpuUsage(clientBefore);
  result.clientCpuMs = (client.user + client.system) / 1000;
  return result;
}

export interface Schedule {
  connections: number;
  warmupMs: number;
  roundMs: number;
  rounds: number;
}

/**
 * Both servers warmed up, then measured in alternating rounds (floor first each time) so that a
 * noisy neighbour weighs on both alike; each side's rounds combined.
 */
export async function compareWithFloor(
  tether: LoadTarget,
  floor: LoadTarget,
  ca: Buffer,
  next: () => Buffer,
  schedule: Schedule,
): Promise<{ tether: Measured; floor: Measured }> {
  const { connections, warmupMs, roundMs, rounds } = schedule;
  await measure(floor, ca, connections, next, warmupMs);
  await measure(tether, ca, connections, next, warmupMs);
  const results = { tether: [] as Measured[], floor: [] as Measured[] };
  for (let round = 0; round < rounds; round++) {
    results.floor.push(await measure(floor, ca, connections, next, roundMs));
    results.tether.push(await measure(tether, ca, connections, next, roundMs));
  }
  return { tether: combine(results.tether), floor: combine(results.floor) };
}

export interface FramedResponse {
  status: number;
  /** Status line and headers, latin1. */
  head: string;
  body: Buffer;
}

/** A header of a framed response's head, or undefined. */
export function headerOf(head: string, name: string): string | undefined {
  const match = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(head);
  return match?.[1];
}

/**
 * Splits an HTTP/1.1 response stream on Content-Length (no chunked bodies: the servers measured
 * here send none); push() returns the responses completed by a chunk.
 */
export class ResponseFramer {
  private buffer: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FramedResponse[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const complete: FramedResponse[] = [];
    for (;;) {
      const headerEnd = this.buffer.indexOf('\r\n\r\n');
      if (headerEnd < 0) return complete;
      const head = this.buffer.subarray(0, headerEnd).toString('latin1');
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      const total = headerEnd + 4 + length;
      if (this.buffer.length < total) return complete;
      complete.push({
        status: Number(head.slice(9, 12)),
        head,
        body: this.buffer.subarray(headerEnd + 4, total),
      });
      this.buffer = this.buffer.subarray(total);
    }
  }
}

export function combine(all: readonly Measured[]): Measured {
  const sum = (pick: (m: Measured) => number): number => all.reduce((s, m) => s + pick(m), 0);
  return {
    requests: sum((m) => m.requests),
    errors: sum((m) => m.errors),
    ms: sum((m) => m.ms),
    cpuMs: sum((m) => m.cpuMs),
    clientCpuMs: sum((m) => m.clientCpuMs),
    latencies: all.flatMap((m) => m.latencies),
  };
}

/** Requests per second. */
export function rate(m: Measured): number {
  return Math.round((m.requests * 1000) / m.ms);
}

/** Latency p50 and p99 of both, for the report. */
export function latencyRows(tether: Measured, floor: Measured): Row[] {
  const t = summarize(tether.latencies);
  const f = summarize(floor.latencies);
  const ms = (n: number): number => Math.round(n * 100) / 100;
  return [
    { metric: 'latency p50', value: ms(t.p50), unit: 'ms', floor: ms(f.p50) },
    { metric: 'latency p99', value: ms(t.p99), unit: 'ms', floor: ms(f.p99) },
  ];
}

/** Server CPU time per request, in microseconds. */
export function cpuPerRequest(m: Measured): number {
  return Math.round((m.cpuMs * 10_000) / m.requests) / 10;
}

function connection(
  port: number,
  ca: Buffer,
  end: number,
  next: () => Buffer,
  done: (status: number, latency: number) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    const framer = new ResponseFramer();
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= end) {
        socket.end();
        resolve();
        return;
      }
      sentAt = performance.now();
      socket.write(next());
    };
    socket.setNoDelay(true);
    socket.once('secureConnect', send);
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      for (const response of framer.push(chunk)) {
        done(response.status, performance.now() - sentAt);
        send();
      }
    });
  });
}
