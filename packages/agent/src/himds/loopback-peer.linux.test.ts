// The socket table lookup: the uid of a loopback caller, from a fixture and from a real socket.
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { loopbackPeerUid } from './loopback-peer.linux.js';

const TABLE = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9D96 00000000:0000 0A 00000000:00000000 00:00000000 00000000   998        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:9D96 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:9D96 0100007F:C350 01 00000000:00000000 00:00000000 00000000   998        0 3 1 0000000000000000 20 4 30 10 -1
`;

void test('finds the owner of the client socket, not the server side', () => {
  assert.equal(
    loopbackPeerUid(0xc350, 40342, () => TABLE),
    1001,
  );
});

void test('answers undefined for a connection the table does not list, or an unreadable table', () => {
  assert.equal(
    loopbackPeerUid(0xc351, 40342, () => TABLE),
    undefined,
  );
  assert.equal(
    loopbackPeerUid(0xc350, 40342, () => {
      throw new Error('EACCES');
    }),
    undefined,
  );
});

void test('names this process as the owner of its own loopback connection', async () => {
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const serverPort = (server.address() as AddressInfo).port;
  const client = connect(serverPort, '127.0.0.1');
  await new Promise<void>((resolve) => client.once('connect', resolve));
  try {
    assert.equal(loopbackPeerUid(client.localPort ?? 0, serverPort), process.geteuid?.());
  } finally {
    client.destroy();
    server.close();
  }
});
