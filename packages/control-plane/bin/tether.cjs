#!/usr/bin/env node
// CommonJS on purpose: Node 20 starts a CommonJS program faster than an ES module one. The bundle
// is compiled with the V8 code cache written beside it at build time (scripts/bundle.mjs) when
// this Node.js accepts it, which saves most of the start-up spent compiling.
'use strict';
const { readFileSync } = require('node:fs');
// The Module class itself: require('node:module') would also load the ES module loader (~1 ms).
const { createRequire, wrap } = module.constructor;
const { dirname, join } = require('node:path');
const { Script } = require('node:vm');

const bundle = join(__dirname, '..', 'dist', 'bundle', 'tether.cjs');
let cachedData;
try {
  cachedData = readFileSync(`${bundle}.cache`);
} catch {
  // No cache (a build without one): V8 compiles the source as require would.
}
const script = new Script(wrap(readFileSync(bundle, 'utf8')), { filename: bundle, cachedData });
const bundleModule = { exports: {} };
script
  .runInThisContext()
  .call(
    bundleModule.exports,
    bundleModule.exports,
    createRequire(bundle),
    bundleModule,
    bundle,
    dirname(bundle),
  );
// Set by the build only: the cache then holds what a typical command compiled, not just the top.
if (process.env.TETHER_WRITE_CODE_CACHE === '1') {
  process.on('exit', () => {
    require('node:fs').writeFileSync(`${bundle}.cache`, script.createCachedData());
  });
}
