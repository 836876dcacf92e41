// Each request's logger binds its request id, as Fastify's own does, but the pino child that
// carries the binding is made only when the request logs something at an enabled level. At the
// levels a server runs at most requests log nothing, and making a child for each cost a few
// per cent of an authorized GET.
import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level } from 'pino';

/** Fastify's logger, which is pino's when the server configures one. */
type ParentLogger = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean };

class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: ParentLogger,
    private readonly bindings: Bindings,
  ) {}

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.child().level = level;
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings?: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings);
    return bindings === undefined ? this.made : this.made.child(bindings, options);
  }

  private write(level: Level, args: unknown[]): void {
    if (this.made === undefined && this.parent.isLevelEnabled?.(level) === false) return;
    const child = this.child();
    Reflect.apply(child[level], child, args);
  }
}

/**
 * Fastify's `childLoggerFactory` for a pino root logger. A route with its own level or
 * serializers gets an ordinary child, made at once.
 */
export const lazyRequestLoggers: NonNullable<FastifyServerOptions['childLoggerFactory']> = (
  logger,
  bindings,
  options,
) => {
  if (options.level !== undefined || options.serializers !== undefined) {
    return logger.child(bindings, options);
  }
  return new LazyRequestLogger(logger, bindings);
};
