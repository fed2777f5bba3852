// Runs before every test file (vitest.config.ts `setupFiles`): after the file's own hooks, stop
// whatever processes it started and left running, whether its tests passed or failed, then give
// back the ports it reserved.
import { afterAll } from 'vitest';
import { releaseAllPorts } from './ports.js';
import { stopAll } from './processes.js';

afterAll(async () => {
  const left = await stopAll();
  if (left.length) console.warn(`stopped what the test file left running: ${left.join('; ')}`);
  releaseAllPorts();
});
