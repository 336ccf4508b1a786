/**
 * A worker pool fed and drained with select, in Go's idiom (README: "select").
 * Three worker tasks square jobs on the pool's threads; the main task offers the
 * next job and collects results in one select, so it never blocks on one side
 * while the other could move. A quit channel, closed once every result is in,
 * stops the workers (Go's `close(quit)`), and `moveOnAfter` bounds the whole
 * run (Go's `case <-time.After(...)`). Prints the sum of the squares of 1..20.
 */
import { onReceive, onSend, openSharedChannel, select } from '@gotrio/channels'
import { moveOnAfter, openNursery, run, workerTask } from '@gotrio/runtime'
import type { squarer as Squarer } from './workers/tasks.ts'

const squarer = workerTask<typeof Squarer>(new URL('./workers/tasks.ts', import.meta.url), 'squarer')
const WORKERS = 3
const JOBS = 20

await run(async () => {
  const [jobsTx, jobsRx] = openSharedChannel<number>(WORKERS, { codec: 'int32' })
  const [resultsTx, resultsRx] = openSharedChannel<number>(WORKERS, { codec: 'int32' })
  const [quitTx, quitRx] = openSharedChannel<null>(0)
  const sum = await moveOnAfter(10_000, () =>
    openNursery(async (nursery) => {
      // Each worker gets its own clones (they move to its thread); ours are closed.
      for (let w = 0; w < WORKERS; w++) nursery.startSoon(squarer, jobsRx.clone(), resultsTx.clone(), quitRx.clone())
      for (const e of [jobsRx, resultsTx, quitRx]) e.close()
      let next = 1
      let got = 0
      let total = 0
      while (got < JOBS) {
        const cases = [onReceive(resultsRx, (r) => void ((total += r), got++))]
        if (next <= JOBS) cases.push(onSend(jobsTx, next, () => void next++)) // Go: a nil channel disables the case
        await select(...cases)
      }
      quitTx.close() // close(quit): every worker's quit case is ready now
      return total
    }),
  )
  jobsTx.close()
  resultsRx.close()
  console.log(sum === undefined ? 'timed out' : `sum of squares of 1..${JOBS}: ${sum}`)
})
