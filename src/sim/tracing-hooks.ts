// Where a tracing layer plugs into the simulator: the same things a node's tracing sees (the
// core's observations, persists, applies, proposals) plus the simulated network's calls, in
// virtual time. The simulator knows nothing of OpenTelemetry: src/telemetry/sim-tracing.ts
// implements this. Without hooks the simulator does none of this work.
import type { Entry, Message, NodeId, Observation, Ready } from '../raft/types.js';

/** Trace context travelling with a simulated message (header name -> value). */
export type SimCarrier = Record<string, string>;

export interface SimTracingHooks {
  /** The simulator's virtual clock (milliseconds), given before any node starts. */
  bind(now: () => number): void;
  /** A node (re)started from its disk, on which entries up to `replayUpTo` were committed. */
  started(node: NodeId, replayUpTo: number): void;
  /** A node lost power: what it had open ends unfinished. */
  crashed(node: NodeId): void;
  observe(node: NodeId, o: Observation): void;
  /** A client proposes put(key, value) at `index`: returns the trace context for the entry. */
  proposed(node: NodeId, index: number, term: number, key: string): string;
  /** A Ready's write begins; the function returned is called when it is durable. */
  persisting(node: NodeId, rd: Ready): () => void;
  applied(node: NodeId, e: Entry): void;
  /** A message leaves `m.from`: a request starts a call (its carrier travels with it), a reply
   *  ends the call it answers on the server. `call` is the network's id of the call a request
   *  opens or a reply answers (null for ReadIndex and TimeoutNow, matched by their own fields). */
  sent(m: Message, call: number | null): SimCarrier | null;
  /** The network dropped `m` (or its receiver is down). */
  lost(m: Message, why: string, call: number | null): void;
  /** `m` is about to be stepped into its receiver. */
  delivering(m: Message, carrier: SimCarrier | null, call: number | null): void;
  /** `m` was stepped into its receiver. */
  delivered(m: Message): void;
}
