// How every benchmark's floor server (a child process) starts and stops: it listens on an
// ephemeral port of 127.0.0.1, says `floor listening on <port>` on stdout for the bench to read,
// and closes at once on SIGTERM.
import type { Server } from 'node:http';

export function serveFloorUntilTerminated(server: Server): void {
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(
      `floor listening on ${typeof address === 'object' && address !== null ? address.port : 0}\n`,
    );
  });
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
