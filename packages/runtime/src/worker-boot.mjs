// The file every pool thread starts (Piscina's `filename`). Plain JavaScript on
// purpose: on Node 20 a worker cannot load a .ts entry through `--import tsx`,
// but it can register tsx's loader from JS and then import TypeScript. The
// pool says in workerData whether to do so and which entry to load.
import { workerData } from 'node:worker_threads'

const boot = workerData?.gotrioBoot
if (boot?.tsx) {
  const { register } = await import(boot.tsx)
  register()
}
const entry = await import(boot.entry)
export default entry.default
