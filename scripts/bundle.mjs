// Bundles the compiled azcmagent CLI so that its cold start loads a few files instead of
// dozens: Node resolves and loads ES modules one file at a time, which dominated start-up.
// Subcommands stay in their own chunks and are loaded only when run.
import { build } from 'esbuild';

await build({
  entryPoints: ['packages/agent/dist/cli/main.js'],
  outdir: 'packages/agent/dist/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'bundle',
  logLevel: 'warning',
});
