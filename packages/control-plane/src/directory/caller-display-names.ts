// What people read for a caller the control plane recorded (the activity log's caller, who
// published a package): the name of the principal, or of the machine a machine identity is for.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.js';

/**
 * Display names of `callers` (app ids, user principal names or object ids, as a caller's name
 * records them); a caller the directory no longer holds is left out.
 */
export async function callerDisplayNames(
  db: Kysely<Database>,
  callers: readonly string[],
): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  const wanted = [...new Set(callers)].filter((caller) => caller !== '');
  if (wanted.length === 0) return names;
  const rows = await db
    .selectFrom('principals')
    .leftJoin('machines', 'machines.id', 'principals.machine_id')
    .select([
      'principals.id',
      'principals.app_id',
      'principals.user_principal_name',
      'principals.display_name',
      'machines.name as machine_name',
    ])
    .where((eb) =>
      eb.or([
        eb('principals.app_id', 'in', wanted),
        eb('principals.user_principal_name', 'in', wanted),
        eb('principals.id', 'in', wanted),
      ]),
    )
    .execute();
  for (const row of rows) {
    const name = row.machine_name ?? row.display_name;
    for (const key of [row.app_id, row.user_principal_name, row.id]) {
      if (key !== null && wanted.includes(key)) names.set(key, name);
    }
  }
  return names;
}
