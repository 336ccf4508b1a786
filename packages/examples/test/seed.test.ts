/**
 * The seed programs, run as the user runs them (`pnpm example <name>` →
 * scripts/example.mjs → node, which strips the types), must print exactly what
 * the seed's Go and Trio programs print.
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('../scripts/example.mjs', import.meta.url))
const exec = promisify(execFile)

async function example(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, [script, ...args], { timeout: 60_000 })
    return { stdout, stderr, code: 0 }
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number }
    return { stdout: err.stdout, stderr: err.stderr, code: err.code }
  }
}

const numbers = '0\n1\n2\n3\n4\n'

describe('seed examples', () => {
  it('producer prints 0..4, one per line', async () => {
    const r = await example('producer')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(numbers)
    expect(r.code).toBe(0)
  })

  it('channel-of-channels prints 0..4 then --- three times', async () => {
    const r = await example('channel-of-channels')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(`${numbers}---\n`.repeat(3))
    expect(r.code).toBe(0)
  })

  it('producer-workers (the producer in a worker task, over a shared channel) prints 0..4', async () => {
    const r = await example('producer-workers')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(numbers)
    expect(r.code).toBe(0)
  })

  it('channel-of-channels-workers (channels made in workers, sent to main) prints the same as the seed', async () => {
    const r = await example('channel-of-channels-workers')
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe(`${numbers}---\n`.repeat(3))
    expect(r.code).toBe(0)
  })

  it('parallel-primes counts the primes below its limit in workers and checks them against one thread', async () => {
    const r = await example('parallel-primes', '200000')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('primes below 200000: 17984') // π(200,000), also checked by the program itself
    expect(r.stdout).toMatch(/speed-up: \d+\.\d\dx on \d+ cores/)
  })

  it('no name lists the available examples on stdout and succeeds', async () => {
    const r = await example()
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^usage: pnpm example <name>/)
    expect(r.stdout).toMatch(/available examples:[\s\S]*\n {2}channel-of-channels\n[\s\S]*\n {2}producer\n/)
  })

  it('an unknown name lists the available examples and fails', async () => {
    const r = await example('no-such-example')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("no example named 'no-such-example'")
    expect(r.stderr).toMatch(/available examples:[\s\S]*\n {2}channel-of-channels\n[\s\S]*\n {2}producer\n/)
  })
})
