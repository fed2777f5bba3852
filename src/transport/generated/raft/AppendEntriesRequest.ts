// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Entry as _raft_Entry, Entry__Output as _raft_Entry__Output } from '../raft/Entry.js';
import type { Long } from '@grpc/proto-loader';

export interface AppendEntriesRequest {
  'header'?: (_raft_Header | null);
  'prevLogIndex'?: (number | string | Long);
  'prevLogTerm'?: (number | string | Long);
  'entries'?: (_raft_Entry)[];
  'leaderCommit'?: (number | string | Long);
  'seq'?: (number | string | Long);
  'heartbeat'?: (boolean);
}

export interface AppendEntriesRequest__Output {
  'header': (_raft_Header__Output | null);
  'prevLogIndex': (number);
  'prevLogTerm': (number);
  'entries': (_raft_Entry__Output)[];
  'leaderCommit': (number);
  'seq': (number);
  'heartbeat': (boolean);
}
