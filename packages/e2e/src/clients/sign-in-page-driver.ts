// Plays the person at Tether's sign-in pages, with plain HTTP as a browser would send it: opens
// the page (cookies and CSRF token), posts the user name and password (and a device code), and
// follows the redirect to the app's loopback listener. Used as $BROWSER for
// InteractiveBrowserCredential and run directly for a device code. Prints JSON; with
// TETHER_SIGN_IN_LOG set, also appends it there (a $BROWSER has no stdout anyone reads).
import { appendFileSync } from 'node:fs';

interface Outcome {
  ok: boolean;
  pageStatus: number;
  postStatus: number;
  location?: string;
  listenerStatus?: number;
  text?: string;
}

async function main(url: string): Promise<Outcome> {
  const env = process.env;
  const page = await fetch(url, { redirect: 'manual' });
  const html = await page.text();
  const cookies = page.headers.getSetCookie().map((c) => c.split(';')[0] ?? '');
  const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
  const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1]?.replace(/&#38;/g, '&');
  if (csrf === undefined || action === undefined) {
    return { ok: false, pageStatus: page.status, postStatus: 0, text: html.slice(0, 500) };
  }
  const form = new URLSearchParams({
    csrf_token: csrf,
    username: env['TETHER_SIGN_IN_USER'] ?? '',
    password: env['TETHER_SIGN_IN_PASSWORD'] ?? '',
  });
  const code = env['TETHER_SIGN_IN_CODE'];
  if (code !== undefined) form.set('user_code', code);
  const posted = await fetch(new URL(action, url), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.join('; ') },
    body: form.toString(),
  });
  const outcome: Outcome = {
    ok: posted.status === 200 || posted.status === 302,
    pageStatus: page.status,
    postStatus: posted.status,
  };
  const location = posted.headers.get('location');
  if (location === null) return { ...outcome, text: (await posted.text()).slice(0, 1000) };
  // The app's own listener (MSAL's loopback server) takes the code from here.
  const listener = await fetch(location);
  return { ...outcome, location, listenerStatus: listener.status };
}

const url = process.argv[2] ?? '';
main(url).then(
  (outcome) => {
    const line = JSON.stringify(outcome);
    process.stdout.write(`${line}\n`);
    const log = process.env['TETHER_SIGN_IN_LOG'];
    if (log !== undefined) appendFileSync(log, `${line}\n`);
  },
  (error: unknown) => {
    const line = JSON.stringify({ ok: false, error: String(error) });
    process.stdout.write(`${line}\n`);
    const log = process.env['TETHER_SIGN_IN_LOG'];
    if (log !== undefined) appendFileSync(log, `${line}\n`);
  },
);
