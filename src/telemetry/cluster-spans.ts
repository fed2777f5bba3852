// The cluster's life as spans, from the core's observations only: elections (with their votes,
// until the new leader is established: its no-op entry committed), leadership transfers,
// membership changes, snapshots and CheckQuorum step-downs. Decisions are on the observations'
// typed fields, never on their prose.
import { ROOT_CONTEXT, SpanStatusCode, trace, type Context, type Span } from '@opentelemetry/api';
import type { Observation } from '../raft/types.js';
import { ATTR, SPAN } from './names.js';
import { addEvent, endSpan, startRoot, type SpanEnv } from './span-env.js';

interface Election {
  span: Span;
  ctx: Context;
  term: number;
  /** Set once won: the new leader's no-op entry (its index once appended). The election's story
   *  ends when that entry commits, so its first AppendEntries round is in the trace. */
  won: { noop: number | null } | null;
}

export class ClusterSpans {
  private election: Election | null = null;
  private transfer: { span: Span; ctx: Context } | null = null;

  constructor(private readonly env: SpanEnv) {}

  /** The election a RequestVote belongs to. */
  electionContext(): Context | null {
    return this.election && !this.election.won ? this.election.ctx : null;
  }

  /** The won election whose no-op entry `indexes` carries, if any. */
  establishingContext(hasIndex: (index: number) => boolean): Context | null {
    const e = this.election;
    return e?.won?.noop != null && hasIndex(e.won.noop) ? e.ctx : null;
  }

  transferContext(): Context | null {
    return this.transfer?.ctx ?? null;
  }

  /** The election's span while it runs (log lines during an election lead to its trace). */
  activeElectionSpan(): Span | null {
    return this.election?.span ?? null;
  }

  observe(o: Observation): void {
    const env = this.env;
    switch (o.type) {
      case 'became_pre_candidate':
      case 'became_candidate': {
        const term = o.type === 'became_pre_candidate' ? o.term + 1 : o.term;
        if (!this.election || this.election.term !== term || this.election.won) {
          this.endElection('superseded', 'a new election began');
          const span = startRoot(env, SPAN.election, 'election', {
            [ATTR.candidateId]: env.nodeId,
            [ATTR.term]: term,
            [ATTR.votesNeeded]: o.votersNeeded,
          });
          this.election = { span, ctx: trace.setSpan(ROOT_CONTEXT, span), term, won: null };
        }
        addEvent(
          env,
          this.election.span,
          o.type === 'became_pre_candidate'
            ? 'pre-candidate: asking for pre-votes'
            : `candidate in term ${o.term}${o.transfer ? ' (leadership transfer)' : ''}`,
        );
        if (o.type === 'became_candidate') env.metrics?.electionsStarted.add(1);
        break;
      }
      case 'vote_received':
        if (this.election && !this.election.won)
          addEvent(
            env,
            this.election.span,
            `${o.preVote ? 'pre-vote' : 'vote'} ${o.granted ? 'granted' : 'rejected'} by ${o.from}`,
            {
              [ATTR.voteGranted]: o.granted,
              ...(o.reason ? { [ATTR.voteRejectReason]: o.reason } : {}),
              [ATTR.voterId]: o.from,
            },
          );
        break;
      case 'election_ended':
        if (!this.election || this.election.won) break;
        this.election.span.setAttributes({
          [ATTR.votesGranted]: o.granted,
          [ATTR.votesRejected]: o.rejected,
          [ATTR.votesNeeded]: o.needed,
        });
        if (o.preVote && o.outcome === 'won')
          addEvent(env, this.election.span, 'pre-vote won: starting the real election');
        else if (o.outcome !== 'won') this.endElection(o.outcome);
        break;
      case 'became_leader':
        env.metrics?.electionsWon.add(1);
        if (this.election) {
          this.election.span.setAttributes({ [ATTR.leaderId]: env.nodeId, [ATTR.electionOutcome]: 'won' });
          addEvent(env, this.election.span, `won term ${o.term}: appending the no-op entry (§8)`);
          this.election.won = { noop: null };
        }
        break;
      case 'entries_appended':
        if (o.leader && this.election?.won && this.election.won.noop === null) this.election.won.noop = o.fromIndex;
        break;
      case 'commit_advanced': {
        const noop = this.election?.won?.noop;
        if (noop != null && o.to >= noop)
          this.endElection('won', `leader established: its no-op entry ${noop} is committed`);
        break;
      }
      case 'became_follower':
        if (this.election?.won) this.endElection('won', 'stepped down before its no-op entry committed');
        else if (this.election) this.endElection(o.cause === 'election_lost' ? 'lost' : 'superseded');
        if (this.transfer) this.endTransfer(o.cause === 'transferred' ? `handed over to ${o.leader}` : o.reason);
        if (o.leader) env.metrics?.leaderChanges.add(1);
        break;
      case 'transfer_started': {
        const span = startRoot(env, SPAN.transfer, 'admin', { [ATTR.transferTarget]: o.target, [ATTR.term]: o.term });
        this.transfer = { span, ctx: trace.setSpan(ROOT_CONTEXT, span) };
        break;
      }
      case 'transfer_timeout_now_sent':
        if (this.transfer) addEvent(env, this.transfer.span, `${o.target} is caught up: TimeoutNow sent`);
        break;
      case 'transfer_aborted':
        if (this.transfer) {
          this.transfer.span.setStatus({ code: SpanStatusCode.ERROR, message: o.reason });
          this.endTransfer(`aborted: ${o.reason}`);
        }
        break;
      case 'membership_changed':
        endSpan(
          env,
          startRoot(env, SPAN.membership, 'admin', {
            [ATTR.membershipChange]: o.change.type,
            [ATTR.membershipNode]: o.change.node,
            [ATTR.logIndex]: o.index,
            [ATTR.voters]: o.conf.voters,
            [ATTR.learners]: o.conf.learners,
          }),
        );
        break;
      case 'snapshot_created':
        endSpan(
          env,
          startRoot(env, SPAN.snapshot, 'snapshot', { [ATTR.snapshotIndex]: o.index, [ATTR.term]: o.snapshotTerm }),
        );
        break;
      case 'check_quorum_failed': {
        const span = startRoot(env, SPAN.checkQuorum, 'election', {
          [ATTR.checkQuorumActive]: o.active,
          [ATTR.checkQuorumNeeded]: o.needed,
          [ATTR.term]: o.term,
        });
        addEvent(env, span, 'leader steps down: it has not heard from a majority within an election timeout');
        endSpan(env, span);
        break;
      }
      default:
        break;
    }
  }

  private endElection(outcome: 'won' | 'lost' | 'superseded', event?: string): void {
    const e = this.election;
    if (!e) return;
    if (event) addEvent(this.env, e.span, event);
    e.span.setAttribute(ATTR.electionOutcome, outcome);
    endSpan(this.env, e.span);
    this.election = null;
  }

  private endTransfer(how: string): void {
    if (!this.transfer) return;
    addEvent(this.env, this.transfer.span, how);
    endSpan(this.env, this.transfer.span);
    this.transfer = null;
  }

  /** Ends what is open (a node stopping, a simulation being exported). */
  close(): void {
    this.endElection('superseded', 'tracing closed');
    this.endTransfer('tracing closed');
  }
}
