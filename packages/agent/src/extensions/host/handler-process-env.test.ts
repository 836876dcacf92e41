// What handlers inherit: only what a program needs to run, never the service's other variables.
import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { handlerProcessEnv } from './handler-process-env.js';

const options = {
  himdsPort: 40342,
  endpoint: 'https://tether.example:8443',
  resourceId: '/subscriptions/s/resourceGroups/g/providers/Microsoft.HybridCompute/machines/m',
  caFile: '/var/opt/azcmagent/ca.crt',
};

void test('handlers get locale, home and proxies, and where HIMDS and the control plane are', () => {
  const env = handlerProcessEnv(options, 7, {
    HOME: '/root',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    https_proxy: 'http://proxy:3128',
    NO_PROXY: 'localhost',
    PATH: '/evil/bin',
  });
  assert.deepEqual(env, {
    HOME: '/root',
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    TZ: 'UTC',
    https_proxy: 'http://proxy:3128',
    NO_PROXY: 'localhost',
    ConfigSequenceNumber: '7',
    IDENTITY_ENDPOINT: 'http://127.0.0.1:40342/metadata/identity/oauth2/token',
    IMDS_ENDPOINT: 'http://127.0.0.1:40342',
    TETHER_ENDPOINT: options.endpoint,
    TETHER_RESOURCE_ID: options.resourceId,
    NODE_EXTRA_CA_CERTS: options.caFile,
    PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
  });
});

void test("nothing else of the service's environment reaches a handler", () => {
  const env = handlerProcessEnv(options, 1, {
    DATABASE_URL: 'postgres://tether:pw@db/tether',
    AZURE_CLIENT_SECRET: 'x',
    SMTP_PASS: 'y',
    NODE_OPTIONS: '--require /tmp/hook.js',
    LD_PRELOAD: '/tmp/evil.so',
    ConfigSequenceNumber: '99',
    IDENTITY_ENDPOINT: 'http://attacker',
  });
  for (const name of [
    'DATABASE_URL',
    'AZURE_CLIENT_SECRET',
    'SMTP_PASS',
    'NODE_OPTIONS',
    'LD_PRELOAD',
  ]) {
    assert.equal(env[name], undefined, name);
  }
  assert.equal(env.ConfigSequenceNumber, '1');
  assert.equal(env.IDENTITY_ENDPOINT, 'http://127.0.0.1:40342/metadata/identity/oauth2/token');
});

void test("the agent's proxy settings replace the proxy variables the service inherited", () => {
  const env = handlerProcessEnv(
    {
      ...options,
      proxyEnv: () => ({
        https_proxy: 'http://agent-proxy:3128',
        HTTPS_PROXY: 'http://agent-proxy:3128',
        no_proxy: 'localhost,127.0.0.1',
        NO_PROXY: 'localhost,127.0.0.1',
      }),
    },
    1,
    { HTTPS_PROXY: 'http://old:1', no_proxy: '.corp', http_proxy: 'http://plain:80' },
  );
  assert.equal(env.https_proxy, 'http://agent-proxy:3128');
  assert.equal(env.HTTPS_PROXY, 'http://agent-proxy:3128');
  assert.equal(env.no_proxy, 'localhost,127.0.0.1');
  assert.equal(env.NO_PROXY, 'localhost,127.0.0.1');
  assert.equal(env.http_proxy, 'http://plain:80', 'plain http is not the agent proxy setting');
  const none = handlerProcessEnv({ ...options, proxyEnv: () => undefined }, 1, {
    https_proxy: 'http://inherited:1',
  });
  assert.equal(none.https_proxy, 'http://inherited:1', 'no proxy.url: the inherited one stays');
});
