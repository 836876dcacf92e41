// extensions.agent.cpulimit: on this kind of host (cgroup v1 or hybrid) it is reported as not
// applied, once; with a (fake) cgroup v2 root, cpu.max is written and processes join the group.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { createCpuLimiter } from './cgroup.js';
import { harness, PUBLISHER, TYPE } from './testing/host-test-harness.js';

const realV2 = existsSync('/sys/fs/cgroup/cgroup.controllers');

void describe('cpu limit', () => {
  void test(
    'without cgroup v2 the limit is not applied, logged once and reported',
    { skip: realV2 ? 'this host has cgroup v2' : false },
    async () => {
      const h = harness();
      try {
        await h.publish('1.0.0');
        await h.publish('1.1.0');
        assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
        assert.equal((await h.host.apply(h.desired('1.1.0', 2), h.fetch)).result, 'Succeeded');
        const notApplied = h.logs.filter((line) =>
          line.startsWith('extensions.agent.cpulimit 5% is not applied: '),
        );
        assert.equal(notApplied.length, 1, h.logs.join('\n'));
        assert.match(notApplied[0] ?? '', /\/sys\/fs\/cgroup is not a cgroup v2 hierarchy/);
        const report = h.host.cpuLimit();
        assert.equal(report.applied, false);
        assert.equal(report.percent, 5);
        assert.match(report.reason ?? '', /not a cgroup v2 hierarchy/);
      } finally {
        await h.remove();
      }
    },
  );

  void test('with a cgroup v2 cpu controller: cpu.max set, handler processes join the group', async () => {
    const cgroupRoot = mkdtempSync(join(tmpdir(), 'fake-cgroup-'));
    writeFileSync(join(cgroupRoot, 'cgroup.controllers'), 'cpuset cpu io memory pids\n');
    writeFileSync(join(cgroupRoot, 'cgroup.subtree_control'), 'memory\n');
    const h = harness({ cgroupRoot });
    try {
      await h.publish('1.0.0', { enable: 'echo $$ $PPID > enable.pid' });
      assert.equal((await h.host.apply(h.desired('1.0.0', 1), h.fetch)).result, 'Succeeded');
      const group = join(cgroupRoot, 'tether-extensions', `${PUBLISHER}.${TYPE}`);
      assert.equal(readFileSync(join(group, 'cpu.max'), 'utf8'), '5000 100000\n');
      assert.equal(
        readFileSync(join(cgroupRoot, 'cgroup.subtree_control'), 'utf8'),
        'memory\n+cpu\n',
      );
      assert.equal(
        readFileSync(join(cgroupRoot, 'tether-extensions/cgroup.subtree_control'), 'utf8'),
        '+cpu\n',
      );
      // The wrapper writes its pid, then execs the command's shell, which is handler.sh itself or
      // its parent: either way handler.sh runs inside the group.
      const [self, parent] = readFileSync(
        join(h.temp.paths.extensionDir(PUBLISHER, TYPE, '1.0.0'), 'enable.pid'),
        'utf8',
      )
        .trim()
        .split(' ');
      const joined = readFileSync(join(group, 'cgroup.procs'), 'utf8').trim();
      assert.ok(joined === self || joined === parent, `${joined} is ${self} or ${parent}`);
      assert.deepEqual(h.host.cpuLimit(), { percent: 5, applied: true });
      assert.ok(!h.logs.some((line) => line.includes('is not applied')));
    } finally {
      await h.remove();
      rmSync(cgroupRoot, { recursive: true, force: true });
    }
  });

  void test('a v2 hierarchy without the cpu controller, and other platforms, say why', () => {
    const cgroupRoot = mkdtempSync(join(tmpdir(), 'fake-cgroup-'));
    try {
      mkdirSync(cgroupRoot, { recursive: true });
      writeFileSync(join(cgroupRoot, 'cgroup.controllers'), 'memory pids\n');
      const lines: string[] = [];
      const limiter = createCpuLimiter({
        percent: () => 20,
        log: (line) => lines.push(line),
        cgroupRoot,
      });
      assert.deepEqual(limiter.command('A.B', 'true'), { file: '/bin/sh', args: ['-c', 'true'] });
      assert.match(limiter.report().reason ?? '', /cpu controller is not available/);
      assert.equal(lines.length, 1);
      const darwin = createCpuLimiter({
        percent: () => 20,
        log: () => undefined,
        cgroupRoot,
        platform: 'darwin',
      });
      assert.equal(darwin.report().reason, 'cgroups exist only on Linux');
    } finally {
      rmSync(cgroupRoot, { recursive: true, force: true });
    }
  });
});
