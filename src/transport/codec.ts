// Conversion between the core's messages and the protobuf messages of proto/raft.proto. A core
// message is one-way; gRPC pairs a request with its reply, so requests and replies map to the
// request and reply halves of each RPC.
import type {
  AppendEntries,
  AppendEntriesResponse,
  Entry,
  EntryType,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  ReadIndexRequest,
  ReadIndexResponse,
  RequestVote,
  RequestVoteResponse,
  TimeoutNow,
  VoteRejectReason,
} from '../raft/types.js';
import type { AppendEntriesReply__Output } from './generated/raft/AppendEntriesReply.js';
import type { AppendEntriesRequest, AppendEntriesRequest__Output } from './generated/raft/AppendEntriesRequest.js';
import type { Header, Header__Output } from './generated/raft/Header.js';
import type { InstallSnapshotReply__Output } from './generated/raft/InstallSnapshotReply.js';
import type {
  InstallSnapshotRequest,
  InstallSnapshotRequest__Output,
} from './generated/raft/InstallSnapshotRequest.js';
import type { ReadIndexReply__Output } from './generated/raft/ReadIndexReply.js';
import type {
  ReadIndexRequest as ReadIndexRequestPb,
  ReadIndexRequest__Output,
} from './generated/raft/ReadIndexRequest.js';
import type { RequestVoteReply__Output } from './generated/raft/RequestVoteReply.js';
import type { RequestVoteRequest, RequestVoteRequest__Output } from './generated/raft/RequestVoteRequest.js';
import type { TimeoutNowRequest, TimeoutNowRequest__Output } from './generated/raft/TimeoutNowRequest.js';

/** The RPC a request message travels as. */
export const METHOD_OF = {
  RequestVote: 'RequestVote',
  AppendEntries: 'AppendEntries',
  InstallSnapshot: 'InstallSnapshot',
  TimeoutNow: 'TimeoutNow',
  ReadIndex: 'ReadIndex',
} as const;
export type RpcMethod = (typeof METHOD_OF)[keyof typeof METHOD_OF];
export type RequestMessage = RequestVote | AppendEntries | InstallSnapshot | TimeoutNow | ReadIndexRequest;
export type ResponseMessage = RequestVoteResponse | AppendEntriesResponse | InstallSnapshotResponse | ReadIndexResponse;

export function isRequest(m: Message): m is RequestMessage {
  return m.type in METHOD_OF;
}

/** A request or reply whose header is missing or malformed. */
export class BadMessage extends Error {}

function header(m: Message): Header {
  return { clusterId: m.clusterId, from: m.from, to: m.to, term: m.term };
}

function envelope(h: Header__Output | null, what: string) {
  if (!h || !h.from || !h.to) throw new BadMessage(`${what} has no header (cluster_id, from, to, term)`);
  return { clusterId: h.clusterId, from: h.from, to: h.to, term: h.term };
}

const ENTRY_TYPES = new Set<EntryType>(['normal', 'noop', 'config']);

function entries(
  list: Entry[] | { index: number; term: number; type: string; data: string; context: string }[],
): Entry[] {
  return list.map((e) => {
    if (!ENTRY_TYPES.has(e.type as EntryType)) throw new BadMessage(`entry ${e.index} has unknown type "${e.type}"`);
    return { index: e.index, term: e.term, type: e.type as EntryType, data: e.data, context: e.context };
  });
}

// ---- requests: core -> protobuf (client side) ----

export function encodeRequest(
  m: RequestMessage,
): RequestVoteRequest | AppendEntriesRequest | InstallSnapshotRequest | TimeoutNowRequest | ReadIndexRequestPb {
  switch (m.type) {
    case 'RequestVote':
      return {
        header: header(m),
        lastLogIndex: m.lastLogIndex,
        lastLogTerm: m.lastLogTerm,
        preVote: m.preVote,
        transfer: m.transfer,
      };
    case 'AppendEntries':
      return {
        header: header(m),
        prevLogIndex: m.prevLogIndex,
        prevLogTerm: m.prevLogTerm,
        entries: m.entries,
        leaderCommit: m.leaderCommit,
        seq: m.seq,
        heartbeat: m.heartbeat,
      };
    case 'InstallSnapshot':
      return { header: header(m), snapshot: m.snapshot, seq: m.seq };
    case 'TimeoutNow':
      return { header: header(m) };
    case 'ReadIndex':
      return { header: header(m), requestId: m.requestId };
  }
}

// ---- requests: protobuf -> core (server side) ----

export function decodeRequest(method: RpcMethod, req: unknown): RequestMessage {
  switch (method) {
    case 'RequestVote': {
      const r = req as RequestVoteRequest__Output;
      return {
        type: 'RequestVote',
        ...envelope(r.header, 'RequestVote'),
        lastLogIndex: r.lastLogIndex,
        lastLogTerm: r.lastLogTerm,
        preVote: r.preVote,
        transfer: r.transfer,
      };
    }
    case 'AppendEntries': {
      const r = req as AppendEntriesRequest__Output;
      return {
        type: 'AppendEntries',
        ...envelope(r.header, 'AppendEntries'),
        prevLogIndex: r.prevLogIndex,
        prevLogTerm: r.prevLogTerm,
        entries: entries(r.entries),
        leaderCommit: r.leaderCommit,
        seq: r.seq,
        heartbeat: r.heartbeat,
      };
    }
    case 'InstallSnapshot': {
      const r = req as InstallSnapshotRequest__Output;
      if (!r.snapshot || !r.snapshot.conf) throw new BadMessage('InstallSnapshot has no snapshot');
      const s = r.snapshot;
      return {
        type: 'InstallSnapshot',
        ...envelope(r.header, 'InstallSnapshot'),
        snapshot: {
          index: s.index,
          term: s.term,
          conf: { voters: s.conf!.voters, learners: s.conf!.learners },
          data: s.data,
        },
        seq: r.seq,
      };
    }
    case 'TimeoutNow':
      return { type: 'TimeoutNow', ...envelope((req as TimeoutNowRequest__Output).header, 'TimeoutNow') };
    case 'ReadIndex': {
      const r = req as ReadIndexRequest__Output;
      return { type: 'ReadIndex', ...envelope(r.header, 'ReadIndex'), requestId: r.requestId };
    }
  }
}

// ---- replies: core -> protobuf (server side) ----

export function encodeReply(m: ResponseMessage | null): object {
  if (!m) return {};
  switch (m.type) {
    case 'RequestVoteResponse':
      return {
        header: header(m),
        granted: m.granted,
        preVote: m.preVote,
        candidateTerm: m.candidateTerm,
        rejectReason: m.reason ?? '',
      };
    case 'AppendEntriesResponse':
      return {
        header: header(m),
        success: m.success,
        matchIndex: m.matchIndex,
        rejectedIndex: m.rejectedIndex,
        conflictIndex: m.conflictIndex,
        conflictTerm: m.conflictTerm,
        lastLogIndex: m.lastLogIndex,
        seq: m.seq,
        heartbeat: m.heartbeat,
      };
    case 'InstallSnapshotResponse':
      return { header: header(m), matchIndex: m.matchIndex, seq: m.seq };
    case 'ReadIndexResponse':
      return { header: header(m), requestId: m.requestId, index: m.index };
  }
}

// ---- replies: protobuf -> core (client side) ----

export function decodeReply(method: RpcMethod, reply: unknown): ResponseMessage | null {
  switch (method) {
    case 'RequestVote': {
      const r = reply as RequestVoteReply__Output;
      return {
        type: 'RequestVoteResponse',
        ...envelope(r.header, 'RequestVote reply'),
        granted: r.granted,
        preVote: r.preVote,
        candidateTerm: r.candidateTerm,
        reason: (r.rejectReason || null) as VoteRejectReason | null,
      };
    }
    case 'AppendEntries': {
      const r = reply as AppendEntriesReply__Output;
      return {
        type: 'AppendEntriesResponse',
        ...envelope(r.header, 'AppendEntries reply'),
        success: r.success,
        matchIndex: r.matchIndex,
        rejectedIndex: r.rejectedIndex,
        conflictIndex: r.conflictIndex,
        conflictTerm: r.conflictTerm,
        lastLogIndex: r.lastLogIndex,
        seq: r.seq,
        heartbeat: r.heartbeat,
      };
    }
    case 'InstallSnapshot': {
      const r = reply as InstallSnapshotReply__Output;
      return {
        type: 'InstallSnapshotResponse',
        ...envelope(r.header, 'InstallSnapshot reply'),
        matchIndex: r.matchIndex,
        seq: r.seq,
      };
    }
    case 'TimeoutNow':
      return null;
    case 'ReadIndex': {
      const r = reply as ReadIndexReply__Output;
      return {
        type: 'ReadIndexResponse',
        ...envelope(r.header, 'ReadIndex reply'),
        requestId: r.requestId,
        index: r.index,
      };
    }
  }
}
