// Small pieces the pages share: links that navigate in place, resource paths, status badges,
// messages.
import { Fragment, type ComponentChildren } from 'preact';
import { usePortal } from './context.js';

export function Link(props: { href: string; children: ComponentChildren; class?: string }) {
  const { navigate } = usePortal();
  return (
    <a
      href={props.href}
      class={props.class}
      onClick={(event) => {
        if (event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(props.href);
      }}
    >
      {props.children}
    </a>
  );
}

/**
 * A resource path or operation that a narrow cell wraps after a '/', not inside a name; a single
 * name longer than the path's widest (see .path in app.css) still breaks rather than overflow.
 */
export function PathText(props: { path: string }) {
  const segments = props.path.split('/');
  return (
    <span class="path">
      {segments.map((segment, index) => (
        <Fragment key={index}>
          {segment}
          {index < segments.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </Fragment>
      ))}
    </span>
  );
}

export function StatusBadge(props: { status: string | undefined }) {
  const status = props.status ?? 'Unknown';
  return <span class={`badge badge-${status.toLowerCase()}`}>{status}</span>;
}

export function ErrorMessage(props: { error: string | undefined }) {
  if (props.error === undefined) return null;
  return (
    <p class="error" role="alert">
      {props.error}
    </p>
  );
}

export function Loading(props: { loading: boolean }) {
  return props.loading ? (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  ) : null;
}

export function Section(props: { title: string; id?: string; children: ComponentChildren }) {
  const headingId = `${props.id ?? props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-heading`;
  return (
    <section class="card" id={props.id} aria-labelledby={headingId}>
      <h2 id={headingId}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/**
 * Previous and Next over an ARM list: `pages` holds the nextLinks followed to reach the page
 * shown, so going back is dropping the last one.
 */
export function Pager(props: {
  pages: readonly string[];
  nextLink: string | undefined;
  onPages: (pages: string[]) => void;
}) {
  const { nextLink } = props;
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        disabled={props.pages.length === 0}
        onClick={() => props.onPages(props.pages.slice(0, -1))}
      >
        Previous
      </button>
      <button
        type="button"
        disabled={nextLink === undefined}
        onClick={() => nextLink !== undefined && props.onPages([...props.pages, nextLink])}
      >
        Next
      </button>
    </nav>
  );
}
