// Carries out one assignment once: its package from the cache or downloaded from its contentUri,
// verified and loaded (hash, publisher signature, rules) before anything in it is read, then run
// — audit only, or remediating where the assignment type allows. Any refusal becomes a failure
// of that assignment, reported, never a stop of the service.
import type { KeyObject } from 'node:crypto';
import {
  isTetherError,
  type GuestConfiguration,
  type GuestConfigurationGoalAssignment,
  type GuestConfigurationReport,
} from '@tether/protocol';
import { AgentError } from '../../errors.js';
import {
  loadGuestConfigurationPackage,
  type SignedPackage,
} from '../load-guest-configuration-package.js';
import type { GcCache } from './gc-cache.js';
import type { GuestConfigurationApi } from './guest-configuration-api.js';

/**
 * Evaluates (and for ApplyAndAutoCorrect, or ApplyAndMonitor not yet `applied`, first
 * remediates) a configuration.
 */
export type RunConfiguration = (
  configuration: GuestConfiguration,
  assignment: GuestConfigurationGoalAssignment,
  applied: boolean,
) => Promise<GuestConfigurationReport>;

export type AssignmentOutcome =
  | { readonly kind: 'evaluated'; readonly report: GuestConfigurationReport }
  | { readonly kind: 'failed'; readonly code: string; readonly message: string };

export interface AssignmentEvaluatorOptions {
  readonly root: string;
  readonly cache: GcCache;
  readonly api: Pick<GuestConfigurationApi, 'fetchPackage'>;
  readonly trustedKeys: (publisher: string) => readonly KeyObject[];
  readonly run: RunConfiguration;
  readonly log: (line: string) => void;
  /** ApplyAndMonitor: this version of the assignment was applied before (drift is only reported). */
  readonly applied?: boolean;
}

export async function evaluateAssignment(
  assignment: GuestConfigurationGoalAssignment,
  options: AssignmentEvaluatorOptions,
): Promise<AssignmentOutcome> {
  const { cache, log } = options;
  const name = `${assignment.configurationName} ${assignment.version}`;
  let pkg = cache.readPackage(assignment.contentHash);
  const cached = pkg !== undefined;
  if (pkg === undefined) {
    try {
      pkg = await options.api.fetchPackage(assignment);
    } catch (error) {
      return failed(
        new AgentError(
          'ERR_GUEST_CONFIGURATION_DOWNLOAD_FAILED',
          `Cannot download the guest configuration package ${name} for assignment ${assignment.name}: ${(error as Error).message}`,
          { cause: error, target: assignment.name },
        ),
      );
    }
  }
  let configuration: GuestConfiguration;
  try {
    configuration = (await load(pkg, assignment, options)).configuration;
  } catch (error) {
    // A cached copy that no longer verifies is dropped, so the next attempt downloads it again.
    if (cached) cache.dropPackage(assignment.contentHash);
    return failed(error);
  }
  if (!cached) {
    try {
      cache.writePackage(assignment.contentHash, pkg);
    } catch (error) {
      log(`cannot keep the package ${name} on disk: ${(error as Error).message}`);
    }
  }
  try {
    return {
      kind: 'evaluated',
      report: await options.run(configuration, assignment, options.applied ?? false),
    };
  } catch (error) {
    return failed(error);
  }
}

function load(
  pkg: SignedPackage,
  assignment: GuestConfigurationGoalAssignment,
  options: AssignmentEvaluatorOptions,
): ReturnType<typeof loadGuestConfigurationPackage> {
  const publisher = assignment.publisher;
  return loadGuestConfigurationPackage(
    pkg,
    {
      name: assignment.configurationName,
      version: assignment.version,
      contentHash: assignment.contentHash,
    },
    // Only the keys trusted for the publisher the assignment names: a package signed by another
    // trusted publisher is not this assignment's package.
    (signer) => (signer === publisher ? options.trustedKeys(signer) : []),
    options.root,
  );
}

function failed(error: unknown): AssignmentOutcome {
  if (isTetherError(error)) return { kind: 'failed', code: error.code, message: error.message };
  return { kind: 'failed', code: 'ERR_INTERNAL', message: (error as Error).message };
}
