// Bundles the compiled azcmagent CLI into CommonJS files: Node 20 resolves and loads ES modules
// one file at a time, which dominated the agent's cold start. Two bundles: the commands most
// runs use, and (azcmagent-heavy.cjs) the services, connect, logs and extension commands with
// the zip, JOSE and extension-host code only they need. Tests run the bundles.
import { build } from 'esbuild';

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
]);
