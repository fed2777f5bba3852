// Fault injection between peers, switchable at run time (the admin API, `raft-otel chaos`,
// `raft-otel partition`) with environment-variable defaults:
//   RAFT_CHAOS_DROP        fraction of outgoing requests dropped before they are sent (0..1)
//   RAFT_CHAOS_DROP_REPLY  fraction of incoming requests whose reply is dropped after the
//                          handler ran (the sender cannot tell this from a lost request)
//   RAFT_CHAOS_DELAY_MS    added latency per outgoing request: "20" or a range "5-50"
//   RAFT_CHAOS_CUT         peers this node cannot talk to, both ways: "n2,n3"
// One-way cuts are set through the admin API (cutOut / cutIn).
import type { NodeId } from '../raft/types.js';

export interface ChaosSettings {
  dropRate: number;
  dropReplyRate: number;
  delayMs: [number, number];
  /** Peers this node's requests cannot reach. */
  cutOut: NodeId[];
  /** Peers whose requests cannot reach this node. */
  cutIn: NodeId[];
}

export type ChaosEvent =
  | { kind: 'dropped_request'; peer: NodeId; reason: string }
  | { kind: 'dropped_reply'; peer: NodeId }
  | { kind: 'delayed'; peer: NodeId; ms: number };

export function parseDelay(text: string): [number, number] {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(text);
  if (!m) throw new Error(`delay "${text}" is not a number of milliseconds or a range like 5-50`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (hi < lo) throw new Error(`delay range "${text}" goes down`);
  return [lo, hi];
}

function rate(name: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  if (!(n >= 0 && n <= 1)) throw new Error(`${name}=${text}: expected a fraction between 0 and 1`);
  return n;
}

export function chaosFromEnv(env: NodeJS.ProcessEnv): ChaosSettings {
  const cut = (env.RAFT_CHAOS_CUT ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    dropRate: rate('RAFT_CHAOS_DROP', env.RAFT_CHAOS_DROP),
    dropReplyRate: rate('RAFT_CHAOS_DROP_REPLY', env.RAFT_CHAOS_DROP_REPLY),
    delayMs: env.RAFT_CHAOS_DELAY_MS ? parseDelay(env.RAFT_CHAOS_DELAY_MS) : [0, 0],
    cutOut: cut,
    cutIn: [...cut],
  };
}

/** Validates settings sent to the admin API; returns why they are wrong, or null. */
export function chaosProblem(s: Partial<ChaosSettings>): string | null {
  for (const k of ['dropRate', 'dropReplyRate'] as const) {
    if (s[k] !== undefined && !(typeof s[k] === 'number' && s[k] >= 0 && s[k] <= 1))
      return `${k} must be a number between 0 and 1`;
  }
  if (s.delayMs !== undefined) {
    const d = s.delayMs;
    if (
      !Array.isArray(d) ||
      d.length !== 2 ||
      !d.every((x) => Number.isFinite(x) && x >= 0 && x <= 60_000) ||
      d[0] > d[1]
    ) {
      return 'delayMs must be [min, max] milliseconds, 0 <= min <= max <= 60000';
    }
  }
  for (const k of ['cutOut', 'cutIn'] as const) {
    if (s[k] !== undefined && !(Array.isArray(s[k]) && s[k].every((x) => typeof x === 'string')))
      return `${k} must be a list of node ids`;
  }
  return null;
}

export class Chaos {
  settings: ChaosSettings;

  constructor(
    initial: ChaosSettings,
    private readonly random: () => number = Math.random,
  ) {
    this.settings = { ...initial };
  }

  update(patch: Partial<ChaosSettings>): ChaosSettings {
    this.settings = { ...this.settings, ...patch };
    return this.settings;
  }

  /** Before sending a request to `peer`: drop it (with the reason), or delay it by some ms. */
  outbound(peer: NodeId): { drop: string | null; delayMs: number } {
    const s = this.settings;
    if (s.cutOut.includes(peer)) return { drop: `link to ${peer} is cut`, delayMs: 0 };
    if (s.dropRate > 0 && this.random() < s.dropRate) return { drop: 'request dropped', delayMs: 0 };
    const [lo, hi] = s.delayMs;
    return { drop: null, delayMs: hi > 0 ? lo + Math.floor(this.random() * (hi - lo + 1)) : 0 };
  }

  /** When a request from `peer` arrives: refuse it when the link is cut. */
  inboundCut(peer: NodeId): boolean {
    return this.settings.cutIn.includes(peer);
  }

  /** After the handler ran: drop the reply? */
  dropReply(): boolean {
    return this.settings.dropReplyRate > 0 && this.random() < this.settings.dropReplyRate;
  }
}
