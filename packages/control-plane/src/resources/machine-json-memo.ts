// Serialized machine bodies remembered by everything they are made of, so that polling an
// unchanged machine skips parsing, rendering and serializing it again. The key holds every
// input of renderMachine, so a hit is always the body a fresh render would give.
import { renderMachine, type MachineView } from './machine-resource.js';

/** Enough for every machine a busy control plane is polled about, bounded against growth. */
const MAX_ENTRIES = 2048;

export class MachineJsonMemo {
  private readonly bodies = new Map<string, string>();

  json(view: MachineView): string {
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
