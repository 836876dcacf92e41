// Gets tokens from Tether with the unmodified @azure/identity ClientSecretCredential or
// ClientCertificateCredential (authorityHost = Tether, instance discovery off), then optionally
// calls an authenticated endpoint with the last one. Input: one JSON argument; output: JSON.
import { request } from 'node:https';
import {
  ClientCertificateCredential,
  ClientSecretCredential,
  type TokenCredential,
} from '@azure/identity';

interface Input {
  authorityHost: string;
  tenantId: string;
  clientId: string;
  clientSecret?: string;
  /** PEM file with the certificate and its private key. */
  certificatePath?: string;
  scopes: string[];
  /** A URL to GET with the last token (through Node's own https and NODE_EXTRA_CA_CERTS). */
  call?: string;
}

function credentialFor(input: Input): TokenCredential {
  const options = { authorityHost: input.authorityHost, disableInstanceDiscovery: true };
  if (input.certificatePath !== undefined) {
    return new ClientCertificateCredential(
      input.tenantId,
      input.clientId,
      input.certificatePath,
      options,
    );
  }
  return new ClientSecretCredential(
    input.tenantId,
    input.clientId,
    input.clientSecret ?? '',
    options,
  );
}

function get(
  url: string,
  token: string,
): Promise<{ status: number; wwwAuthenticate: string | undefined; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        const header = res.headers['www-authenticate'];
        resolve({
          status: res.statusCode ?? 0,
          wwwAuthenticate: header,
          body: text === '' ? null : (JSON.parse(text) as unknown),
        });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function main(): Promise<unknown> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  const credential = credentialFor(input);
  const tokens = [];
  try {
    for (const scope of input.scopes) {
      const token = await credential.getToken(scope);
      if (token === null) throw new Error(`no token for ${scope}`);
      tokens.push({ scope, token: token.token, expiresOnTimestamp: token.expiresOnTimestamp });
    }
  } catch (error) {
    const e = error as { name?: string; message?: string };
    return { ok: false, tokens, error: { name: e.name, message: e.message } };
  }
  const last = tokens.at(-1);
  const call =
    input.call === undefined || last === undefined ? undefined : await get(input.call, last.token);
  return { ok: true, tokens, call };
}

main().then(
  (answer) => process.stdout.write(`${JSON.stringify(answer)}\n`),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  },
);
