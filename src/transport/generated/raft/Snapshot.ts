// Original file: proto/raft.proto

import type { ConfState as _raft_ConfState, ConfState__Output as _raft_ConfState__Output } from '../raft/ConfState.js';
import type { Long } from '@grpc/proto-loader';

export interface Snapshot {
  'index'?: (number | string | Long);
  'term'?: (number | string | Long);
  'conf'?: (_raft_ConfState | null);
  'data'?: (string);
}

export interface Snapshot__Output {
  'index': (number);
  'term': (number);
  'conf': (_raft_ConfState__Output | null);
  'data': (string);
}
