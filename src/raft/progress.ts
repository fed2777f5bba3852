// What a leader knows about each follower: Figure 2's nextIndex[] and matchIndex[], plus the flow
// control etcd-io/raft uses so a slow follower neither stalls nor floods:
//   probe     - we don't know where the follower's log matches ours; send one append at a time
//               and wait for the answer (or the next heartbeat reply) before sending another.
//   replicate - the follower is in step; stream appends optimistically (pipelining), at most
//               `maxInflight` unacknowledged at once.
//   snapshot  - the entries it needs are compacted; a snapshot is on its way.
import type { NodeId } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  state: ProgressState = 'probe';
  /** Highest index known to match the leader's log (Figure 2 matchIndex). */
  match = 0;
  /** Index of the next entry to send (Figure 2 nextIndex). */
  next: number;
  /** In probe: an append is outstanding, wait before sending another. */
  probeSent = false;
  /** In snapshot: the index of the snapshot being sent, and ticks spent waiting for it. */
  pendingSnapshot = 0;
  snapshotTicks = 0;
  /** Each append in flight (replicate state), oldest first: its last index and the tick it left. */
  inflight: { last: number; sentAt: number }[] = [];
  /** Heard from since the last CheckQuorum round (§6.2 of the thesis). */
  recentActive = false;
  /** Highest leadership-confirmation round this follower acknowledged (ReadIndex, leases). */
  ackedSeq = 0;
  /** The heartbeat round in which the match was last forgotten (see forgetMatch). */
  matchLostSeq = 0;
  /** Whether this peer is a learner that has already been reported as caught up. */
  caughtUpReported = false;

  constructor(
    readonly id: NodeId,
    next: number,
    private readonly maxInflight: number,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    // After a snapshot, resume right after it; otherwise right after what is known to match.
    const from = this.state === 'snapshot' ? Math.max(this.match + 1, this.pendingSnapshot + 1) : this.match + 1;
    this.state = 'probe';
    this.next = from;
    this.resetFlow();
  }

  /** A heartbeat anchored at `match` was rejected: the follower no longer holds what it once
   *  confirmed (a disk that lied about fsync). Nothing it holds is proven any more, not even the
   *  entries below its new end, which may come from an older term: the match drops to 0, and only a
   *  successful append may raise it again (a match the leader counts toward commit must be proven,
   *  or an entry could be committed on a minority). Probe as if the rejected heartbeat had been the
   *  probe, so the usual backtracking finds where the logs agree. `seq` is the current heartbeat
   *  round: replies to rounds up to it were anchored at the match just forgotten. */
  forgetMatch(rejectedIndex: number, seq: number): void {
    this.state = 'probe';
    this.match = 0;
    this.next = rejectedIndex + 1;
    this.matchLostSeq = seq;
    this.resetFlow();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.resetFlow();
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.resetFlow();
    this.pendingSnapshot = index;
  }

  private resetFlow(): void {
    this.probeSent = false;
    this.pendingSnapshot = 0;
    this.snapshotTicks = 0;
    this.inflight = [];
  }

  /** A successful reply up to `index`. Returns whether it told us anything new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    while (this.inflight.length && this.inflight[0].last <= index) this.inflight.shift();
    return updated;
  }

  /** Records an append that carried entries up to `last`, sent at tick `now`. */
  sentEntries(last: number, now: number): void {
    if (this.state === 'replicate') {
      this.next = last + 1;
      this.inflight.push({ last, sentAt: now });
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Whether the leader must hold back further appends to this follower. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= this.maxInflight;
      case 'snapshot':
        return true;
    }
  }

  /** A heartbeat reply proves the follower is alive and reachable. If an append we pipelined to
   *  it is still unacknowledged `lostAfter` ticks later, it was lost (or its reply was): fall
   *  back to probing from the match index, or the follower would wait for new proposals to
   *  reveal the gap. In probe state, allow the next probe. */
  onHeartbeatReply(now: number, lostAfter: number): void {
    this.probeSent = false;
    if (this.state === 'replicate' && this.inflight.length && now - this.inflight[0].sentAt >= lostAfter)
      this.becomeProbe();
  }
}
