// A control plane stand-in for the extension service: goal states and failures are queued by
// the test; status reports are recorded and answered as the test says.
import type { PackageIdentity } from '@tether/protocol/extension-package';
import type { FetchedPackage } from '../../extension-host.js';
import type { ExtensionApi, ReportResult } from '../extension-api.js';
import type { GoalState } from '../goal-state.js';
import type { StatusReport } from '../status-report.js';

interface Waiting {
  readonly after: number | undefined;
  readonly resolve: (state: GoalState) => void;
  readonly reject: (error: Error) => void;
}

export class FakeExtensionApi implements ExtensionApi {
  /** Every `after` the service asked with. */
  readonly polls: (number | undefined)[] = [];
  readonly reports: StatusReport[] = [];
  /** Answers for the next reports, in order; 'accepted' once empty. */
  readonly reportAnswers: (ReportResult | Error)[] = [];
  private waiting: Waiting | undefined;
  aborted = 0;

  /** Polls wait until the test answers them with `answer` or `fail`. */
  goalState(after: number | undefined, signal?: AbortSignal): Promise<GoalState> {
    this.polls.push(after);
    return new Promise((resolve, reject) => {
      this.waiting = { after, resolve, reject };
      signal?.addEventListener('abort', () => {
        this.aborted += 1;
        reject(new Error('aborted'));
      });
    });
  }

  get polling(): boolean {
    return this.waiting !== undefined;
  }

  answer(state: GoalState): void {
    const waiting = this.take();
    waiting.resolve(state);
  }

  fail(message: string | Error): void {
    this.take().reject(typeof message === 'string' ? new Error(message) : message);
  }

  reportStatus(report: StatusReport): Promise<ReportResult> {
    this.reports.push(report);
    const next = this.reportAnswers.shift() ?? 'accepted';
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
  }

  fetchPackage(identity: PackageIdentity): Promise<FetchedPackage> {
    return Promise.reject(new Error(`no package ${identity.publisher}.${identity.type}`));
  }

  private take(): Waiting {
    const waiting = this.waiting;
    if (waiting === undefined) throw new Error('no poll is waiting');
    this.waiting = undefined;
    return waiting;
  }
}
