// The portal's frame: the signed-in person, the subscription, the navigation, and the page the
// address names.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { machineRefFromPath } from '../logic/arm-id.js';
import { Api } from './api.js';
import type { Session } from './auth.js';
import { Portal, usePortal, type PortalContext } from './context.js';
import { ACTIONS, allows } from '../logic/permissions.js';
import { useLoad } from './use-load.js';
import { ErrorMessage, Link, Loading } from './widgets.js';
import { ActivityPage } from './pages/activity.js';
import { AddServerPage } from './pages/add-server.js';
import { MachinePage } from './pages/machine.js';
import { MachinesPage } from './pages/machines.js';
import { OverviewPage } from './pages/overview.js';
import { RepositoryPage } from './pages/repository.js';
import { RootAccessFleetPage } from './pages/root-access.js';
import { AccessControl } from './pages/access-control.js';

const NAV = [
  ['/', 'Overview'],
  ['/machines', 'Machines'],
  ['/root-access', 'Root access'],
  ['/access', 'Access control'],
  ['/activity', 'Activity log'],
  ['/repository', 'Extension repository'],
  ['/add-server', 'Add a server'],
] as const;

export function App(props: { session: Session }) {
  const api = useMemo(() => new Api(props.session), [props.session]);
  const [path, setPath] = useState(location.pathname);
  const [search, setSearch] = useState(location.search);
  useEffect(() => {
    const onPop = () => {
      setPath(location.pathname);
      setSearch(location.search);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);
  const navigate = (to: string) => {
    history.pushState(null, '', to);
    const url = new URL(to, location.href);
    setPath(url.pathname);
    setSearch(url.search);
    scrollTo(0, 0);
  };
  const subscriptions = useLoad(
    () =>
      api.get<{ value: { subscriptionId: string; displayName: string }[] }>(
        '/subscriptions?api-version=2022-12-01',
      ),
    [],
  );
  const [chosen, setChosen] = useState<string | undefined>();
  const subscriptionId = chosen ?? subscriptions.data?.value[0]?.subscriptionId;
  const person = props.session.person;
  const context: PortalContext | undefined =
    subscriptionId === undefined
      ? undefined
      : { api, session: props.session, subscriptionId, navigate };

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Tether</span>
        {subscriptions.data !== undefined && subscriptions.data.value.length > 1 && (
          <label class="subscription">
            Subscription
            <select value={subscriptionId} onChange={(e) => setChosen(e.currentTarget.value)}>
              {subscriptions.data.value.map((s) => (
                <option key={s.subscriptionId} value={s.subscriptionId}>
                  {s.displayName}
                </option>
              ))}
            </select>
          </label>
        )}
        <span class="person" title={person?.userPrincipalName}>
          {person?.name || person?.userPrincipalName}
        </span>
        <button type="button" class="link-button" onClick={() => props.session.signOut()}>
          Sign out
        </button>
      </header>
      <div class="layout">
        <nav class="side" aria-label="Portal">
          <ul>
            {NAV.map(([href, label]) => (
              <li key={href}>
                <a
                  href={href}
                  aria-current={isCurrent(path, href) ? 'page' : undefined}
                  onClick={(event) => {
                    if (event.ctrlKey || event.metaKey || event.shiftKey) return;
                    event.preventDefault();
                    navigate(href);
                  }}
                >
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main">
          <Loading loading={subscriptions.loading} />
          <ErrorMessage error={subscriptions.error} />
          {subscriptions.data !== undefined && subscriptionId === undefined && (
            <p>You have no role on any subscription yet: ask an Owner to assign you one.</p>
          )}
          {context !== undefined && (
            <Portal.Provider value={context}>
              <Page path={path} search={search} />
            </Portal.Provider>
          )}
        </main>
      </div>
    </>
  );
}

function isCurrent(path: string, href: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

function Page(props: { path: string; search: string }) {
  const { subscriptionId } = usePortal();
  const machine = machineRefFromPath(props.path);
  if (machine !== undefined) return <MachinePage machine={machine} key={props.path} />;
  switch (props.path) {
    case '/':
      return <OverviewPage />;
    case '/machines':
      return (
        <MachinesPage
          initialStatus={new URLSearchParams(props.search).get('status') ?? undefined}
          key={props.search}
        />
      );
    case '/activity':
      return <ActivityPage />;
    case '/add-server':
      return <AddServerPage />;
    case '/repository':
      return <RepositoryPage />;
    case '/root-access':
      return <RootAccessFleetPage />;
    case '/access':
      return (
        <>
          <h1>Access control</h1>
          <AccessControlAt scope={`/subscriptions/${subscriptionId}`} />
        </>
      );
    default:
      return (
        <>
          <h1>Not found</h1>
          <p>
            Nothing lives at this address. <Link href="/">Back to the overview</Link>
          </p>
        </>
      );
  }
}

function AccessControlAt(props: { scope: string }) {
  const { api } = usePortal();
  const permissions = useLoad(
    async () =>
      (
        await api.get<{ value: { actions: string[]; notActions?: string[] }[] }>(
          `${props.scope}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`,
        )
      ).value,
    [props.scope],
  );
  const can = (action: string) => allows(permissions.data ?? [], action);
  return (
    <AccessControl
      scope={props.scope}
      canWrite={can(ACTIONS.roleAssignmentWrite)}
      canDelete={can(ACTIONS.roleAssignmentDelete)}
    />
  );
}
