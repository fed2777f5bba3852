// Majority arithmetic, kept in one place because every safety argument in Raft rests on it:
// any two majorities of the same voter set intersect.

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** The largest value that at least a majority of `values` have reached: with each voter's match
 *  index this is the highest index stored on a majority (Figure 2, the leader's commit rule). */
export function majorityValue(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => b - a);
  return sorted[quorumSize(values.length) - 1];
}
