// `tether guest-config`: assignments shown as a person reads them, and packages validated, zipped
// and signed as guest configurations — which an agent expecting an extension would refuse.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { GUEST_CONFIGURATION_SIGNATURE_TYPE } from '@tether/protocol';
import { signPackage, verifyPackage } from '@tether/protocol/extension-package';
import { CliTestKit, TEST_SUBSCRIPTION } from '../client/testing/cli-test-kit.js';
import type { RecordedRequest } from '../client/testing/fake-transport.js';
import { register } from './guest-config.js';

const MACHINE = `/subscriptions/${TEST_SUBSCRIPTION}/resourceGroups/demo/providers/Microsoft.HybridCompute/machines/web1`;
const GC = '/providers/Microsoft.GuestConfiguration/guestConfigurationAssignments';
const REPO =
  '/providers/Tether.Extensions/publishers/Contoso.Baselines/types/SshHardening/versions/1.0.0';
const CONFIGURATION = {
  name: 'SshHardening',
  version: '1.0.0',
  rules: [
    {
      id: '109',
      kind: 'configKey',
      title: 'Root cannot log in over SSH',
      path: '/etc/ssh/sshd_config',
      format: 'sshd',
      key: 'PermitRootLogin',
      expect: { equals: 'no' },
    },
  ],
};
const RULES = [
  {
    resourceId: '109',
    complianceStatus: 'NonCompliant',
    reasons: [{ code: 'x', phrase: 'PermitRootLogin is yes, expected no' }],
  },
  { resourceId: '110', complianceStatus: 'Compliant', reasons: [] },
];

/** Entry names, from the zip's central directory. */
function zipNames(zip: Buffer): string[] {
  const names: string[] = [];
  for (let at = zip.indexOf('PK\x01\x02', 0, 'latin1'); at >= 0;) {
    const nameLength = zip.readUInt16LE(at + 28);
    names.push(zip.toString('utf8', at + 46, at + 46 + nameLength));
    at = zip.indexOf('PK\x01\x02', at + 46 + nameLength, 'latin1');
  }
  return names;
}

void describe('tether guest-config', () => {
  let kit: CliTestKit;
  let work: string;
  let keyFile: string;
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  beforeEach(async () => {
    kit = await CliTestKit.create(register);
    await kit.signIn();
    work = await mkdtemp(join(tmpdir(), 'tether-gc-'));
    keyFile = join(work, 'publisher.key');
    await writeFile(keyFile, privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    kit.transport.on('PUT', REPO, (r) => ({ status: 201, body: metadataOf(r) }));
  });
  afterEach(async () => {
    await kit.dispose();
    await rm(work, { recursive: true, force: true });
  });
  const metadataOf = (r: RecordedRequest) => ({
    publisher: 'Contoso.Baselines',
    type: 'SshHardening',
    version: '1.0.0',
    size: 1,
    sha256: 'f'.repeat(64),
    signature: (r.body as { signature: string }).signature,
    publishedAt: '2026-06-01T12:00:00.000Z',
    publishedBy: 'release-pipeline',
  });
  const upload = () => {
    const body = kit.transport.requests.find((r) => r.method === 'PUT')?.body as
      { package: string; signature: string } | undefined;
    assert.ok(body !== undefined, 'nothing was uploaded');
    return { zip: Buffer.from(body.package, 'base64'), signature: body.signature };
  };

  void it('publish --file signs configuration.json as a guest configuration, never as an extension', async () => {
    const file = join(work, 'ssh.json');
    await writeFile(file, JSON.stringify(CONFIGURATION));
    const run = await kit.run(
      'guest-config',
      'package',
      'publish',
      '--file',
      file,
      '--publisher',
      'Contoso.Baselines',
      '--key',
      keyFile,
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Contoso\.Baselines\s+SshHardening\s+1\.0\.0/);
    const { zip, signature } = upload();
    assert.deepEqual(zipNames(zip), ['configuration.json']);
    const identity = { publisher: 'Contoso.Baselines', type: 'SshHardening', version: '1.0.0' };
    await verifyPackage(signature, [publicKey], identity, zip, GUEST_CONFIGURATION_SIGNATURE_TYPE);
    await assert.rejects(
      verifyPackage(signature, [publicKey], identity, zip),
      /of kind "tether-guest-configuration\+jws"/,
    );
  });

  void it('publish --dir zips the folder the same way every time', async () => {
    const dir = join(work, 'pkg');
    await mkdir(dir);
    await writeFile(join(dir, 'configuration.json'), JSON.stringify(CONFIGURATION));
    await writeFile(join(dir, 'README.txt'), 'notes\n');
    const args = [
      'guest-config',
      'package',
      'publish',
      '--dir',
      dir,
      '--publisher',
      'Contoso.Baselines',
      '--key',
      keyFile,
      '--name',
      'SshHardening',
      '--version',
      '1.0.0',
    ];
    assert.equal((await kit.run(...args)).exitCode, 0);
    const first = upload().zip;
    kit.transport.requests.length = 0;
    assert.equal((await kit.run(...args)).exitCode, 0);
    assert.deepEqual(upload().zip, first);
    assert.deepEqual(zipNames(first), ['README.txt', 'configuration.json']);
  });

  void it('publish refuses an invalid configuration, a name that differs, or a folder holding the key', async () => {
    const bad = join(work, 'bad.json');
    await writeFile(
      bad,
      JSON.stringify({ ...CONFIGURATION, rules: [{ id: '1', kind: 'teleport' }] }),
    );
    const invalid = await kit.run(
      'guest-config',
      'package',
      'publish',
      '--file',
      bad,
      '--publisher',
      'P',
      '--key',
      keyFile,
    );
    assert.equal(invalid.exitCode, 2);
    assert.match(invalid.stderr, /bad\.json is not a valid guest configuration: .*rule/);

    const good = join(work, 'good.json');
    await writeFile(good, JSON.stringify(CONFIGURATION));
    const renamed = await kit.run(
      'guest-config',
      'package',
      'publish',
      '--file',
      good,
      '--publisher',
      'P',
      '--name',
      'Other',
      '--key',
      keyFile,
    );
    assert.equal(renamed.exitCode, 2);
    assert.match(renamed.stderr, /--name Other differs from the name "SshHardening"/);

    await writeFile(join(work, 'configuration.json'), JSON.stringify(CONFIGURATION));
    const keyInside = await kit.run(
      'guest-config',
      'package',
      'publish',
      '--dir',
      work,
      '--publisher',
      'P',
      '--key',
      keyFile,
    );
    assert.equal(keyInside.exitCode, 2);
    assert.match(keyInside.stderr, /inside the package folder/);

    const neither = await kit.run(
      'guest-config',
      'package',
      'publish',
      '--publisher',
      'P',
      '--key',
      keyFile,
    );
    assert.equal(neither.exitCode, 2);
    assert.match(neither.stderr, /exactly one of --dir .* or --file/);
    assert.deepEqual(kit.transport.calls(), []);
  });

  void it('package list shows only guest configuration packages', async () => {
    const zip = Buffer.from('PK\x03\x04', 'latin1');
    const gc = { publisher: 'Contoso.Baselines', type: 'SshHardening', version: '1.0.0' };
    const ext = { publisher: 'Contoso.Tools', type: 'Widget', version: '1.0.0' };
    kit.transport.on('GET', '/providers/Tether.Extensions/packages', {
      body: {
        value: [
          {
            ...gc,
            signature: await signPackage(privateKey, gc, zip, GUEST_CONFIGURATION_SIGNATURE_TYPE),
          },
          { ...ext, signature: await signPackage(privateKey, ext, zip) },
        ],
      },
    });
    const run = await kit.run('guest-config', 'package', 'list', '-o', 'table');
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /SshHardening/);
    assert.doesNotMatch(run.stdout, /Widget/);
  });

  void it('assignment show prints the status, when it was checked and each rule with its reasons', async () => {
    kit.transport.on('GET', `${MACHINE}${GC}/AzureLinuxBaseline`, {
      body: {
        id: `${MACHINE}${GC}/AzureLinuxBaseline`,
        name: 'AzureLinuxBaseline',
        properties: {
          targetResourceId: MACHINE,
          guestConfiguration: {
            name: 'AzureLinuxBaseline',
            version: '1.0.0',
            assignmentType: 'Audit',
          },
          complianceStatus: 'NonCompliant',
          lastComplianceStatusChecked: '2026-06-01T11:45:00Z',
          latestAssignmentReport: { resources: RULES },
        },
      },
    });
    const run = await kit.run(
      'guest-config',
      'assignment',
      'show',
      '-g',
      'demo',
      '--machine-name',
      'web1',
      '-n',
      'AzureLinuxBaseline',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    assert.match(run.stdout, /Status:\s+NonCompliant\n/);
    assert.match(run.stdout, /Last checked:\s+2026-06-01T11:45:00Z\n/);
    assert.match(run.stdout, /Rules failing:\s+1 of 2\n/);
    assert.match(run.stdout, /\n109\s+NonCompliant\s+PermitRootLogin is yes, expected no\n/);
    assert.match(run.stdout, /\n110\s+Compliant\n/);
  });

  void it('assignment show --history lists reports with the rules failing', async () => {
    kit.transport.on('GET', `${MACHINE}${GC}/AzureLinuxBaseline/reports`, {
      body: {
        value: [
          {
            name: 'r2',
            properties: {
              complianceStatus: 'NonCompliant',
              endTime: '2026-06-01T11:45:00Z',
              details: { operationType: 'Consistency', resources: RULES },
            },
          },
          {
            name: 'r1',
            properties: {
              complianceStatus: 'Compliant',
              endTime: '2026-06-01T11:30:00Z',
              details: { operationType: 'Initial', resources: [RULES[1]] },
            },
          },
        ],
      },
    });
    const run = await kit.run(
      'guest-config',
      'assignment',
      'show',
      '-g',
      'demo',
      '--machine-name',
      'web1',
      '-n',
      'AzureLinuxBaseline',
      '--history',
      '-o',
      'table',
    );
    assert.equal(run.exitCode, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^Time\s+State\s+Operation\s+RulesFailing$/);
    assert.match(lines[2] ?? '', /^2026-06-01T11:45:00Z\s+NonCompliant\s+Consistency\s+1: 109$/);
    assert.match(lines[3] ?? '', /^2026-06-01T11:30:00Z\s+Compliant\s+Initial\s+0$/);
  });
});
