// A simulated network between nodes: every message may be dropped, duplicated or delayed (which
// also reorders it), and links can be cut in one direction or both. All choices come from the
// run's seeded generator.
import type { Message, NodeId } from '../raft/types.js';
import type { Rng } from './rng.js';

export interface NetworkFaults {
  dropRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const RELIABLE: NetworkFaults = { dropRate: 0, duplicateRate: 0, minDelayMs: 1, maxDelayMs: 3 };

export class SimNetwork {
  faults: NetworkFaults = { ...RELIABLE };
  private cut = new Set<string>();
  sent = 0;
  delivered = 0;
  dropped = 0;

  /** A test's hand on the wire: may rewrite a message, or return null to drop it. */
  intercept: ((m: Message) => Message | null) | null = null;

  constructor(private readonly rng: Rng) {}

  /** Cuts the link from `from` to `to` (one way). */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** Splits the nodes into groups that cannot reach each other (both ways). */
  partition(groups: NodeId[][]): void {
    this.heal();
    for (const a of groups)
      for (const b of groups) if (a !== b) for (const x of a) for (const y of b) this.cutLink(x, y);
  }

  /** Isolates one node completely. */
  isolate(node: NodeId, all: NodeId[]): void {
    for (const other of all) {
      if (other === node) continue;
      this.cutLink(node, other);
      this.cutLink(other, node);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  isCut(from: NodeId, to: NodeId): boolean {
    return this.cut.has(`${from}>${to}`);
  }

  cutLinks(): string[] {
    return [...this.cut];
  }

  /** Decides the fate of one message: what is delivered, after which delay for each copy
   *  (no delays: dropped). */
  route(m: Message): { msg: Message; delays: number[] } {
    this.sent++;
    const msg = this.intercept ? this.intercept(m) : m;
    if (msg === null || this.isCut(m.from, m.to) || this.rng.chance(this.faults.dropRate)) {
      this.dropped++;
      return { msg: m, delays: [] };
    }
    const copies = this.rng.chance(this.faults.duplicateRate) ? 2 : 1;
    const delays: number[] = [];
    for (let i = 0; i < copies; i++) delays.push(this.rng.int(this.faults.minDelayMs, this.faults.maxDelayMs));
    return { msg, delays };
  }
}
