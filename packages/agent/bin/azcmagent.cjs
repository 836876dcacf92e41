#!/usr/bin/env node
// CommonJS on purpose: Node 20 starts a CommonJS program faster than an ES module one.
require('../dist/bundle/azcmagent.cjs');
