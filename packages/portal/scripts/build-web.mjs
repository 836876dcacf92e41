// Bundles the portal for the browser: one minified script and one stylesheet with content
// hashes in their names, and index.html naming them. No inline script or style, so the portal's
// Content Security Policy needs neither 'unsafe-inline' nor a hash.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'site');
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: {
    app: join(root, 'src', 'web', 'main.tsx'),
    styles: join(root, 'static', 'app.css'),
  },
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome110', 'firefox110', 'safari16'],
  minify: true,
  jsx: 'automatic',
  jsxImportSource: 'preact',
  entryNames: '[name]-[hash]',
  outdir: out,
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const script = outputs.find((f) => f.startsWith('app-') && f.endsWith('.js'));
const styles = outputs.find((f) => f.startsWith('styles-') && f.endsWith('.css'));
if (script === undefined || styles === undefined) throw new Error(`unexpected outputs: ${outputs}`);
const html = readFileSync(join(root, 'static', 'index.html'), 'utf8')
  .replace('/SCRIPT', `/${script}`)
  .replace('/STYLES', `/${styles}`);
writeFileSync(join(out, 'index.html'), html);
