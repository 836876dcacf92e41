// The machine count of an onboarding token, enforced in the transaction that creates the
// machine: two agents racing for the last slot cannot both get it.
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import { ArmError } from '../api/arm-error.js';
import type { Database } from '../store/schema.js';

/** Takes one machine from `principalId`'s onboarding token, if it has one; refuses when spent. */
export async function consumeOnboardingQuota(
  trx: Kysely<Database>,
  principalId: string,
  now: number,
): Promise<void> {
  const token = await trx
    .selectFrom('onboarding_tokens')
    .selectAll()
    .where('principal_id', '=', principalId)
    .executeTakeFirst();
  if (token === undefined) return;
  const taken = await trx
    .updateTable('onboarding_tokens')
    .set({ machines_created: sql<number>`machines_created + 1` })
    .where('principal_id', '=', principalId)
    .where((eb) => eb('machines_created', '<', eb.ref('max_machines')))
    .where('expires_at', '>', new Date(now).toISOString())
    .executeTakeFirst();
  if (taken.numUpdatedRows === 0n) {
    throw new ArmError(
      'Conflict',
      Date.parse(token.expires_at) <= now
        ? `The onboarding token expired at ${token.expires_at}; create a new one with 'tether onboarding-token create'.`
        : `The onboarding token has already created its ${token.max_machines} machine(s); create a new one with 'tether onboarding-token create' for more.`,
    );
  }
}
