// Operators' extension reads: one extension and a machine's list, each with any operation past
// its deadline failed first, so what they show is never a request that can no longer run.
import type { RouteSpec } from '../api/route-spec.js';
import { nextLinkFor, pageOf, skipTokenOf } from '../resources/arm-paging.js';
import { MACHINE_API_VERSIONS } from '../resources/machine-routes.js';
import { expireOverdueOperations } from './extension-operations.js';
import { EXTENSION_ACTIONS, renderExtension } from './extension-resource.js';
import { findExtension } from './extension-store.js';
import {
  EXTENSION_PATH,
  extensionAt,
  extensionNotFound,
  extensionTargetOf,
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  requireMachine,
  type ExtensionServices,
} from './extension-target.js';

export function extensionReadRoutes(services: ExtensionServices): RouteSpec[] {
  const { db, clock } = services;
  const common = { apiVersions: MACHINE_API_VERSIONS };
  return [
    {
      ...common,
      method: 'GET',
      url: EXTENSION_PATH,
      access: { kind: 'action', action: EXTENSION_ACTIONS.read, scope: extensionAt },
      async handler({ request }) {
        const target = extensionTargetOf(request);
        await expireOverdueOperations(db, clock, { extensionId: target.extensionId });
        const row = await findExtension(db, target.extensionId);
        if (row === undefined) {
          await requireMachine(db, target);
          throw extensionNotFound(target);
        }
        return renderExtension(row, target.machineDisplayId);
      },
    },
    {
      ...common,
      method: 'GET',
      url: `${MACHINE_PATH}/extensions`,
      // Listing reads the machine's extensions: the same action, at the machine.
      access: { kind: 'action', action: EXTENSION_ACTIONS.read, scope: machineAt },
      async handler({ request }) {
        const target = machineTargetOf(request);
        await requireMachine(db, target);
        await expireOverdueOperations(db, clock, { machineId: target.machineId });
        const after = skipTokenOf(request);
        let query = db
          .selectFrom('machine_extensions')
          .selectAll()
          .where('machine_id', '=', target.machineId);
        if (after !== undefined) query = query.where('id', '>', after);
        const rows = await query
          .orderBy('id')
          .limit(services.pageSize + 1)
          .execute();
        return pageOf(
          rows,
          services.pageSize,
          (row) => row.id,
          (row) => renderExtension(row, target.machineDisplayId),
          (token) => nextLinkFor(services.publicUrl, request, token),
        );
      },
    },
  ];
}
