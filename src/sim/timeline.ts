// Turns the core's observations into the one-line-per-event timeline `raft-otel sim` prints.
import type { NodeId, Observation } from '../raft/types.js';

export function describe(o: Observation): string {
  switch (o.type) {
    case 'became_follower':
      return `became follower${o.leader ? ` of ${o.leader}` : ''} (${o.reason})`;
    case 'became_pre_candidate':
      return `became pre-candidate: asking for pre-votes for term ${o.term + 1} (needs ${o.votersNeeded})`;
    case 'became_candidate':
      return `became candidate${o.transfer ? ' (leadership transfer)' : ''}, needs ${o.votersNeeded} votes`;
    case 'became_leader':
      return `became LEADER with votes from ${o.votes.join(', ')}`;
    case 'term_changed':
      return `term ${o.from} -> ${o.term} (${o.cause})`;
    case 'election_ended':
      return `${o.preVote ? 'pre-vote' : 'election'} ${o.outcome}: ${o.granted} granted, ${o.rejected} rejected, ${o.needed} needed`;
    case 'vote_received':
      return `${o.preVote ? 'pre-vote' : 'vote'} from ${o.from}: ${o.granted ? 'granted' : `rejected (${o.reason})`}`;
    case 'vote_cast':
      return `${o.granted ? 'granted' : 'refused'} ${o.preVote ? 'pre-vote' : 'vote'} to ${o.candidate}${o.reason ? ` (${o.reason})` : ''}`;
    case 'entries_appended':
      return `${o.leader ? 'proposed' : 'appended'} entries ${o.fromIndex}..${o.toIndex}`;
    case 'entries_truncated':
      return `truncated conflicting entries ${o.fromIndex}..${o.toIndex}`;
    case 'append_rejected':
      return `rejected append from ${o.leader} at prev ${o.prevLogIndex}/t${o.prevLogTerm} (hint: index ${o.conflictIndex}, term ${o.conflictTerm})`;
    case 'follower_backtracked':
      return `backtracked ${o.peer} to next=${o.nextIndex} (rejected ${o.rejectedIndex}, hint ${o.conflictIndex}/t${o.conflictTerm})`;
    case 'commit_advanced':
      return `commit ${o.from} -> ${o.to}`;
    case 'snapshot_created':
      return `compacted log into a snapshot at ${o.index}`;
    case 'snapshot_sent':
      return `sent snapshot at ${o.index} to ${o.peer}`;
    case 'snapshot_installed':
      return `installed snapshot at ${o.index} from ${o.leader}`;
    case 'membership_changed':
      return `membership ${o.change.type} ${o.change.node} at ${o.index}: voters [${o.conf.voters.join(',')}] learners [${o.conf.learners.join(',')}]`;
    case 'learner_caught_up':
      return `learner ${o.peer} caught up at ${o.matchIndex}`;
    case 'transfer_started':
      return `leadership transfer to ${o.target} started`;
    case 'transfer_timeout_now_sent':
      return `sent TimeoutNow to ${o.target}`;
    case 'transfer_aborted':
      return `leadership transfer to ${o.target} aborted (${o.reason})`;
    case 'check_quorum_failed':
      return `CheckQuorum failed: heard from ${o.active}, needs ${o.needed}`;
    case 'read_index_ready':
      return `read ${o.requestId} ready at index ${o.index}${o.lease ? ' (lease)' : ''}`;
    case 'read_index_failed':
      return `read ${o.requestId} failed (${o.reason})`;
    case 'message_rejected':
      return `rejected ${o.messageType} from ${o.from}: ${o.reason}`;
  }
}

export class Timeline {
  readonly lines: string[] = [];

  constructor(private readonly enabled: boolean) {}

  add(timeMs: number, node: NodeId, term: number | null, text: string): void {
    if (!this.enabled) return;
    const t = `${timeMs}`.padStart(7);
    const who = node.padEnd(4);
    const tm = term === null ? '    ' : `t${term}`.padEnd(4);
    this.lines.push(`${t}ms  ${who} ${tm} ${text}`);
  }
}
