// Serialized machine bodies remembered by everything they are made of, so that polling an
// unchanged machine skips parsing, rendering and serializing it again. The key holds every
// input of renderMachine, so a hit is always the body a fresh render would give. A row object
// read once and shared until the next write (MachineReader) finds its body by identity, without
// building that key.
import type { MachinesTable } from '../store/schema.js';
import { renderMachine, type MachineView } from './machine-resource.js';

/** Enough for every machine a busy control plane is polled about, bounded against growth. */
const MAX_ENTRIES = 2048;

interface RowBody {
  resourceGroupName: string;
  identityPrincipalId: string | undefined;
  tenantId: string | undefined;
  body: string;
}

export class MachineJsonMemo {
  private readonly bodies = new Map<string, string>();
  private readonly byRow = new WeakMap<MachinesTable, RowBody>();

  json(view: MachineView): string {
    const { row } = view;
    const known = this.byRow.get(row);
    if (
      known !== undefined &&
      known.resourceGroupName === view.resourceGroupName &&
      known.identityPrincipalId === view.identityPrincipalId &&
      known.tenantId === view.tenantId
    ) {
      return known.body;
    }
    const body = this.byKey(view);
    if (Object.isFrozen(row)) {
      this.byRow.set(row, {
        resourceGroupName: view.resourceGroupName,
        identityPrincipalId: view.identityPrincipalId,
        tenantId: view.tenantId,
        body,
      });
    }
    return body;
  }

  private byKey(view: MachineView): string {
    const { row } = view;
    const key = [
      row.id,
      row.subscription_id,
      row.name,
      row.location,
      row.tags,
      row.properties,
      row.created_at,
      view.resourceGroupName,
      view.identityPrincipalId ?? '',
      view.tenantId ?? '',
    ].join('\u0000');
    const hit = this.bodies.get(key);
    if (hit !== undefined) return hit;
    const body = JSON.stringify(renderMachine(view));
    if (this.bodies.size >= MAX_ENTRIES) {
      const oldest = this.bodies.keys().next();
      if (oldest.done !== true) this.bodies.delete(oldest.value);
    }
    this.bodies.set(key, body);
    return body;
  }
}
