// A linearizability checker for key/value histories: the Wing-Gong search with Lowe's memoization
// (as in Porcupine and Knossos), over a register model with read, write and compare-and-set.
// Keys are independent registers, so each key's history is checked on its own (P-compositionality),
// which keeps the search small.
//
// An operation whose outcome is unknown (a timeout, a lost connection, a 504) may have taken effect
// at any time after it was invoked, or never: it is given an infinite return time, so the search
// may place it anywhere after its call, including after everything else (where it changes nothing
// anyone observed). Reads with unknown outcome tell nothing and are left out.

export type OpKind = 'read' | 'write' | 'cas';

export interface Op {
  id: number;
  client: number;
  key: string;
  kind: OpKind;
  /** write: the value written; cas: the new value. */
  value?: string;
  /** cas: the value expected (null: absent). */
  expected?: string | null;
  /** ok: completed, with the result below; unknown: may or may not have taken effect. Definite
   *  failures (never applied) are not part of a history. */
  status: 'ok' | 'unknown';
  /** read: the value seen (null: absent). */
  result?: string | null;
  /** cas: whether it swapped. */
  swapped?: boolean;
  /** Invocation and completion times, in ms on one monotonic clock; ret is Infinity if unknown. */
  call: number;
  ret: number;
  /** Where it ran, so a learner can find it in the traces. */
  node?: string;
  index?: number;
  traceId?: string;
}

type State = string | null;

/** The register: the state after `op`, or undefined if `op` cannot happen in `state`. */
function step(state: State, op: Op): State | undefined {
  switch (op.kind) {
    case 'read':
      return op.result === state ? state : undefined;
    case 'write':
      return op.value!;
    case 'cas':
      if (op.status === 'unknown') return state === op.expected ? op.value! : state;
      if (op.swapped) return state === op.expected ? op.value! : undefined;
      return state !== op.expected ? state : undefined;
  }
}

interface Node {
  op: number;
  isCall: boolean;
  time: number;
  prev: Node | null;
  next: Node | null;
  match: Node | null; // a call's return
}

export interface KeyFailure {
  key: string;
  /** The operation no order could explain, and the state the register had there. */
  culprit: Op;
  stateBefore: State;
  /** Operations linearized before it, in order (the longest explanation found). */
  prefix: Op[];
  /** Operations concurrent with the culprit. */
  concurrent: Op[];
}

export interface CheckResult {
  linearizable: boolean;
  keys: number;
  ops: number;
  failures: KeyFailure[];
}

export function checkHistory(history: Op[], initial: State = null): CheckResult {
  const byKey = new Map<string, Op[]>();
  for (const op of history) {
    if (op.kind === 'read' && op.status !== 'ok') continue;
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const failures: KeyFailure[] = [];
  let ops = 0;
  for (const [key, list] of byKey) {
    ops += list.length;
    const f = checkKey(key, list, initial);
    if (f) failures.push(f);
  }
  return { linearizable: failures.length === 0, keys: byKey.size, ops, failures };
}

function checkKey(key: string, ops: Op[], initial: State): KeyFailure | null {
  // The event list: calls and returns in time order (a call before a return at the same instant,
  // so operations that touch are treated as concurrent).
  const events: { op: number; isCall: boolean; time: number }[] = [];
  ops.forEach((o, i) => {
    events.push({ op: i, isCall: true, time: o.call });
    events.push({ op: i, isCall: false, time: o.ret });
  });
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, time: -Infinity, prev: null, next: null, match: null };
  let tail = head;
  const callNode = new Map<number, Node>();
  for (const e of events) {
    const n: Node = { ...e, prev: tail, next: null, match: null };
    tail.next = n;
    tail = n;
    if (e.isCall) callNode.set(e.op, n);
    else callNode.get(e.op)!.match = n;
  }

  const lift = (n: Node) => {
    n.prev!.next = n.next;
    if (n.next) n.next.prev = n.prev;
    const m = n.match!;
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  };
  const unlift = (n: Node) => {
    const m = n.match!;
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
    n.prev!.next = n;
    if (n.next) n.next.prev = n;
  };

  let linearized = 0n;
  let state: State = initial;
  const cache = new Map<bigint, Set<State>>();
  const stack: { node: Node; state: State }[] = [];
  let best = { depth: -1, culprit: -1, state: initial, order: [] as number[] };
  let entry = head.next;
  while (head.next !== null) {
    if (entry!.isCall) {
      const next = step(state, ops[entry!.op]);
      if (next !== undefined) {
        const lin = linearized | (1n << BigInt(entry!.op));
        let seen = cache.get(lin);
        if (!seen) cache.set(lin, (seen = new Set()));
        if (!seen.has(next)) {
          seen.add(next);
          stack.push({ node: entry!, state });
          state = next;
          linearized = lin;
          lift(entry!);
          entry = head.next;
          continue;
        }
      }
      entry = entry!.next;
    } else {
      // An operation returned before any explanation placed it: undo the last choice.
      if (stack.length > best.depth)
        best = { depth: stack.length, culprit: entry!.op, state, order: stack.map((s) => s.node.op) };
      if (stack.length === 0) {
        const culprit = ops[best.culprit];
        return {
          key,
          culprit,
          stateBefore: best.state,
          prefix: best.order.map((i) => ops[i]),
          concurrent: ops.filter((o) => o !== culprit && o.call < culprit.ret && o.ret > culprit.call),
        };
      }
      const top = stack.pop()!;
      state = top.state;
      linearized &= ~(1n << BigInt(top.node.op));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return null;
}

/** One line per operation, for reports: what it did, when, where. */
export function describeOp(o: Op, t0 = 0): string {
  const what =
    o.kind === 'read'
      ? `read ${o.key} -> ${JSON.stringify(o.result)}`
      : o.kind === 'write'
        ? `write ${o.key} = ${JSON.stringify(o.value)}`
        : `cas ${o.key} ${JSON.stringify(o.expected)} -> ${JSON.stringify(o.value)}${o.status === 'ok' ? (o.swapped ? ' (swapped)' : ' (not swapped)') : ''}`;
  const when = `[${(o.call - t0).toFixed(1)} ms, ${Number.isFinite(o.ret) ? `${(o.ret - t0).toFixed(1)} ms` : 'unknown outcome'}]`;
  const where = [
    o.node && `via ${o.node}`,
    o.index !== undefined && `index ${o.index}`,
    o.traceId && `trace ${o.traceId}`,
  ]
    .filter(Boolean)
    .join(', ');
  return `#${o.id} client ${o.client}: ${what} ${when}${where ? ` (${where})` : ''}`;
}

export function describeFailure(f: KeyFailure, t0 = 0): string {
  return [
    `key "${f.key}": no order of the operations explains ${describeOp(f.culprit, t0)}`,
    `  the register held ${JSON.stringify(f.stateBefore)} after the longest explanation found:`,
    ...f.prefix.slice(-8).map((o) => `    ${describeOp(o, t0)}`),
    `  operations concurrent with it:`,
    ...f.concurrent.slice(0, 12).map((o) => `    ${describeOp(o, t0)}`),
  ].join('\n');
}
