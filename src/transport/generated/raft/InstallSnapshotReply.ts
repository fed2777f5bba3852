// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Long } from '@grpc/proto-loader';

export interface InstallSnapshotReply {
  'header'?: (_raft_Header | null);
  'matchIndex'?: (number | string | Long);
  'seq'?: (number | string | Long);
}

export interface InstallSnapshotReply__Output {
  'header': (_raft_Header__Output | null);
  'matchIndex': (number);
  'seq': (number);
}
