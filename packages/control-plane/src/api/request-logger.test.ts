// Request loggers made lazily still log what an eager child would, bound to the request id,
// and nothing below the configured level.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import fastify from 'fastify';
import { lazyRequestLoggers } from './request-logger.js';

function appLoggingAt(level: string, lines: string[]) {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const app = fastify({
    logger: { level, stream },
    disableRequestLogging: true,
    childLoggerFactory: lazyRequestLoggers,
  });
  app.get('/log', (request, reply) => {
    request.log.info({ step: 'info' }, 'informing');
    request.log.error({ step: 'error' }, 'failing');
    request.log.child({ extra: 1 }).warn('from a child');
    return reply.send({ level: request.log.level });
  });
  return app;
}

void describe('lazy request loggers', () => {
  void it('log with the request id, at and above the level only', async () => {
    const lines: string[] = [];
    const app = appLoggingAt('warn', lines);
    const response = await app.inject({ method: 'GET', url: '/log' });
    assert.deepEqual(response.json(), { level: 'warn' });
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      logged.map((l) => l['msg']),
      ['failing', 'from a child'],
    );
    for (const line of logged) assert.equal(line['reqId'], 'req-1');
    assert.equal(logged[0]?.['step'], 'error');
    assert.equal(logged[1]?.['extra'], 1);
    await app.close();
  });

  void it('log info lines too when the server runs at info', async () => {
    const lines: string[] = [];
    const app = appLoggingAt('info', lines);
    await app.inject({ method: 'GET', url: '/log' });
    const first = JSON.parse(lines[0] ?? '{}') as Record<string, unknown>;
    assert.equal(first['msg'], 'informing');
    assert.equal(first['reqId'], 'req-1');
    assert.equal(lines.length, 3);
    await app.close();
  });
});
