// A control plane stand-in for the guest configuration service: polls wait until the test
// answers or fails them; uploads are recorded (or fail while the test says it is unreachable);
// packages are served from what the test published, counting downloads.
import { createHash, type KeyObject } from 'node:crypto';
import {
  GUEST_CONFIGURATION_SIGNATURE_TYPE,
  type GuestConfigurationGoalAssignment,
  type GuestConfigurationGoalState,
  type GuestConfigurationReportUpload,
} from '@tether/protocol';
import { signPackage } from '@tether/protocol/extension-package';
import type { FetchedPackage } from '../../../extensions/extension-host.js';
import type { ReportResult } from '../../../extensions/service/extension-api.js';
import { buildZip } from '../../../extensions/host/testing/test-fixtures.js';
import type { GuestConfigurationApi } from '../guest-configuration-api.js';

interface Waiting {
  readonly resolve: (state: GuestConfigurationGoalState) => void;
  readonly reject: (error: Error) => void;
}

export class FakeGuestConfigurationApi implements GuestConfigurationApi {
  readonly polls: (number | undefined)[] = [];
  readonly uploads: GuestConfigurationReportUpload[] = [];
  readonly downloads: string[] = [];
  readonly packages = new Map<string, FetchedPackage>();
  /** While set, uploads and downloads fail with it (the control plane cannot be reached). */
  unreachable: string | undefined;
  private waiting: Waiting | undefined;

  goalState(
    _after: number | undefined,
    signal?: AbortSignal,
  ): Promise<GuestConfigurationGoalState> {
    this.polls.push(_after);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      signal?.addEventListener('abort', () => reject(new Error('aborted')));
    });
  }

  get polling(): boolean {
    return this.waiting !== undefined;
  }

  answer(state: GuestConfigurationGoalState): void {
    this.take().resolve(state);
  }

  fail(message: string): void {
    this.take().reject(new Error(message));
  }

  uploadReports(upload: GuestConfigurationReportUpload): Promise<ReportResult> {
    if (this.unreachable !== undefined) return Promise.reject(new Error(this.unreachable));
    this.uploads.push(upload);
    return Promise.resolve('accepted');
  }

  fetchPackage(assignment: GuestConfigurationGoalAssignment): Promise<FetchedPackage> {
    if (this.unreachable !== undefined) return Promise.reject(new Error(this.unreachable));
    this.downloads.push(assignment.contentUri);
    const pkg = this.packages.get(assignment.contentUri);
    return pkg === undefined
      ? Promise.reject(new Error(`404 no package at ${assignment.contentUri}`))
      : Promise.resolve(pkg);
  }

  /** Every report uploaded so far, in order. */
  get reports(): GuestConfigurationReportUpload['reports'][number][] {
    return this.uploads.flatMap((upload) => upload.reports);
  }

  private take(): Waiting {
    const waiting = this.waiting;
    if (waiting === undefined) throw new Error('no poll is waiting');
    this.waiting = undefined;
    return waiting;
  }
}

/** A guest configuration package zip signed as one, and its lower-case SHA-256. */
export async function signedConfiguration(
  configuration: { name: string; version: string; rules: readonly object[] },
  publisher: string,
  key: KeyObject,
): Promise<FetchedPackage & { readonly contentHash: string }> {
  const zip = await buildZip([
    { name: 'configuration.json', content: JSON.stringify(configuration) },
  ]);
  const signature = await signPackage(
    key,
    { publisher, type: configuration.name, version: configuration.version },
    zip,
    GUEST_CONFIGURATION_SIGNATURE_TYPE,
  );
  return { zip, signature, contentHash: createHash('sha256').update(zip).digest('hex') };
}
