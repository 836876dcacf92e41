// Which way each agent service goes for every shape of proxy.url and proxy.bypass, what show
// says about it, what handlers get, and that credentials never appear in what is shown.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProxyBypassService } from '../config/local-config.js';
import { handlerProxyEnv } from './handler-proxy-env.js';
import {
  AGENT_SERVICES,
  chooseProxyRoute,
  describeProxy,
  maskProxyUrl,
  type ProxySettings,
} from './proxy-route.js';

const PROXY = 'http://proxy.contoso.corp:3128';

function settings(url: string, bypass: readonly ProxyBypassService[] = []): ProxySettings {
  return { 'proxy.url': url, 'proxy.bypass': bypass };
}

type Way = 'proxy' | 'direct';
/** Rows: the configuration; columns: AAD, ARM, Arc. */
const TABLE: readonly { name: string; config: ProxySettings; ways: readonly Way[] }[] = [
  { name: 'no proxy', config: settings(''), ways: ['direct', 'direct', 'direct'] },
  {
    name: 'no proxy, bypass set anyway',
    config: settings('', ['Arc']),
    ways: ['direct', 'direct', 'direct'],
  },
  { name: 'proxy, no bypass', config: settings(PROXY), ways: ['proxy', 'proxy', 'proxy'] },
  { name: 'bypass Arc', config: settings(PROXY, ['Arc']), ways: ['proxy', 'proxy', 'direct'] },
  { name: 'bypass AAD', config: settings(PROXY, ['AAD']), ways: ['direct', 'proxy', 'proxy'] },
  { name: 'bypass ARM', config: settings(PROXY, ['ARM']), ways: ['proxy', 'direct', 'proxy'] },
  {
    name: 'bypass AAD and ARM',
    config: settings(PROXY, ['AAD', 'ARM']),
    ways: ['direct', 'direct', 'proxy'],
  },
  {
    name: 'bypass all three',
    config: settings(PROXY, ['ARM', 'Arc', 'AAD']),
    ways: ['direct', 'direct', 'direct'],
  },
  {
    name: 'bypass only services the agent does not call',
    config: settings(PROXY, ['AMA', 'ArcData']),
    ways: ['proxy', 'proxy', 'proxy'],
  },
];

void describe('proxy route table', () => {
  for (const row of TABLE) {
    AGENT_SERVICES.forEach((service, index) => {
      const expected = row.ways[index];
      void test(`${row.name}: ${service} goes ${expected}`, () => {
        const route = chooseProxyRoute(row.config, service);
        assert.equal(route.kind, expected);
        if (route.kind === 'proxy') assert.equal(route.url, PROXY);
      });
    });
  }

  void test('a direct route says why: no proxy, or bypassed', () => {
    assert.deepEqual(chooseProxyRoute(settings(''), 'Arc'), { kind: 'direct', why: 'no proxy' });
    assert.deepEqual(chooseProxyRoute(settings(PROXY, ['Arc']), 'Arc'), {
      kind: 'direct',
      why: 'bypassed',
    });
  });
});

void describe('what show says', () => {
  const cases: readonly [string, ProxySettings, string][] = [
    ['no proxy', settings(''), ''],
    ['proxy for everything', settings(PROXY), PROXY],
    ['Arc bypasses', settings(PROXY, ['Arc']), `${PROXY} (bypassed for Arc)`],
    [
      'everything bypasses',
      settings(PROXY, ['AAD', 'ARM', 'Arc']),
      `${PROXY} (bypassed for AAD, ARM, Arc)`,
    ],
    ['only extension services bypass', settings(PROXY, ['AMA']), PROXY],
  ];
  for (const [name, config, expected] of cases) {
    void test(name, () => assert.equal(describeProxy(config), expected));
  }

  void test('credentials in a proxy URL are masked wherever it is shown', () => {
    const url = 'http://svc-arc:S3cret!@proxy.contoso.corp:3128';
    for (const shown of [maskProxyUrl(url), describeProxy(settings(url, ['Arc']))]) {
      assert.ok(!shown.includes('S3cret'), shown);
      assert.ok(!shown.includes('svc-arc'), shown);
      assert.ok(shown.includes('proxy.contoso.corp:3128'), shown);
    }
    assert.equal(maskProxyUrl(PROXY), PROXY);
    assert.ok(!maskProxyUrl('not a url user:pw@host').includes('pw'));
  });
});

void describe('what handlers get', () => {
  const endpoint = 'https://tether.contoso.corp:8443';

  void test('no proxy configured: nothing is set, the inherited variables stay', () => {
    assert.equal(handlerProxyEnv(settings(''), endpoint), undefined);
  });

  void test('a proxy: https_proxy in both spellings, HIMDS on loopback never proxied', () => {
    assert.deepEqual(handlerProxyEnv(settings(PROXY, ['Arc']), endpoint), {
      https_proxy: PROXY,
      HTTPS_PROXY: PROXY,
      no_proxy: 'localhost,127.0.0.1',
      NO_PROXY: 'localhost,127.0.0.1',
    });
  });

  void test('ARM bypassed: the control plane is reached directly by handlers too', () => {
    const env = handlerProxyEnv(settings(PROXY, ['ARM']), endpoint);
    assert.equal(env?.['no_proxy'], 'localhost,127.0.0.1,tether.contoso.corp');
    assert.equal(env?.['NO_PROXY'], 'localhost,127.0.0.1,tether.contoso.corp');
  });
});
