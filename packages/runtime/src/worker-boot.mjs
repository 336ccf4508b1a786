// The file every pool thread starts (Piscina's `filename`). It imports the
// entry (worker-entry.ts from the sources, worker-entry.js from dist). On Node
// 24 a thread loads .ts modules itself (type stripping), so nothing else
// happens here. Only where Node cannot run the sources as they are (Node 22:
// no `await using`; before 22.18 no type stripping either), or the
// process runs under tsx, does the pool pass tsx's loader API in workerData
// (see tsxLoader in worker-pool.ts); a worker ignores `--import tsx` in its
// execArgv on some Node versions, but it can register tsx's loader from
// JavaScript, which is why this file is plain JavaScript.
import { workerData } from 'node:worker_threads'

const boot = workerData?.gotrioBoot
if (boot?.tsx) {
  const { register } = await import(boot.tsx)
  register()
}
const entry = await import(boot.entry)
// Booted: the pool counts the threads that have loaded their entry (warmUpWorkers waits on it).
if (boot?.booted) {
  const booted = new Int32Array(boot.booted)
  Atomics.add(booted, 0, 1)
  Atomics.notify(booted, 0)
}
export default entry.default
