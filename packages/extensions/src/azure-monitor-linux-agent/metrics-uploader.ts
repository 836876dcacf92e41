// Holds samples until the control plane has them: each flush sends everything unsent, so an
// outage loses nothing but the oldest samples beyond the bound.
import { httpRequest } from '../handler-kit/http-request.js';
import type { HimdsTokenClient } from './himds-token-client.js';
import type { MetricSample } from '@tether/protocol';

/** A day of one-minute samples; also the most the control plane takes in one post. */
export const MAX_BUFFERED_SAMPLES = 1440;

export type FlushOutcome =
  | { kind: 'sent'; count: number }
  | { kind: 'kept'; count: number; reason: string }
  | { kind: 'dropped'; count: number; reason: string };

export class MetricsUploader {
  private buffer: MetricSample[] = [];

  constructor(
    private readonly url: URL,
    private readonly tokens: HimdsTokenClient,
    private readonly maxBuffered = MAX_BUFFERED_SAMPLES,
  ) {}

  /** `TETHER_ENDPOINT` + `TETHER_RESOURCE_ID` + the metrics provider path. */
  static urlFor(endpoint: string, resourceId: string): URL {
    const base = endpoint.replace(/\/+$/, '');
    return new URL(
      `${base}${resourceId}/providers/Microsoft.Insights/metrics?api-version=2024-07-10`,
    );
  }

  get pending(): number {
    return this.buffer.length;
  }

  add(sample: MetricSample): void {
    this.buffer.push(sample);
    if (this.buffer.length > this.maxBuffered) {
      this.buffer.splice(0, this.buffer.length - this.maxBuffered);
    }
  }

  async flush(signal?: AbortSignal): Promise<FlushOutcome> {
    const batch = this.buffer.slice();
    if (batch.length === 0) return { kind: 'sent', count: 0 };
    let status: number;
    let body: string;
    try {
      const token = await this.tokens.token(signal);
      ({ status, body } = await httpRequest(this.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ samples: batch }),
        ...(signal === undefined ? {} : { signal }),
      }));
    } catch (error) {
      return { kind: 'kept', count: batch.length, reason: (error as Error).message };
    }
    if (status >= 200 && status < 300) {
      this.buffer.splice(0, batch.length);
      return { kind: 'sent', count: batch.length };
    }
    if (status === 401) this.tokens.invalidate();
    if (status === 400) {
      // The control plane will refuse these every time: keeping them would block all later ones.
      this.buffer.splice(0, batch.length);
      return { kind: 'dropped', count: batch.length, reason: `HTTP 400 ${body.slice(0, 300)}` };
    }
    return { kind: 'kept', count: batch.length, reason: `HTTP ${status} ${body.slice(0, 300)}` };
  }
}
