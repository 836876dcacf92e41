// Plays the person at Tether's sign-in page in real headless Chromium: opens the URL the app
// asked the system browser to open, types the user name and password, presses "Sign in", and
// waits until the browser has landed on the app's loopback listener (MSAL's), which takes the
// code from there. Used as $BROWSER for InteractiveBrowserCredential. Prints JSON; with
// TETHER_SIGN_IN_LOG set, also appends it there (a $BROWSER has no stdout anyone reads).
import { appendFileSync } from 'node:fs';
import { launchChromium } from '../portal/portal-browser.js';

interface Outcome {
  ok: boolean;
  pageStatus?: number;
  location?: string;
  listenerStatus?: number;
  error?: string;
}

async function main(url: string): Promise<Outcome> {
  const env = process.env;
  const browser = await launchChromium();
  try {
    // The test's control plane has a CA of its own, which this throwaway profile does not hold.
    const page = await browser.newPage({ ignoreHTTPSErrors: true });
    const opened = await page.goto(url);
    await page.fill('input[name="username"]', env['TETHER_SIGN_IN_USER'] ?? '');
    await page.fill('input[name="password"]', env['TETHER_SIGN_IN_PASSWORD'] ?? '');
    // MSAL's listener takes the code from the first request and may redirect to a page of its
    // own: keep the first address and the status of the page the browser finally shows.
    const loopback = /^http:\/\/(localhost|127\.0\.0\.1)(:\d+)?\//;
    let location: string | undefined;
    const landed = page.waitForResponse((response) => {
      if (!loopback.test(response.url())) return false;
      location ??= response.url();
      return response.status() < 300 || response.status() >= 400;
    });
    await page.getByRole('button', { name: 'Sign in' }).click();
    const listener = await landed;
    return {
      ok: listener.status() === 200,
      pageStatus: opened?.status() ?? 0,
      ...(location === undefined ? {} : { location }),
      listenerStatus: listener.status(),
    };
  } finally {
    await browser.close();
  }
}

function record(outcome: Outcome): void {
  const line = JSON.stringify(outcome);
  process.stdout.write(`${line}\n`);
  const log = process.env['TETHER_SIGN_IN_LOG'];
  if (log !== undefined) appendFileSync(log, `${line}\n`);
}

main(process.argv[2] ?? '').then(record, (error: unknown) =>
  record({ ok: false, error: String(error) }),
);
