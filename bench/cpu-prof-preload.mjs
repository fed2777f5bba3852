// Loaded into each node with NODE_OPTIONS="--import <this file>" (node refuses --cpu-prof in
// NODE_OPTIONS, and `raft-otel up` starts the nodes itself): the first SIGUSR2 starts V8's CPU
// profiler, the second stops it and writes CPU.<pid>.cpuprofile into $RAFT_BENCH_PROFILE_DIR, so a
// benchmark profiles exactly its measured load. Used by `npm run bench -- --vs-etcd --profile DIR`.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';

const dir = process.env.RAFT_BENCH_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `CPU.${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
