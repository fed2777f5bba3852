// Promises a node hands out and settles later: a client's write waiting for its entry to be
// applied, an RPC being served waiting for the core's reply, a read waiting for its read index or
// for the applied index to reach it. Each has a deadline, so nothing waits forever.

interface Waiter<V, M> {
  resolve: (v: V) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  meta: M;
}

/** Waiters by key, each carrying `meta` (what the settler needs to know about it). */
export class Waiters<K, V, M = undefined> {
  private map = new Map<K, Waiter<V, M>>();

  /** Waits for `key` to be settled; after `ms`, rejects with what `onTimeout` returns. */
  wait(key: K, ms: number, onTimeout: () => Error, meta: M): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.map.delete(key);
        reject(onTimeout());
      }, ms);
      this.map.set(key, { resolve, reject, timer, meta });
    });
  }

  meta(key: K): M | undefined {
    return this.map.get(key)?.meta;
  }

  keys(): K[] {
    return [...this.map.keys()];
  }

  resolve(key: K, value: V): void {
    this.take(key)?.resolve(value);
  }

  reject(key: K, error: Error): void {
    this.take(key)?.reject(error);
  }

  /** Forgets `key` without settling it (its promise was never handed out). */
  cancel(key: K): void {
    this.take(key);
  }

  rejectAll(error: () => Error): void {
    for (const key of this.keys()) this.reject(key, error());
  }

  private take(key: K): Waiter<V, M> | undefined {
    const w = this.map.get(key);
    if (!w) return undefined;
    clearTimeout(w.timer);
    this.map.delete(key);
    return w;
  }
}

/** Waiters released once an index (the applied index) reaches theirs. */
export class IndexWaiters {
  private waiting = new Waiters<number, void>();
  private indexes = new Map<number, number>();
  private next = 0;

  wait(index: number, ms: number, onTimeout: () => Error): Promise<void> {
    const id = ++this.next;
    this.indexes.set(id, index);
    return this.waiting.wait(id, ms, onTimeout, undefined).finally(() => this.indexes.delete(id));
  }

  release(reached: number): void {
    for (const [id, index] of this.indexes) if (index <= reached) this.waiting.resolve(id, undefined);
  }

  rejectAll(error: () => Error): void {
    this.waiting.rejectAll(error);
  }
}
