/**
 * The worker thread behind InPlaceThread (in-place.ts): puts its records in
 * the slots of an instance of the module, posts their decisions, then times
 * the rounds it is asked for.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CompiledFilter } from '../jit/instance.js';
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';
import type { InPlaceJob, InPlaceRound } from './in-place.js';
import { timePasses } from './passes.js';

const { module, records } = workerData as InPlaceJob;
const count = records.length / SECCOMP_DATA_SIZE;
const inPlace = new CompiledFilter(new Uint8Array(), module, 'le', 1);
inPlace.recordSlots(count).set(records);
inPlace.decideSlots(count).fill(0xdeadbeef); // where its decisions go: each must be written again
parentPort!.postMessage(inPlace.decideSlots(count).slice());
const passes = { name: 'jit in place', records: count, run: () => void inPlace.decideSlots(count) };
parentPort!.on('message', async (round: InPlaceRound) => {
  parentPort!.postMessage(await timePasses(passes, round.passes, round.warmUpMs));
});
