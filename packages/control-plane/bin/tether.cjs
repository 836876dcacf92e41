#!/usr/bin/env node
// CommonJS on purpose: Node 20 starts a CommonJS program faster than an ES module one. tether
// ships as bundles: tether.cjs (the entry, which answers --version alone) loads tether-program.cjs
// (commander and the client commands), which loads tether-server.cjs for init and server. The
// first two are compiled with the V8 code cache written beside each at build time
// (scripts/bundle.mjs) when this Node.js accepts it, which saves most of the start-up compiling.
'use strict';
const { readFileSync } = require('node:fs');
// The Module class itself: require('node:module') would also load the ES module loader (~1 ms).
const { createRequire, wrap } = module.constructor;
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

/** What a bundle requires that is loaded here, with its cache, rather than by require. */
const CACHED = new Set(['./tether-program.cjs']);
/** Each bundle run so far, by path, with its exports. */
const loaded = new Map();

function runBundle(file) {
  const known = loaded.get(file);
  if (known !== undefined) return known.module.exports;
  let cachedData;
  try {
    cachedData = readFileSync(`${file}.cache`);
  } catch {
    // No cache (a build without one): V8 compiles the source as require would.
  }
  const script = new Script(wrap(readFileSync(file, 'utf8')), { filename: file, cachedData });
  const bundleModule = { exports: {} };
  loaded.set(file, { script, module: bundleModule });
  const plainRequire = createRequire(file);
  const bundleRequire = Object.assign(
    (id) => (CACHED.has(id) ? runBundle(join(dirname(file), id)) : plainRequire(id)),
    plainRequire,
  );
  script
    .runInThisContext()
    .call(
      bundleModule.exports,
      bundleModule.exports,
      bundleRequire,
      bundleModule,
      file,
      dirname(file),
    );
  return bundleModule.exports;
}

runBundle(join(__dirname, '..', 'dist', 'bundle', 'tether.cjs'));
// Set by the build only: each cache then holds what a typical command compiled, not just the top.
if (process.env.TETHER_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => {
    for (const [file, { script }] of loaded) {
      require('node:fs').writeFileSync(`${file}.cache`, script.createCachedData());
    }
  });
}
