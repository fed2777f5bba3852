// Original file: proto/raft.proto

import type { Header as _raft_Header, Header__Output as _raft_Header__Output } from '../raft/Header.js';
import type { Snapshot as _raft_Snapshot, Snapshot__Output as _raft_Snapshot__Output } from '../raft/Snapshot.js';
import type { Long } from '@grpc/proto-loader';

export interface InstallSnapshotRequest {
  'header'?: (_raft_Header | null);
  'snapshot'?: (_raft_Snapshot | null);
  'seq'?: (number | string | Long);
}

export interface InstallSnapshotRequest__Output {
  'header': (_raft_Header__Output | null);
  'snapshot': (_raft_Snapshot__Output | null);
  'seq': (number);
}
