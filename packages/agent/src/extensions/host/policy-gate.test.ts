// The race between `config set extensions.blocklist` in another process and installs, with the
// real file lock: whenever a handler's install command is about to start, the blocklist on disk
// is the one the policy check saw — a change that completed before it started always wins.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { loadLocalConfig } from '../../config/local-config-file.js';
import { decideExtensionOperation } from '../../extension-policy.js';
import { harness, PUBLISHER, TYPE } from './testing/host-test-harness.js';

const ROUNDS = 80;
const module = (relative: string): string =>
  pathToFileURL(new URL(relative, import.meta.url).pathname).href;

/** A process that blocks and unblocks the extension with the real config writer until killed. */
function startToggler(root: string): ReturnType<typeof spawn> {
  const code = `
    import { agentPaths } from ${JSON.stringify(module('../../paths.js'))};
    import { updateLocalConfig } from ${JSON.stringify(module('../../config/local-config-writer.js'))};
    import { applySet, applyClear } from ${JSON.stringify(module('../../config/config-change.js'))};
    const paths = agentPaths(${JSON.stringify(root)});
    const entry = ${JSON.stringify(`${PUBLISHER}/${TYPE}`)};
    for (let i = 0; ; i++) {
      await updateLocalConfig(
        paths,
        (loaded) => i % 2 === 0
          ? applySet(loaded.stored, 'extensions.blocklist', entry, 'replace')
          : applyClear(loaded.stored, 'extensions.blocklist'),
        { lockTimeoutMs: 60_000 },
      );
      await new Promise((resolve) => setTimeout(resolve, i % 7));
    }`;
  return spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' });
}

void describe('config lock between config set and the extension service', () => {
  void test(`no blocklist change slips between the policy check and the install command (${ROUNDS} rounds)`, async () => {
    const violations: number[] = [];
    let round = 0;
    const h = harness({
      wrapLimiter: (real) => ({
        report: () => real.report(),
        command(group, command) {
          // Called just before the command's process is spawned.
          if (/ install/.test(command)) {
            const now = decideExtensionOperation(loadLocalConfig(h.temp.paths), 'install', {
              publisher: PUBLISHER,
              type: TYPE,
            });
            if (!now.allowed) violations.push(round);
          }
          return real.command(group, command);
        },
      }),
    });
    await h.publish('1.0.0', { install: 'true', enable: 'true' });
    const toggler = startToggler(h.temp.root);
    const permit = (): { code: string; message: string } | undefined => {
      const decision = decideExtensionOperation(loadLocalConfig(h.temp.paths), 'install', {
        publisher: PUBLISHER,
        type: TYPE,
      });
      return decision.allowed ? undefined : { code: decision.code, message: decision.reason };
    };
    const counts = { refused: 0, installed: 0 };
    try {
      for (round = 0; round < ROUNDS; round++) {
        await h.host.remove('probe');
        const outcome = await h.host.apply(h.desired('1.0.0', round + 1), h.fetch, permit);
        if (outcome.result === 'Succeeded') counts.installed++;
        else {
          assert.equal(outcome.error?.code, 'ERR_EXTENSION_BLOCKED', JSON.stringify(outcome));
          counts.refused++;
        }
      }
    } finally {
      toggler.kill();
      await h.remove();
    }
    assert.deepEqual(
      violations,
      [],
      `install started with the blocklist already set in rounds ${violations.join(', ')}`,
    );
    // Both sides of the race happened, or the test proved nothing.
    assert.ok(counts.refused > 0 && counts.installed > 0, JSON.stringify(counts));
  });
});
