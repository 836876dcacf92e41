// The imageOffer alias from what agents report about their OS.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageOfferOf } from './resource-views.js';

const TABLE: [Record<string, unknown>, string | undefined][] = [
  [{ osType: 'linux', osName: 'Ubuntu' }, 'linux-ubuntu'],
  [{ osType: 'Linux', osName: 'Red Hat Enterprise Linux' }, 'linux-red'],
  [{ osType: 'linux', osName: 'linux' }, 'linux'],
  [{ osType: 'linux' }, 'linux'],
  [{ osName: 'Windows Server 2022 Datacenter' }, 'windows-server'],
  [{ osType: 'windows', osName: 'windows' }, 'windows'],
  [{ osName: 'Debian GNU/Linux' }, 'linux-debian'],
  [{ osType: 'linux', osSku: 'Ubuntu 22.04.4 LTS' }, 'linux-ubuntu'],
  [{}, undefined],
];

for (const [properties, expected] of TABLE) {
  void test(`${JSON.stringify(properties)} → ${String(expected)}`, () => {
    assert.equal(imageOfferOf(properties), expected);
  });
}
