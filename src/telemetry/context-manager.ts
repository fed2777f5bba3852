// The context manager a node registers: the active context lives for the synchronous run of
// context.with(ctx, fn) and no longer. Nothing carries it across an `await`, a timer or an I/O
// callback; what must cross one is passed by hand: the HTTP request's context rides on the
// request (telemetry/http.ts, api/respond.ts), a forwarded write's on its call (forward-spans.ts),
// and node.propose and node.read take the context of the request that asks.
//
// Why not the SDK's AsyncLocalStorageContextManager: on Node 20, an AsyncLocalStorage turns on
// async hooks for every promise, socket write and timer in the process, whether or not a trace is
// kept. Measured with tracing off and nothing else changed, registering it cut a 3-node cluster's
// throughput at 64 clients by about 15% (issue 14), more than all of tracing's own work. The
// browser SDK's StackContextManager works the same way as this one, for the same reason.
import { ROOT_CONTEXT, type Context, type ContextManager } from '@opentelemetry/api';

export class SyncContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;

  active(): Context {
    return this.current;
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }

  /** A function bound to `ctx` runs in it each time it is called; anything else is returned as is. */
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    const fn = target as unknown as (...args: unknown[]) => unknown;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => fn.apply(this, args));
    } as unknown as T;
  }

  enable(): this {
    return this;
  }

  disable(): this {
    this.current = ROOT_CONTEXT;
    return this;
  }
}
