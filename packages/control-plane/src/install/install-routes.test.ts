// The install routes hand a new machine, without a token, the configured agent package (else the
// newest published one) and a script that checks it against the package's digest; without a
// package both say how to add one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TEST_PUBLIC_URL, TestControlPlane } from '../server/testing/test-control-plane.js';

void describe('install routes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tether-install-routes-'));
  const deb = join(dir, 'azcmagent.deb');
  const content = randomBytes(4096);
  let cp: TestControlPlane;
  let bare: TestControlPlane;
  before(async () => {
    writeFileSync(deb, content);
    cp = await TestControlPlane.start(undefined, { agentPackage: deb });
    bare = await TestControlPlane.start();
  });
  after(async () => {
    await cp.close();
    await bare.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('serves the package as it is on disk, without a token', async () => {
    const answer = await cp.app.inject({ method: 'GET', url: '/install/azcmagent_amd64.deb' });
    assert.equal(answer.statusCode, 200);
    assert.equal(answer.headers['content-type'], 'application/vnd.debian.binary-package');
    assert.deepEqual(answer.rawPayload, content);
  });

  void it('serves a valid shell script naming this server and the digest of the package', async () => {
    const answer = await cp.app.inject({ method: 'GET', url: '/install/azcmagent.sh' });
    assert.equal(answer.statusCode, 200);
    assert.match(String(answer.headers['content-type']), /^text\/x-shellscript/);
    const script = answer.body;
    assert.ok(script.includes(`ENDPOINT='${TEST_PUBLIC_URL}'`));
    const digest = createHash('sha256').update(content).digest('hex');
    assert.ok(script.includes(`PACKAGE_SHA256='${digest}'`));
    const syntax = spawnSync('sh', ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);

    // A new package file is what the next script checks against.
    const newer = randomBytes(2048);
    writeFileSync(deb, newer);
    const again = await cp.app.inject({ method: 'GET', url: '/install/azcmagent.sh' });
    assert.ok(again.body.includes(createHash('sha256').update(newer).digest('hex')));
    writeFileSync(deb, content);
  });

  void it('answers 404 saying how to configure a package when there is none', async () => {
    for (const url of ['/install/azcmagent.sh', '/install/azcmagent_amd64.deb']) {
      const answer = await bare.request('GET', url);
      assert.equal(answer.status, 404, url);
      assert.match(JSON.stringify(answer.body), /--agent-package FILE/);
    }
  });

  void it('without a configured file, serves the newest agent package published for upgrades', async () => {
    const published = [
      { version: '1.9.0', bytes: randomBytes(512) },
      { version: '1.10.0', bytes: randomBytes(512) },
    ];
    for (const { version, bytes } of published) {
      await bare.db
        .insertInto('agent_packages')
        .values({
          version,
          sha256: createHash('sha256').update(bytes).digest('hex'),
          size: bytes.byteLength,
          signature: '',
          content: bytes.toString('base64'),
          published_at: new Date(bare.clock.now()).toISOString(),
          published_by: 'test',
        })
        .execute();
    }
    const newest = published[1]?.bytes ?? Buffer.alloc(0);
    const answer = await bare.app.inject({ method: 'GET', url: '/install/azcmagent_amd64.deb' });
    assert.equal(answer.statusCode, 200);
    assert.deepEqual(answer.rawPayload, newest);
    const script = await bare.app.inject({ method: 'GET', url: '/install/azcmagent.sh' });
    assert.ok(script.body.includes(createHash('sha256').update(newest).digest('hex')));
  });
});
