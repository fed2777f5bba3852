// Original file: proto/raft.proto

import type { Long } from '@grpc/proto-loader';

export interface Header {
  'clusterId'?: (string);
  'from'?: (string);
  'to'?: (string);
  'term'?: (number | string | Long);
}

export interface Header__Output {
  'clusterId': (string);
  'from': (string);
  'to': (string);
  'term': (number);
}
