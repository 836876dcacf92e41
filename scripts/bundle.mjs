// Bundles the compiled azcmagent CLI into one CommonJS file: Node 20 resolves and loads ES
// modules one file at a time, which dominated the agent's cold start. Tests run the bundle.
import { build } from 'esbuild';

await build({
  entryPoints: ['packages/agent/dist/cli/main.js'],
  outfile: 'packages/agent/dist/bundle/azcmagent.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  logLevel: 'warning',
});
