/**
 * A crawler-like fan-out: every page discovered starts a task, and each task
 * fetches its page in a worker task — but a `CapacityLimiter` lets at most
 * `limit` fetches run at once, however many pages are waiting (Trio's
 * `to_thread` bounds its threads the same way). Prints how many pages were
 * crawled and the highest number of fetches that ran at once in the workers.
 *
 *   pnpm example crawler [limit]
 */
import { CapacityLimiter, openNursery, run, runInWorker, workerTask, type Nursery } from '@gotrio/runtime'
import { SITE_PAGES, type fetchPage } from './workers/crawl.ts'

const limit = Number(process.argv[2] ?? 4)
const fetch = workerTask<typeof fetchPage>(new URL('./workers/crawl.ts', import.meta.url), 'fetchPage')

await run(async () => {
  const limiter = new CapacityLimiter(limit)
  const gauge = new Int32Array(new SharedArrayBuffer(8)) // [fetches running now, most at once]
  const seen = new Set<number>([0])
  let digest = 0

  async function crawl(nursery: Nursery, page: number): Promise<void> {
    let links: number[]
    {
      using _ = await limiter.acquire() // waits while `limit` fetches run
      const r = await runInWorker(fetch, page, gauge)
      links = r.links
      digest = (digest + r.digest) >>> 0
    } // the token goes back here, to the longest-waiting task
    for (const next of links) {
      if (seen.has(next)) continue
      seen.add(next)
      nursery.startSoon(crawl, nursery, next) // fan out: one task per new page
    }
  }

  await openNursery(async (nursery) => {
    nursery.startSoon(crawl, nursery, 0)
  })
  console.log(`crawled ${seen.size} of ${SITE_PAGES} pages (digest ${digest.toString(16)})`)
  console.log(`at most ${gauge[1]} fetches ran at once (limit ${limit})`)
  if (gauge[1]! > limit) throw new Error('the CapacityLimiter let more fetches run than its tokens')
})
