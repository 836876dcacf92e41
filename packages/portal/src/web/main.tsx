// The portal's entry: reads its configuration, finishes or starts a sign-in, then shows the app.
import { render } from 'preact';
import { useState } from 'preact/hooks';
import { App } from './app.js';
import { Session } from './auth.js';
import { loadConfig } from './config.js';

function SignInScreen(props: { session: Session; error?: string }) {
  const [busy, setBusy] = useState(false);
  return (
    <main class="sign-in" id="main">
      <h1>Tether</h1>
      <p>Manage your servers: sign in with your Tether account.</p>
      {props.error !== undefined && (
        <p class="error" role="alert">
          {props.error}
        </p>
      )}
      <button
        type="button"
        disabled={busy}
        onClick={() => {
          setBusy(true);
          void props.session.signIn(location.pathname + location.search);
        }}
      >
        Sign in
      </button>
    </main>
  );
}

async function start(root: HTMLElement): Promise<void> {
  const session = new Session(await loadConfig());
  let error: string | undefined;
  try {
    const returnTo = await session.completeSignIn(new URL(location.href));
    if (returnTo === undefined && !session.signedIn && session.wasSignedIn) {
      // A reload: the browser session on the API may still be there; ask without a page.
      sessionStorage.removeItem('tether.portal.signedIn');
      await session.signIn(location.pathname + location.search, true);
      return;
    }
  } catch (caught) {
    error = caught instanceof Error ? caught.message : String(caught);
  }
  render(
    session.signedIn ? <App session={session} /> : <SignInScreen session={session} error={error} />,
    root,
  );
}

const root = document.getElementById('app');
if (root !== null) {
  start(root).catch((error: unknown) => {
    root.textContent = `The portal could not start: ${error instanceof Error ? error.message : String(error)}`;
  });
}
