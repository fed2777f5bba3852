// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface AppendEntriesReply {
  'header'?: (_raft_Header | null);
  'success'?: (boolean);
  'matchIndex'?: (number | string | Long);
  'rejectedIndex'?: (number | string | Long);
  'conflictIndex'?: (number | string | Long);
  'conflictTerm'?: (number | string | Long);
  'lastLogIndex'?: (number | string | Long);
  'seq'?: (number | string | Long);
  'heartbeat'?: (boolean);
}

export interface AppendEntriesReply__Output {
  'header': (_raft_Header__Output | null);
  'success': (boolean);
  'matchIndex': (number);
  'rejectedIndex': (number);
  'conflictIndex': (number);
  'conflictTerm': (number);
  'lastLogIndex': (number);
  'seq': (number);
  'heartbeat': (boolean);
}
