// `npm start`: a local Tether to try out — the control plane with its embedded SQLite and the
// first-party extensions and built-in guest configurations published in its repository, signed
// with a demo publisher key; and, when run as root, a demo agent connected to it under
// .tether/demo/agent (AZCMAGENT_ROOT) that trusts that key, with its HIMDS, extension and guest
// configuration services. The first run creates everything; later runs reuse it.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

const root = resolve(process.env.TETHER_DEMO_DIR ?? '.tether/demo');
const listen = process.env.TETHER_DEMO_LISTEN ?? '127.0.0.1:8443';
/** The web portal, on an origin of its own: the API's port plus one unless set. */
const portalListen =
  process.env.TETHER_DEMO_PORTAL_LISTEN ??
  listen.replace(/:(\d+)$/, (_, port) => `:${Number(port) + 1}`);
const himdsPort = process.env.TETHER_DEMO_HIMDS_PORT ?? '40342';
const tether = resolve('packages/control-plane/bin/tether.cjs');
const azcmagent = resolve('packages/agent/bin/azcmagent.cjs');
const dataDir = resolve(root, 'control-plane');
const agentRoot = resolve(root, 'agent');
const credentialsFile = resolve(root, 'credentials.json');
const portalUserFile = resolve(root, 'portal-user.json');
const profile = { TETHER_CONFIG_DIR: resolve(root, 'profile') };
const publisherDir = resolve(root, 'publisher');
const firstParty = resolve('packages/extensions/dist/packages');
const configurations = resolve('packages/extensions/dist/guest-configurations-packages');
/** The publisher the demo signs the built-in guest configurations as. */
const configurationPublisher = 'Tether.GuestConfiguration';
/** Tether's built-in initiative of the three Linux guest configuration audits. */
const linuxInitiative = '4d2c9e71-6a3b-48f0-9b15-c7e0a8d3f962';
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
  [
    'server',
    '--data-dir',
    dataDir,
    '--listen',
    listen,
    '--portal-listen',
    portalListen,
    '--log-level',
    'warn',
  ],
  {},
);
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (String(chunk).includes('tether listening on')) onListening();
});

function onListening() {
  signIn();
  const person = ensurePortalUser();
  publishFirstPartyExtensions();
  publishBuiltInConfigurations();
  const agent = startDemoAgent();
  const sub = `/subscriptions/${credentials.subscriptionId}`;
  console.log(`
Tether is running at ${endpoint} (data in ${dataDir}).

Open the portal at https://${portalListen}/ (your browser will ask you to accept the demo
certificate, from the CA in ${credentials.caCert}) and sign in as ${person.userPrincipalName}
with the password in ${portalUserFile}.

First sign in from another terminal with the bootstrap Owner (credentials in ${credentialsFile}),
as a profile of its own named demo, so that any other sign-in you keep stays as it is; every
command below uses that profile:

  npx tether login --profile demo --service-principal -u ${credentials.appId} \\
    -p "$(node -p "require('${credentialsFile}').password")" \\
    --tenant ${credentials.tenantId} --endpoint ${endpoint} --ca-cert ${credentials.caCert}
  npx tether machine list -o table --profile demo
  npx tether sp create-for-rbac --name onboarding --role "Azure Connected Machine Onboarding" \\
    --scopes ${sub}/resourceGroups/demo --profile demo
  npx tether access show --scope ${sub}/resourceGroups/demo -o table --profile demo

(or 'export TETHER_PROFILE=demo' once, or 'npx tether account use demo' to make it the default)

${agent}

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
  seedAgentRoot();
  for (const publisher of [
    ...new Set([...firstPartyIndex().map((p) => p.publisher), configurationPublisher]),
  ]) {
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
  const gc = start(azcmagent, ['service', 'run', 'gc'], env);
  gc.stdout.pipe(process.stdout);
  return `Demo agent "demo-server" is connected (AZCMAGENT_ROOT=${agentRoot}); its HIMDS serves 127.0.0.1:${himdsPort}
and its extension service runs what the control plane asks for, if its local settings allow it.
Try: AZCMAGENT_ROOT=${agentRoot} npx azcmagent show
     npx tether machine extension create -g demo --machine-name demo-server -n hello --profile demo \\
       --publisher Microsoft.Azure.Extensions --type CustomScript --settings '{"commandToExecute":"uname -a"}'
     AZCMAGENT_ROOT=${agentRoot} npx azcmagent config set extensions.allowlist "Microsoft.Azure.Monitor/AzureMonitorLinuxAgent"
and watch the machine's agentConfiguration change in 'npx tether machine show -g demo -n demo-server --profile demo'.

Its guest configuration service audits the built-in Linux configurations. Under AZCMAGENT_ROOT the
rules read files below ${agentRoot}, not the real /etc: the demo seeded a few there
(etc/ssh/sshd_config allows root logins and passwords, so some rules fail). Assign the baseline
initiative to the demo group, ask for a scan, and see what it found:
     npx tether policy assignment create -n linux-baseline -g demo --profile demo \\
       --policy-set-definition ${linuxInitiative}
     npx tether policy state trigger-scan -g demo --profile demo
     npx tether guest-config assignment show -g demo --machine-name demo-server -n AzureLinuxBaseline -o table --profile demo
     npx tether policy state summarize -g demo -o table --profile demo
     npx tether policy state list -g demo -o table --profile demo
Switch it off on the machine and every guest configuration policy shows non-compliant:
     AZCMAGENT_ROOT=${agentRoot} npx azcmagent config set guestconfiguration.enabled false`;
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

/** A person to sign in to the portal as: Owner at the tenant root, made on the first run. */
function ensurePortalUser() {
  if (existsSync(portalUserFile)) return JSON.parse(readFileSync(portalUserFile, 'utf8'));
  const person = {
    userPrincipalName: 'admin@tether.demo',
    password: randomBytes(18).toString('base64url'),
  };
  const passwordFile = resolve(root, 'portal-password.txt');
  writeFileSync(passwordFile, person.password, { mode: 0o600 });
  run(
    tether,
    [
      'user',
      'create',
      '--display-name',
      'Demo Administrator',
      '--user-principal-name',
      person.userPrincipalName,
      '--password-file',
      passwordFile,
    ],
    profile,
  );
  run(
    tether,
    [
      'role',
      'assignment',
      'create',
      '--assignee',
      person.userPrincipalName,
      '--role',
      'Owner',
      '--scope',
      '/',
    ],
    profile,
  );
  writeFileSync(portalUserFile, JSON.stringify(person, null, 2), { mode: 0o600 });
  return person;
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

/** Signs the built-in guest configurations with the demo publisher key and uploads what is missing. */
function publishBuiltInConfigurations() {
  const index = JSON.parse(readFileSync(resolve(configurations, 'index.json'), 'utf8'));
  const published = JSON.parse(
    run(
      tether,
      ['guest-config', 'package', 'list', '--publisher', configurationPublisher],
      profile,
    ),
  );
  for (const { name, version, dir } of index) {
    if (published.some((p) => p.type === name && p.version === version)) continue;
    run(
      tether,
      [
        'guest-config',
        'package',
        'publish',
        '--dir',
        resolve(configurations, dir),
        '--publisher',
        configurationPublisher,
        '--key',
        resolve(publisherDir, 'publisher.key'),
      ],
      profile,
    );
  }
}

/** A few system files under the demo agent's root, so its audits have something to read. */
function seedAgentRoot() {
  const files = [
    [
      'etc/ssh/sshd_config',
      0o600,
      'Protocol 2\nLogLevel INFO\nMaxAuthTries 4\nPermitRootLogin yes\nPasswordAuthentication yes\nPermitEmptyPasswords no\nHostbasedAuthentication no\nLoginGraceTime 60\n',
    ],
    ['etc/group', 0o644, 'root:x:0:\ndemo:x:1000:\n'],
    ['proc/sys/net/ipv4/tcp_syncookies', 0o644, '1\n'],
    [
      'var/lib/dpkg/status',
      0o644,
      'Package: openssh-server\nStatus: install ok installed\nVersion: 1:9.6p1-3\n\n',
    ],
    ['etc/login.defs', 0o644, 'UMASK 077\nPASS_MAX_DAYS 365\nENCRYPT_METHOD SHA512\n'],
    [
      'etc/passwd',
      0o644,
      'root:x:0:0:root:/root:/bin/bash\ndemo:x:1000:1000::/home/demo:/bin/sh\n',
    ],
    [
      'etc/shadow',
      0o400,
      'root:$6$demo$hash:19000:0:99999:7:::\ndemo:$6$demo$hash:19000:0:99999:7:::\n',
    ],
  ];
  for (const [path, mode, text] of files) {
    const file = resolve(agentRoot, path);
    if (existsSync(file)) continue;
    mkdirSync(resolve(file, '..'), { recursive: true, mode: 0o755 });
    writeFileSync(file, text, { mode });
    chmodSync(file, mode);
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
