// `npm start`: runs a local Tether for trying it out. The first run creates the installation
// in .tether/demo (credentials in .tether/demo/credentials.json, mode 0600); later runs reuse it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(process.env.TETHER_DEMO_DIR ?? '.tether/demo');
const listen = process.env.TETHER_DEMO_LISTEN ?? '127.0.0.1:8443';
const tether = resolve('packages/control-plane/bin/tether.js');
const dataDir = resolve(root, 'control-plane');
const credentialsFile = resolve(root, 'credentials.json');

mkdirSync(root, { recursive: true, mode: 0o700 });
if (!existsSync(credentialsFile)) {
  const init = spawnSync(process.execPath, [tether, 'init', '--data-dir', dataDir, '--json'], {
    encoding: 'utf8',
  });
  if (init.status !== 0) {
    process.stderr.write(init.stderr);
    process.exit(init.status ?? 1);
  }
  writeFileSync(credentialsFile, init.stdout, { mode: 0o600 });
}
const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
const endpoint = `https://${listen}`;

const server = spawn(
  process.execPath,
  [tether, 'server', '--data-dir', dataDir, '--listen', listen],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (!String(chunk).includes('tether listening on')) return;
  console.log(`
Tether is running at ${endpoint} (data in ${dataDir}).
Sign in from another terminal with the bootstrap Owner (credentials in ${credentialsFile}):

  npx tether login --service-principal -u ${credentials.appId} -p "$(node -p "require('${credentialsFile}').password")" \\
    --tenant ${credentials.tenantId} --endpoint ${endpoint} --ca-cert ${credentials.caCert}
  npx tether group create -n demo -l westeurope
  npx tether sp create-for-rbac --name onboarding --role "Azure Connected Machine Onboarding" \\
    --scopes /subscriptions/${credentials.subscriptionId}/resourceGroups/demo
  npx tether access show --scope /subscriptions/${credentials.subscriptionId}

Azure SDK programs need only NODE_EXTRA_CA_CERTS=${credentials.caCert}. Ctrl-C stops Tether.`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.kill('SIGTERM'));
server.on('exit', (code) => process.exit(code ?? 0));
