// Machine resource ids and the portal's own paths for them.

export interface MachineRef {
  subscriptionId: string;
  resourceGroup: string;
  name: string;
}

const MACHINE_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.HybridCompute\/machines\/([^/]+)$/i;

export function parseMachineId(id: string): MachineRef | undefined {
  const match = MACHINE_ID.exec(id);
  if (match === null) return undefined;
  return {
    subscriptionId: match[1] ?? '',
    resourceGroup: decodeURIComponent(match[2] ?? ''),
    name: decodeURIComponent(match[3] ?? ''),
  };
}

export function machineId(ref: MachineRef): string {
  return `/subscriptions/${ref.subscriptionId}/resourceGroups/${encodeURIComponent(ref.resourceGroup)}/providers/Microsoft.HybridCompute/machines/${encodeURIComponent(ref.name)}`;
}

/** The portal page of a machine: /machines/{subscription}/{group}/{name}. */
export function machinePath(ref: MachineRef): string {
  return `/machines/${ref.subscriptionId}/${encodeURIComponent(ref.resourceGroup)}/${encodeURIComponent(ref.name)}`;
}

export function machineRefFromPath(path: string): MachineRef | undefined {
  const match = /^\/machines\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(path);
  if (match === null) return undefined;
  return {
    subscriptionId: decodeURIComponent(match[1] ?? ''),
    resourceGroup: decodeURIComponent(match[2] ?? ''),
    name: decodeURIComponent(match[3] ?? ''),
  };
}
