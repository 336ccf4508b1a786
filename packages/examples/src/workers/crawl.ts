/** The worker task of the crawler example: "fetches" one page of a synthetic site. */
import { sleep } from '@gotrio/runtime'

/** Pages of the synthetic site; page p links to a few others, deterministically. */
export const SITE_PAGES = 300

export function linksOf(page: number): number[] {
  return [(page * 7 + 1) % SITE_PAGES, (page * 13 + 5) % SITE_PAGES, (page * page + 3) % SITE_PAGES]
}

/**
 * Fetches `page`: a short wait stands for the network, a hash for the parsing.
 * `gauge` counts the fetches running right now in any worker ([0]) and keeps
 * the highest count seen ([1]), so the example can show the limiter's bound.
 */
export async function fetchPage(page: number, gauge: Int32Array): Promise<{ page: number; links: number[]; digest: number }> {
  const now = Atomics.add(gauge, 0, 1) + 1
  for (let p = Atomics.load(gauge, 1); now > p; p = Atomics.load(gauge, 1)) Atomics.compareExchange(gauge, 1, p, now)
  try {
    await sleep(2) // the network (a waiting task holds no worker thread)
    let h = page * 2654435761
    for (let i = 0; i < 20_000; i++) h = Math.imul(h ^ (h >>> 15), 2246822519) + i
    return { page, links: linksOf(page), digest: h >>> 0 }
  } finally {
    Atomics.sub(gauge, 0, 1)
  }
}
