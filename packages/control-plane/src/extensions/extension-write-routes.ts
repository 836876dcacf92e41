// Operators' extension writes: PUT (create or replace), PATCH, DELETE and upgradeExtensions.
// Each answers at once with the operation to poll; the machine's agent carries it out.
import type { Selectable } from 'kysely';
import { invalidContent } from '../resources/arm-request.js';
import { bodyObject } from '../resources/arm-request.js';
import type { RouteContext, RouteSpec } from '../api/route-spec.js';
import { MACHINE_API_VERSIONS } from '../resources/machine-routes.js';
import { extensionView } from '../policy/index.js';
import { PolicyService } from '../policy-service/policy-service.js';
import type { MachinesTable } from '../store/schema.js';
import {
  announceOperation,
  applyChanges,
  refuseIfBusy,
  sealFor,
  type ExtensionChange,
} from './extension-changes.js';
import { parseExtensionPatch, parseExtensionPut, parseUpgradeTargets } from './extension-input.js';
import { expireOverdueOperations, operationUrls } from './extension-operations.js';
import { EXTENSION_ACTIONS, renderExtension, type ExtensionRow } from './extension-resource.js';
import { findExtension, type OperationRow } from './extension-store.js';
import {
  apiVersionOf,
  EXTENSION_PATH,
  extensionAt,
  extensionNotFound,
  extensionTargetOf,
  MACHINE_PATH,
  machineAt,
  machineTargetOf,
  requireMachine,
  type ExtensionServices,
  type MachineTarget,
} from './extension-target.js';
import { resolvePackageVersion } from './extension-versions.js';

export function extensionWriteRoutes(services: ExtensionServices): RouteSpec[] {
  const { db, clock, waiters } = services;
  const common = { apiVersions: MACHINE_API_VERSIONS };
  const policy = new PolicyService(db, clock);

  /**
   * Stores the changes (with the request's activity-log record: the answer's status is set
   * first), wakes the machine's poll and announces the first operation.
   */
  async function commit(
    context: RouteContext,
    target: MachineTarget,
    machine: Selectable<MachinesTable>,
    changes: ExtensionChange[],
  ): Promise<{ operations: OperationRow[]; urls: ReturnType<typeof operationUrls> }> {
    const operations = await applyChanges(
      db,
      {
        subscriptionId: target.subscriptionId,
        machineId: target.machineId,
        now: clock.now(),
        timeoutMs: services.requestTimeoutMs,
        createdBy: context.caller?.name ?? 'unknown',
      },
      changes,
      (write) => context.commit(write),
    );
    waiters.wake(target.machineId);
    const first = operations[0];
    if (first === undefined) throw new Error('no operation was created');
    return {
      operations,
      urls: operationUrls(
        services.publicUrl,
        first,
        machine.location,
        apiVersionOf(context.request),
      ),
    };
  }

  return [
    {
      ...common,
      method: 'PUT',
      url: EXTENSION_PATH,
      access: { kind: 'action', action: EXTENSION_ACTIONS.write, scope: extensionAt },
      async handler(context) {
        const { request, reply } = context;
        const target = extensionTargetOf(request);
        const put = parseExtensionPut(bodyObject(request), target.name);
        const machine = await requireMachine(db, target);
        await expireOverdueOperations(db, clock, { extensionId: target.extensionId });
        const before = await findExtension(db, target.extensionId);
        if (before !== undefined) {
          if (
            before.publisher.toLowerCase() !== put.name.publisher.toLowerCase() ||
            before.type.toLowerCase() !== put.name.type.toLowerCase()
          ) {
            throw invalidContent(
              'properties.type',
              `cannot change: the extension '${before.name}' is ${before.publisher}.${before.type}; delete it and create it again`,
            );
          }
          await refuseIfBusy(db, before.id, before.name);
        }
        await policy.refuseIfDenied(
          extensionView({
            id: target.extensionId,
            name: before?.name ?? target.name,
            location: put.location ?? machine.location,
            tags: put.tags,
            publisher: put.name.publisher,
            type: put.name.type,
            ...(put.typeHandlerVersion === undefined
              ? {}
              : { typeHandlerVersion: put.typeHandlerVersion }),
          }),
        );
        const autoUpgrade = put.autoUpgradeMinorVersion ?? true;
        const version = await resolvePackageVersion(db, {
          ...put.name,
          requested: put.typeHandlerVersion,
          autoUpgradeMinorVersion: autoUpgrade,
        });
        const sealed =
          put.protectedSettings === undefined
            ? undefined
            : await sealFor(machine, put.protectedSettings);
        const stamp = new Date(clock.now()).toISOString();
        const row: ExtensionRow = {
          id: target.extensionId,
          machine_id: target.machineId,
          name: before?.name ?? target.name,
          location: put.location ?? machine.location,
          tags: JSON.stringify(put.tags),
          publisher: put.name.publisher,
          type: put.name.type,
          type_handler_version: put.typeHandlerVersion ?? version,
          resolved_version: version,
          auto_upgrade_minor_version: autoUpgrade ? 1 : 0,
          enable_automatic_upgrade: put.enableAutomaticUpgrade === true ? 1 : 0,
          force_update_tag: put.forceUpdateTag ?? null,
          settings: JSON.stringify(put.settings ?? {}),
          protected_settings: sealed?.jwe ?? null,
          protected_key_id: sealed?.keyId ?? null,
          sequence: Number(before?.sequence ?? 0) + 1,
          provisioning_state: before === undefined ? 'Creating' : 'Updating',
          instance_view: before?.instance_view ?? null,
          created_at: before?.created_at ?? stamp,
          updated_at: stamp,
        };
        const kind = before === undefined ? 'install' : 'update';
        const previousSequence = before === undefined ? undefined : Number(before.sequence);
        void reply.code(before === undefined ? 201 : 200);
        const { urls } = await commit(context, target, machine, [{ row, previousSequence, kind }]);
        announceOperation(reply, urls, false);
        return renderExtension(row, target.machineDisplayId);
      },
    },
    {
      ...common,
      method: 'PATCH',
      url: EXTENSION_PATH,
      access: { kind: 'action', action: EXTENSION_ACTIONS.write, scope: extensionAt },
      async handler(context) {
        const { request, reply } = context;
        const target = extensionTargetOf(request);
        const patch = parseExtensionPatch(bodyObject(request));
        const machine = await requireMachine(db, target);
        await expireOverdueOperations(db, clock, { extensionId: target.extensionId });
        const before = await findExtension(db, target.extensionId);
        if (before === undefined) throw extensionNotFound(target);
        await refuseIfBusy(db, before.id, before.name);
        await policy.refuseIfDenied(
          extensionView({
            id: before.id,
            name: before.name,
            location: before.location,
            tags: patch.tags ?? (JSON.parse(before.tags) as Record<string, string>),
            publisher: before.publisher,
            type: before.type,
            typeHandlerVersion: patch.typeHandlerVersion ?? before.type_handler_version,
          }),
        );
        const autoUpgrade =
          patch.autoUpgradeMinorVersion ?? before.auto_upgrade_minor_version === 1;
        const requested = patch.typeHandlerVersion ?? before.type_handler_version;
        const version =
          patch.typeHandlerVersion === undefined && patch.autoUpgradeMinorVersion === undefined
            ? before.resolved_version
            : await resolvePackageVersion(db, {
                publisher: before.publisher,
                type: before.type,
                requested,
                autoUpgradeMinorVersion: autoUpgrade,
              });
        const sealed =
          patch.protectedSettings === undefined
            ? undefined
            : await sealFor(machine, patch.protectedSettings);
        const row: ExtensionRow = {
          ...before,
          tags: patch.tags === undefined ? before.tags : JSON.stringify(patch.tags),
          type_handler_version: requested,
          resolved_version: version,
          auto_upgrade_minor_version: autoUpgrade ? 1 : 0,
          enable_automatic_upgrade:
            patch.enableAutomaticUpgrade === undefined
              ? before.enable_automatic_upgrade
              : Number(patch.enableAutomaticUpgrade),
          force_update_tag:
            patch.forceUpdateTag === undefined ? before.force_update_tag : patch.forceUpdateTag,
          settings: patch.settings === undefined ? before.settings : JSON.stringify(patch.settings),
          protected_settings: sealed === undefined ? before.protected_settings : sealed.jwe,
          protected_key_id: sealed === undefined ? before.protected_key_id : sealed.keyId,
          sequence: Number(before.sequence) + 1,
          provisioning_state: 'Updating',
          updated_at: new Date(clock.now()).toISOString(),
        };
        const { urls } = await commit(context, target, machine, [
          { row, previousSequence: Number(before.sequence), kind: 'update' },
        ]);
        announceOperation(reply, urls, false);
        return renderExtension(row, target.machineDisplayId);
      },
    },
    {
      ...common,
      method: 'DELETE',
      url: EXTENSION_PATH,
      access: { kind: 'action', action: EXTENSION_ACTIONS.delete, scope: extensionAt },
      async handler(context) {
        const { request, reply } = context;
        const target = extensionTargetOf(request);
        const machine = await requireMachine(db, target);
        await expireOverdueOperations(db, clock, { extensionId: target.extensionId });
        const before = await findExtension(db, target.extensionId);
        if (before === undefined) {
          void reply.code(204);
          return undefined;
        }
        await refuseIfBusy(db, before.id, before.name);
        const row: ExtensionRow = {
          ...before,
          sequence: Number(before.sequence) + 1,
          provisioning_state: 'Deleting',
          updated_at: new Date(clock.now()).toISOString(),
        };
        void reply.code(202);
        const { urls } = await commit(context, target, machine, [
          { row, previousSequence: Number(before.sequence), kind: 'remove' },
        ]);
        announceOperation(reply, urls, true);
        return undefined;
      },
    },
    {
      ...common,
      method: 'POST',
      url: `${MACHINE_PATH}/upgradeExtensions`,
      access: { kind: 'action', action: EXTENSION_ACTIONS.upgrade, scope: machineAt },
      async handler(context) {
        const { request, reply } = context;
        const target = machineTargetOf(request);
        const targets = parseUpgradeTargets(bodyObject(request));
        const machine = await requireMachine(db, target);
        await expireOverdueOperations(db, clock, { machineId: target.machineId });
        const extensions = await db
          .selectFrom('machine_extensions')
          .selectAll()
          .where('machine_id', '=', target.machineId)
          .orderBy('id')
          .execute();
        const changes: ExtensionChange[] = [];
        const stamp = new Date(clock.now()).toISOString();
        for (const [key, targetVersion] of targets) {
          const named = extensions.filter((e) => `${e.publisher}.${e.type}`.toLowerCase() === key);
          if (named.length === 0) {
            throw invalidContent(
              `extensionTargets.${key}`,
              `names no extension of machine '${target.machineName}'; keys are Publisher.Type of its extensions`,
            );
          }
          for (const extension of named) {
            await refuseIfBusy(db, extension.id, extension.name);
            const version = await resolvePackageVersion(db, {
              publisher: extension.publisher,
              type: extension.type,
              requested: targetVersion,
              autoUpgradeMinorVersion: false,
            });
            changes.push({
              row: {
                ...extension,
                type_handler_version: targetVersion,
                resolved_version: version,
                sequence: Number(extension.sequence) + 1,
                provisioning_state: 'Updating',
                updated_at: stamp,
              },
              previousSequence: Number(extension.sequence),
              kind: 'upgrade',
            });
          }
        }
        void reply.code(202);
        const { urls } = await commit(context, target, machine, changes);
        announceOperation(reply, urls, false);
        return undefined;
      },
    },
  ];
}
