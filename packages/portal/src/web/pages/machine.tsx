// One machine, as the Arc machine blade shows it: status, agent, OS and the server's own local
// security configuration; extensions; guest configuration with per-rule reasons; metrics; who
// can run code as root on it; its activity; access control.
import { useState } from 'preact/hooks';
import { machineId, type MachineRef } from '../../logic/arm-id.js';
import { relativeTime, tagText } from '../../logic/format.js';
import { ACTIONS, allows, type Permission } from '../../logic/permissions.js';
import type { ArmList } from '../api.js';
import { usePortal } from '../context.js';
import { useLoad } from '../use-load.js';
import { ErrorMessage, Link, Loading, Section, StatusBadge } from '../widgets.js';
import { AccessControl } from './access-control.js';
import { ActivityTable, activityPath, type ActivityEvent } from './activity.js';
import { Extensions } from './extensions.js';
import { GuestConfiguration } from './guest-configuration.js';
import type { Machine } from './machines.js';
import { Metrics } from './metrics.js';
import { RootAccess } from './root-access.js';

export function MachinePage(props: { machine: MachineRef }) {
  const { api } = usePortal();
  const id = machineId(props.machine);
  const machine = useLoad(() => api.get<Machine>(`${id}?api-version=2024-07-10`), [id]);
  const permissions = useLoad(
    async () =>
      (
        await api.get<ArmList<Permission>>(
          `${id}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
        )
      ).value,
    [id],
  );
  const can = (action: string) => allows(permissions.data ?? [], action);
  // Who can run code as root follows the role assignments: a change below reloads it.
  const [assignments, setAssignments] = useState(0);
  const m = machine.data;
  return (
    <>
      <p class="crumbs">
        <Link href="/machines">Machines</Link> / {props.machine.resourceGroup}
      </p>
      <h1>{props.machine.name}</h1>
      <Loading loading={machine.loading && m === undefined} />
      <ErrorMessage error={machine.error} />
      <nav class="in-page" aria-label="Sections of this machine">
        <a href="#overview">Overview</a> <a href="#local-security">Local security</a>{' '}
        <a href="#extensions">Extensions</a> <a href="#guest-configuration">Guest configuration</a>{' '}
        <a href="#metrics">Metrics</a> <a href="#root-access">Root access</a>{' '}
        <a href="#activity">Activity</a> <a href="#access-control">Access control</a>
      </nav>
      {m !== undefined && (
        <>
          <Section title="Overview" id="overview">
            <dl class="facts">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={m.properties.status} />
              </dd>
              <dt>Last heartbeat</dt>
              <dd title={m.properties.lastHeartbeat}>
                {m.properties.lastHeartbeat === undefined
                  ? 'never'
                  : relativeTime(m.properties.lastHeartbeat, Date.now())}
              </dd>
              <dt>Agent version</dt>
              <dd>{m.properties.agentVersion ?? '—'}</dd>
              <dt>Operating system</dt>
              <dd>
                {[m.properties.osName, m.properties.osVersion].filter(Boolean).join(' ') ||
                  m.properties.osType ||
                  '—'}
              </dd>
              <dt>Computer name</dt>
              <dd>{m.properties.machineFqdn ?? '—'}</dd>
              <dt>Location</dt>
              <dd>{m.location}</dd>
              <dt>Tags</dt>
              <dd>{tagText(m.tags) || '—'}</dd>
            </dl>
          </Section>
          <LocalSecurity configuration={m.properties.agentConfiguration} />
        </>
      )}
      <Extensions
        machineId={id}
        location={m?.location ?? ''}
        canWrite={can(ACTIONS.extensionWrite)}
        canDelete={can(ACTIONS.extensionDelete)}
      />
      <GuestConfiguration machineId={id} />
      <Metrics machineId={id} />
      <RootAccess machineId={id} generation={assignments} />
      <MachineActivity machine={props.machine} />
      <AccessControl
        scope={id}
        canWrite={can(ACTIONS.roleAssignmentWrite)}
        canDelete={can(ACTIONS.roleAssignmentDelete)}
        onChanged={() => setAssignments((n) => n + 1)}
      />
    </>
  );
}

function LocalSecurity(props: { configuration: Record<string, unknown> | undefined }) {
  const c = props.configuration;
  const text = (key: string, fallback: string): string => {
    const value = c?.[key];
    return typeof value === 'string' || typeof value === 'boolean' ? String(value) : fallback;
  };
  const list = (value: unknown): string => {
    if (!Array.isArray(value) || value.length === 0) return 'none set';
    return value
      .map((e: unknown) =>
        typeof e === 'object' && e !== null
          ? `${String((e as { publisher?: string }).publisher)}/${String((e as { type?: string }).type)}`
          : String(e),
      )
      .join(', ');
  };
  return (
    <Section title="Local security configuration" id="local-security">
      {c === undefined ? (
        <p class="muted">The agent has not reported its local settings yet.</p>
      ) : (
        <>
          <p class="muted">Set only by root on the server (azcmagent config); read-only here.</p>
          <dl class="facts">
            <dt>Mode</dt>
            <dd>{text('configMode', 'full')}</dd>
            <dt>Extensions enabled</dt>
            <dd>{text('extensionsEnabled', 'true')}</dd>
            <dt>Extensions allowlist</dt>
            <dd>{list(c['extensionsAllowList'])}</dd>
            <dt>Extensions blocklist</dt>
            <dd>{list(c['extensionsBlockList'])}</dd>
            <dt>Guest configuration enabled</dt>
            <dd>{text('guestConfigurationEnabled', 'true')}</dd>
            <dt>Proxy</dt>
            <dd>{text('proxyUrl', '') || 'none'}</dd>
          </dl>
        </>
      )}
    </Section>
  );
}

function MachineActivity(props: { machine: MachineRef }) {
  const { api } = usePortal();
  const id = machineId(props.machine);
  const events = useLoad(
    () =>
      api.get<ArmList<ActivityEvent>>(
        activityPath(props.machine.subscriptionId, { hours: 24 * 7, resourceUri: id }),
      ),
    [id],
  );
  return (
    <Section title="Activity" id="activity">
      <Loading loading={events.loading} />
      <ErrorMessage error={events.error} />
      <ActivityTable events={(events.data?.value ?? []).slice(0, 20)} />
    </Section>
  );
}
