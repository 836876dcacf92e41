// The Microsoft.HybridCompute/machines/extensions resource: its ids, the actions that guard it
// and its ARM shape. Protected settings are never part of what is returned.
import type { Selectable } from 'kysely';
import type { MachineExtensionsTable } from '../store/schema.js';

export const EXTENSION_RESOURCE_TYPE = 'Microsoft.HybridCompute/machines/extensions';

export const EXTENSION_ACTIONS = {
  read: 'Microsoft.HybridCompute/machines/extensions/read',
  write: 'Microsoft.HybridCompute/machines/extensions/write',
  delete: 'Microsoft.HybridCompute/machines/extensions/delete',
  upgrade: 'Microsoft.HybridCompute/machines/upgradeExtensions/action',
  goalState: 'Microsoft.HybridCompute/machines/extensionGoalState/read',
  status: 'Microsoft.HybridCompute/machines/extensionStatus/action',
} as const;

/** What the agent's own calls are made with (docs/extensions.md, "Agent calls"). */
export const AGENT_API_VERSIONS = ['2024-07-10'] as const;

export type ExtensionRow = Selectable<MachineExtensionsTable>;

/** The lower-cased ARM id of the extension `name` of the machine `machineId` (lower-cased). */
export function extensionIdOf(machineId: string, name: string): string {
  return `${machineId}/extensions/${name.toLowerCase()}`;
}

/** The instance view as the agent last reported it. */
export interface InstanceView {
  name?: string;
  type?: string;
  typeHandlerVersion?: string;
  status?: {
    code?: string;
    level?: 'Info' | 'Warning' | 'Error';
    displayStatus?: string;
    message?: string;
    time?: string;
  };
}

/** `machineDisplayId` is the machine's ARM id as the caller spelled it. */
export function renderExtension(row: ExtensionRow, machineDisplayId: string): object {
  return {
    id: `${machineDisplayId}/extensions/${row.name}`,
    name: row.name,
    type: EXTENSION_RESOURCE_TYPE,
    location: row.location,
    tags: JSON.parse(row.tags) as Record<string, string>,
    properties: {
      publisher: row.publisher,
      type: row.type,
      typeHandlerVersion: row.type_handler_version,
      autoUpgradeMinorVersion: row.auto_upgrade_minor_version === 1,
      enableAutomaticUpgrade: row.enable_automatic_upgrade === 1,
      forceUpdateTag: row.force_update_tag ?? undefined,
      settings: JSON.parse(row.settings) as Record<string, unknown>,
      provisioningState: row.provisioning_state,
      instanceView:
        row.instance_view === null ? null : (JSON.parse(row.instance_view) as InstanceView),
    },
  };
}
