// Bundles the compiled azcmagent and tether CLIs into CommonJS files: Node 20 resolves and loads
// ES modules one file at a time, which dominated their cold start. azcmagent has two bundles: the
// commands most runs use, and (azcmagent-heavy.cjs) the services, connect, logs and extension
// commands with the zip, JOSE and extension-host code only they need. tether has three: the entry
// (--version), the program with the client commands, whose modules are evaluated only when asked
// for, and the server. Tests run the bundles.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const requireBuiltin = createRequire(import.meta.url);

const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  logLevel: 'warning',
};

/** main.js reaches the heavy commands only through import('./heavy-commands.js'). */
const heavyAsSecondBundle = {
  name: 'heavy-as-second-bundle',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/heavy-commands\.js$/ }, () => ({
      path: './azcmagent-heavy.cjs',
      external: true,
    }));
  },
};

/** tether's main.js reaches the program (commander and the commands) only through import(). */
const programAsSecondBundle = {
  name: 'program-as-second-bundle',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/run-program\.js$/ }, () => ({
      path: './tether-program.cjs',
      external: true,
    }));
  },
};

/** tether's run-program.js reaches init and server only through import('./server-commands.js'). */
const serverAsSecondBundle = {
  name: 'server-as-second-bundle',
  setup(builder) {
    builder.onResolve({ filter: /^\.\/server-commands\.js$/ }, () => ({
      path: './tether-server.cjs',
      external: true,
    }));
  },
};

/**
 * commander requires node:child_process (with net, dgram and streams, ~5 ms) at load, but uses
 * it only to run executable subcommands, which tether has none of: it gets it on first use.
 */
const lazyChildProcessForCommander = {
  name: 'lazy-child-process-for-commander',
  setup(builder) {
    builder.onResolve({ filter: /^node:child_process$/ }, (args) =>
      /[/\\]node_modules[/\\]commander[/\\]/.test(args.importer)
        ? { path: 'lazy-child-process', namespace: 'lazy-child-process' }
        : undefined,
    );
    builder.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
      contents:
        "let loaded; module.exports = new Proxy({}, { get: (_, key) => (loaded ??= require('node:child_process'))[key] });",
      loader: 'js',
    }));
  },
};

/**
 * Built-ins that cost a command milliseconds to load (fs/promises brings readline and watchers,
 * crypto and zlib their bindings) but that most commands never call: tether's modules import them
 * as usual and get them on first use, so help, usage errors and local commands skip them.
 */
const LAZY_BUILTINS = ['fs/promises', 'crypto', 'https', 'zlib', 'readline/promises'];
const lazyBuiltins = {
  name: 'lazy-builtins',
  setup(builder) {
    const names = LAZY_BUILTINS.flatMap((name) => [name, `node:${name}`]);
    const filter = new RegExp(`^(?:${names.map((n) => n.replace('/', '\\/')).join('|')})$`);
    builder.onResolve({ filter }, (args) =>
      args.namespace === 'lazy-builtin'
        ? undefined
        : { path: args.path.replace(/^node:/, ''), namespace: 'lazy-builtin' },
    );
    // A proxy for the module: it loads the module when anything is read from it. Its keys are
    // known without loading it, so esbuild's interop copy (getters that read the proxy) stays lazy.
    builder.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `let loaded;
const load = () => (loaded ??= require(${JSON.stringify(`node:${args.path}`)}));
const keys = ${JSON.stringify(Object.getOwnPropertyNames(requireBuiltin(`node:${args.path}`)))};
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => keys,
  getOwnPropertyDescriptor: (_, key) =>
    keys.includes(key) ? { configurable: true, enumerable: true, get: () => load()[key] } : undefined,
});`,
      loader: 'js',
    }));
  },
};

/** The server's libraries stay in node_modules: native code (better-sqlite3, pg's optional
 * bindings) and files found at run time (pino, fastify's plugins) do not survive bundling. */
const serverLibraries = ['better-sqlite3', 'pg', 'pino', 'fastify', '@fastify/*'];

await Promise.all([
  build({
    ...common,
    entryPoints: ['packages/agent/dist/cli/main.js'],
    outfile: 'packages/agent/dist/bundle/azcmagent.cjs',
    plugins: [heavyAsSecondBundle],
    // require(), not import(): an import() would start Node's ES module loader (~10 MB more
    // in every long-running service) just to load a CommonJS file.
    supported: { 'dynamic-import': false },
  }),
  build({
    ...common,
    entryPoints: ['packages/agent/dist/cli/heavy-commands.js'],
    outfile: 'packages/agent/dist/bundle/azcmagent-heavy.cjs',
  }),
  build({
    ...common,
    entryPoints: ['packages/control-plane/dist/cli/main.js'],
    outfile: 'packages/control-plane/dist/bundle/tether.cjs',
    // Less source to read and hash at every start; names are kept for readable stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [programAsSecondBundle],
    supported: { 'dynamic-import': false },
  }),
  build({
    ...common,
    entryPoints: ['packages/control-plane/dist/cli/run-program.js'],
    outfile: 'packages/control-plane/dist/bundle/tether-program.cjs',
    minifyWhitespace: true,
    minifySyntax: true,
    plugins: [serverAsSecondBundle, lazyChildProcessForCommander, lazyBuiltins],
    external: serverLibraries,
    supported: { 'dynamic-import': false },
  }),
  build({
    ...common,
    entryPoints: ['packages/control-plane/dist/cli/server-commands.js'],
    outfile: 'packages/control-plane/dist/bundle/tether-server.cjs',
    external: serverLibraries,
  }),
]);

// tether's V8 code caches (one per bundle bin/tether.cjs loads itself), written by running one
// client command's help, so the functions every command compiles (commander's parsing and help)
// are in them; bin/tether.cjs uses them when it can.
for (const bundle of ['tether.cjs', 'tether-program.cjs']) {
  rmSync(`packages/control-plane/dist/bundle/${bundle}.cache`, { force: true });
}
const warm = spawnSync(
  process.execPath,
  ['packages/control-plane/bin/tether.cjs', 'machine', 'list', '--help'],
  { env: { ...process.env, TETHER_WRITE_CODE_CACHE: '1' }, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (warm.status !== 0) throw new Error(`writing tether's code cache failed (exit ${warm.status})`);
