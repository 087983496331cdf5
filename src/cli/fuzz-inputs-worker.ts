/**
 * A worker thread of the malformed-input fuzzer (fuzz-inputs.ts): judges the
 * cases it is given, saying which one it starts, so that the main thread can
 * name a case that hangs or exhausts memory.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { checkCase, type InputWorkerMessage } from './fuzz-inputs.js';

const { seed } = workerData as { seed: number };
const port = parentPort!;
const send = (message: InputWorkerMessage) => port.postMessage(message);

port.on('message', async ({ from, to }: { from: number; to: number }) => {
  let rejected = 0;
  for (let index = from; index < to; index++) {
    send({ kind: 'started', index });
    try {
      const result = await checkCase(seed, index);
      if (result.rejected) rejected++;
      if (result.problem !== undefined) send({ kind: 'failure', index, problem: result.problem });
    } catch (error) {
      send({ kind: 'failure', index, problem: `making or judging the case threw: ${(error as Error).message}` });
    }
  }
  send({ kind: 'done', cases: to - from, rejected });
});
