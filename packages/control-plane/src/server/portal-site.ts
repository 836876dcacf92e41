// The web portal's static files, served on an origin of their own: read once at start, kept
// compressed (brotli, gzip), with a strict Content Security Policy (no inline script, no other
// origin than the API's for calls and the sign-in form), HSTS and frame denial. `/config.json`
// tells the portal where the API is and which client id it signs in as.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { ServerError } from './server-error.js';

export interface PortalConfig {
  apiUrl: string;
  tenantId: string;
  clientId: string;
  portalUrl: string;
  /** PEM of the CA that issued the API's certificate, for "Add a server"'s command. */
  caCert?: string | undefined;
}

interface SiteFile {
  type: string;
  body: Buffer;
  br: Buffer;
  gzip: Buffer;
  /** Hashed names (app-1a2b3c.js) never change; index.html and config.json are revalidated. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** The most files a portal build has: a directory with more is not one. */
const MAX_FILES = 200;

export class PortalSite {
  private constructor(
    private readonly files: ReadonlyMap<string, SiteFile>,
    private readonly headers: Readonly<Record<string, string>>,
  ) {}

  /** Reads the portal build in `dir`; refuses a directory without its index.html. */
  static load(dir: string, config: PortalConfig): PortalSite {
    const files = new Map<string, SiteFile>();
    let names: string[];
    try {
      names = readdirSync(dir, { recursive: true }).map(String);
    } catch (error) {
      throw new ServerError(
        'ERR_SERVER_CONFIG',
        `--portal-dir ${JSON.stringify(dir)} cannot be read (${(error as Error).message}); build the portal with \`npm run build\` or give the folder holding its index.html`,
        { target: '--portal-dir' },
      );
    }
    for (const name of names.slice(0, MAX_FILES)) {
      const path = join(dir, name);
      const type = TYPES[extname(name)];
      if (type === undefined || !statSync(path).isFile()) continue;
      const urlPath = `/${relative(dir, path).split(sep).join('/')}`;
      files.set(urlPath, compressed(readFileSync(path), type, /-[0-9A-Z]{8}\./.test(name)));
    }
    if (!files.has('/index.html')) {
      throw new ServerError(
        'ERR_SERVER_CONFIG',
        `--portal-dir ${JSON.stringify(dir)} holds no index.html; build the portal with \`npm run build\``,
        { target: '--portal-dir' },
      );
    }
    files.set(
      '/config.json',
      compressed(Buffer.from(JSON.stringify(config)), TYPES['.json'] ?? '', false),
    );
    return new PortalSite(files, securityHeaders(config.apiUrl));
  }

  handle(request: IncomingMessage, response: ServerResponse): void {
    for (const [name, value] of Object.entries(this.headers)) response.setHeader(name, value);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' });
      response.end('The portal serves only GET and HEAD.\n');
      return;
    }
    const path = (request.url ?? '/').split('?', 1)[0] ?? '/';
    // The portal's own routes (/machines/…) are pages of the one-page app.
    const file =
      this.files.get(path) ?? (extname(path) === '' ? this.files.get('/index.html') : undefined);
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      response.end('Not found.\n');
      return;
    }
    const accepted = String(request.headers['accept-encoding'] ?? '');
    const [encoding, body] = /\bbr\b/.test(accepted)
      ? ['br', file.br]
      : /\bgzip\b/.test(accepted)
        ? ['gzip', file.gzip]
        : [undefined, file.body];
    response.writeHead(200, {
      'content-type': file.type,
      'content-length': String(body.length),
      'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'Accept-Encoding',
      ...(encoding === undefined ? {} : { 'content-encoding': encoding }),
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

function compressed(body: Buffer, type: string, immutable: boolean): SiteFile {
  return {
    type,
    body,
    br: brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
    gzip: gzipSync(body, { level: 9 }),
    immutable,
  };
}

/** Script only from the portal itself; calls and the sign-in form only to the API. */
export function securityHeaders(apiUrl: string): Record<string, string> {
  const api = new URL(apiUrl).origin;
  return {
    'content-security-policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      `connect-src 'self' ${api}`,
      `form-action ${api}`,
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'strict-transport-security': 'max-age=31536000',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  };
}
