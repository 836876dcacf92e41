// Downloads a signed package from the control plane's package repository entry: its metadata
// (the publisher's signature) and then its zip, under the package size limit and a deadline.
// Verification is the caller's: nothing here trusts the bytes.
import { MAX_PACKAGE_BYTES } from '@tether/protocol/extension-package';
import { AgentError } from '../../errors.js';
import type { FetchedPackage } from '../extension-host.js';
import { jsonBody } from './https-request.js';
import { refusedAnswer, type MachineClient } from './machine-client.js';

const CALL_TIMEOUT_MS = 30_000;
const CALL_DEADLINE_MS = 60_000;
/** A download runs while the extension host holds the state lock that `extension remove` waits for. */
const DOWNLOAD_DEADLINE_MS = 10 * 60_000;
const MAX_JSON_BYTES = 16 * 1024 * 1024;

/**
 * `entryUrl` is `…/providers/Tether.Extensions/publishers/{p}/types/{t}/versions/{v}` on the
 * control plane; `what` names the package in errors.
 */
export async function downloadSignedPackage(
  client: MachineClient,
  entryUrl: string,
  apiVersion: string,
  what: string,
): Promise<FetchedPackage> {
  const metadata = await client.call({
    method: 'GET',
    url: `${entryUrl}?api-version=${apiVersion}`,
    accept: 'application/json',
    timeoutMs: CALL_TIMEOUT_MS,
    deadlineMs: CALL_DEADLINE_MS,
    maxBytes: MAX_JSON_BYTES,
  });
  if (metadata.status !== 200)
    throw refusedAnswer(`serve the package metadata of ${what}`, metadata);
  const signature = jsonBody(metadata)['signature'];
  if (typeof signature !== 'string' || signature === '') {
    throw new AgentError(
      'ERR_CONTROL_PLANE_REFUSED',
      `The control plane's metadata for ${what} has no signature.`,
    );
  }
  const zip = await client.call({
    method: 'GET',
    url: `${entryUrl}/package?api-version=${apiVersion}`,
    accept: 'application/zip',
    timeoutMs: CALL_TIMEOUT_MS,
    deadlineMs: DOWNLOAD_DEADLINE_MS,
    maxBytes: MAX_PACKAGE_BYTES,
  });
  if (zip.status !== 200) throw refusedAnswer(`serve the package ${what}`, zip);
  return { zip: new Uint8Array(zip.body), signature };
}
