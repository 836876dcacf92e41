// The server-rendered sign-in pages (password sign-in, device code entry, signed out): plain
// HTML forms, no script at all, one stylesheet allowed by its hash, every value escaped.
import { createHash } from 'node:crypto';

const STYLE = `body{font-family:system-ui,sans-serif;background:#f3f4f6;color:#111827;margin:0}
main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:.5rem;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;margin:.75rem 0 .25rem;font-weight:600}
input{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem;border:1px solid #6b7280;border-radius:.25rem}
button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:.25rem}
.secondary{background:#e5e7eb;color:#111827}
.error{color:#991b1b;background:#fee2e2;padding:.5rem;border-radius:.25rem}.note{color:#374151}`;

/** The CSP source that admits the page's one stylesheet and nothing else inline. */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`;

export interface PageField {
  name: string;
  label: string;
  type: 'text' | 'password';
  value?: string;
  autocomplete: string;
}

export interface FormPage {
  title: string;
  /** Text above the form, e.g. which application asks. */
  note?: string;
  error?: string;
  /** Where the form posts (same origin); absent for a page without a form. */
  action?: string;
  csrf?: string;
  fields?: readonly PageField[];
  submit?: string;
  /** A second button that declines (submits `cancel`, skipping the fields' validation). */
  cancel?: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderPage(page: FormPage): string {
  const parts = [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)} - Tether</title>`,
    `<style>${STYLE}</style></head><body><main>`,
    `<h1>${escapeHtml(page.title)}</h1>`,
  ];
  if (page.note !== undefined) parts.push(`<p class="note">${escapeHtml(page.note)}</p>`);
  if (page.error !== undefined) {
    parts.push(`<p class="error" role="alert">${escapeHtml(page.error)}</p>`);
  }
  if (page.action !== undefined) {
    parts.push(`<form method="post" action="${escapeHtml(page.action)}">`);
    parts.push(`<input type="hidden" name="csrf_token" value="${escapeHtml(page.csrf ?? '')}">`);
    for (const field of page.fields ?? []) {
      const id = `f-${field.name}`;
      parts.push(
        `<label for="${id}">${escapeHtml(field.label)}</label>`,
        `<input id="${id}" name="${escapeHtml(field.name)}" type="${field.type}" autocomplete="${field.autocomplete}" required value="${escapeHtml(field.value ?? '')}">`,
      );
    }
    parts.push(`<button type="submit">${escapeHtml(page.submit ?? 'Sign in')}</button>`);
    if (page.cancel !== undefined) {
      parts.push(
        `<button type="submit" name="cancel" value="1" formnovalidate class="secondary">${escapeHtml(page.cancel)}</button>`,
      );
    }
    parts.push('</form>');
  }
  parts.push('</main></body></html>');
  return parts.join('\n');
}
