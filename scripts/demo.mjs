// `npm start`: a local Tether to try out — the control plane with its embedded SQLite and the
// first-party extensions published in its repository, signed with a demo publisher key; and, when
// run as root, a demo agent connected to it under .tether/demo/agent (AZCMAGENT_ROOT) that trusts
// that key, with its HIMDS and extension services. The first run creates everything; later runs
// reuse it.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(process.env.TETHER_DEMO_DIR ?? '.tether/demo');
const listen = process.env.TETHER_DEMO_LISTEN ?? '127.0.0.1:8443';
const himdsPort = process.env.TETHER_DEMO_HIMDS_PORT ?? '40342';
const tether = resolve('packages/control-plane/bin/tether.cjs');
const azcmagent = resolve('packages/agent/bin/azcmagent.cjs');
const dataDir = resolve(root, 'control-plane');
const agentRoot = resolve(root, 'agent');
const credentialsFile = resolve(root, 'credentials.json');
const profile = { TETHER_CONFIG_DIR: resolve(root, 'profile') };
const publisherDir = resolve(root, 'publisher');
const firstParty = resolve('packages/extensions/dist/packages');
const endpoint = `https://${listen}`;
const children = [];

mkdirSync(root, { recursive: true, mode: 0o700 });
if (!existsSync(credentialsFile)) {
  const init = run(tether, ['init', '--data-dir', dataDir, '--json']);
  writeFileSync(credentialsFile, init, { mode: 0o600 });
}
const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));

const server = start(
  tether,
  ['server', '--data-dir', dataDir, '--listen', listen, '--log-level', 'warn'],
  {},
);
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (String(chunk).includes('tether listening on')) onListening();
});

function onListening() {
  signIn();
  publishFirstPartyExtensions();
  const agent = startDemoAgent();
  const sub = `/subscriptions/${credentials.subscriptionId}`;
  console.log(`
Tether is running at ${endpoint} (data in ${dataDir}).
${agent}
Sign in from another terminal with the bootstrap Owner (credentials in ${credentialsFile}),
as a profile of its own named demo, so that any other sign-in you keep stays as it is:

  npx tether login --profile demo --service-principal -u ${credentials.appId} \\
    -p "$(node -p "require('${credentialsFile}').password")" \\
    --tenant ${credentials.tenantId} --endpoint ${endpoint} --ca-cert ${credentials.caCert}
  npx tether machine list -o table --profile demo
  npx tether sp create-for-rbac --name onboarding --role "Azure Connected Machine Onboarding" \\
    --scopes ${sub}/resourceGroups/demo --profile demo
  npx tether access show --scope ${sub}/resourceGroups/demo -o table --profile demo

(or 'export TETHER_PROFILE=demo' once, or 'npx tether account use demo' to make it the default)

Azure SDK programs need only NODE_EXTRA_CA_CERTS=${credentials.caCert}. Ctrl-C stops Tether.`);
}

/** Connects the demo agent once, then runs its HIMDS service; says what it did. */
function startDemoAgent() {
  if (process.getuid?.() !== 0) {
    return 'No demo agent: azcmagent changes need root; run npm start as root to get one.';
  }
  const env = { AZCMAGENT_ROOT: agentRoot, AZCMAGENT_HIMDS_PORT: himdsPort };
  mkdirSync(agentRoot, { recursive: true, mode: 0o755 });
  if (!existsSync(resolve(agentRoot, 'var/opt/azcmagent/agentconfig.json'))) {
    run(tether, ['group', 'create', '-n', 'demo', '-l', 'westeurope'], profile);
    run(
      azcmagent,
      [
        'connect',
        '--endpoint',
        endpoint,
        '--ca-cert',
        credentials.caCert,
        '-t',
        credentials.tenantId,
        '-s',
        credentials.subscriptionId,
        '-g',
        'demo',
        '-l',
        'westeurope',
        '-n',
        'demo-server',
        '-i',
        credentials.appId,
        '-p',
        credentials.password,
      ],
      env,
    );
  }
  for (const { publisher } of firstPartyIndex()) {
    run(
      azcmagent,
      [
        'extension',
        'trust',
        '--publisher',
        publisher,
        '--key',
        `${publisherDir}/publisher.pub.pem`,
      ],
      env,
    );
  }
  const himds = start(azcmagent, ['service', 'run', 'himds'], env);
  himds.stdout.pipe(process.stdout);
  const extensions = start(azcmagent, ['service', 'run', 'extension'], env);
  extensions.stdout.pipe(process.stdout);
  return `Demo agent "demo-server" is connected (AZCMAGENT_ROOT=${agentRoot}); its HIMDS serves 127.0.0.1:${himdsPort}
and its extension service runs what the control plane asks for, if its local settings allow it.
Try: AZCMAGENT_ROOT=${agentRoot} npx azcmagent show
     npx tether machine extension create -g demo --machine-name demo-server -n hello --profile demo \\
       --publisher Microsoft.Azure.Extensions --type CustomScript --settings '{"commandToExecute":"uname -a"}'
     AZCMAGENT_ROOT=${agentRoot} npx azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"
and watch the machine's agentConfiguration change in 'npx tether machine show -g demo -n demo-server --profile demo'.`;
}

/** The CLI profile the demo's own commands (and the printed examples) use. */
function signIn() {
  run(
    tether,
    [
      'login',
      '--service-principal',
      '-u',
      credentials.appId,
      '-p',
      credentials.password,
      '--tenant',
      credentials.tenantId,
      '--endpoint',
      endpoint,
      '--ca-cert',
      credentials.caCert,
    ],
    profile,
  );
}

function firstPartyIndex() {
  return JSON.parse(readFileSync(resolve(firstParty, 'index.json'), 'utf8'));
}

/** Signs the first-party extensions with the demo publisher key and uploads what is missing. */
function publishFirstPartyExtensions() {
  if (!existsSync(resolve(publisherDir, 'publisher.key'))) {
    run(tether, ['extension', 'keygen', '--out', publisherDir], profile);
  }
  for (const { publisher, type, version, dir } of firstPartyIndex()) {
    const ref = ['--publisher', publisher, '--type', type, '--version', version];
    if (attempt(tether, ['extension', 'show', ...ref], profile)) continue;
    run(
      tether,
      [
        'extension',
        'publish',
        '--dir',
        resolve(firstParty, dir),
        ...ref,
        '--key',
        resolve(publisherDir, 'publisher.key'),
      ],
      profile,
    );
  }
}

function run(bin, args, env = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    stop(result.status ?? 1);
  }
  return result.stdout;
}

/** True when the command succeeds; its output is not shown. */
function attempt(bin, args, env = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
  });
  return result.status === 0;
}

function start(bin, args, env) {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  child.on('exit', (code) => stop(code ?? 0));
  return child;
}

function stop(code) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
  if (children.every((c) => c.exitCode !== null)) process.exit(code);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(0));
