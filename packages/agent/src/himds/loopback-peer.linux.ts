// Which local account is on the other end of a loopback TCP connection to HIMDS: the kernel's
// socket table (/proc/net/tcp) lists each socket with its owner's uid. Read only when HIMDS is
// under pressure, so ordinary token flows never pay for it.
import { readFileSync } from 'node:fs';

/**
 * The uid owning the client socket 127.0.0.1:`clientPort` → 127.0.0.1:`serverPort`, or
 * undefined when the table does not list it (the caller has gone) or cannot be read.
 */
export function loopbackPeerUid(
  clientPort: number,
  serverPort: number,
  table: () => string = () => readFileSync('/proc/net/tcp', 'latin1'),
): number | undefined {
  let text: string;
  try {
    text = table();
  } catch {
    return undefined;
  }
  const local = `:${hexPort(clientPort)}`;
  const remote = `:${hexPort(serverPort)}`;
  for (const line of text.split('\n')) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid …
    const fields = line.trim().split(/\s+/);
    const [, localAddress, remoteAddress, , , , , uid] = fields;
    if (localAddress?.endsWith(local) !== true || remoteAddress?.endsWith(remote) !== true)
      continue;
    const owner = Number(uid);
    if (Number.isInteger(owner)) return owner;
  }
  return undefined;
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}
