#!/usr/bin/env node
// Runs one example program under tsx: `pnpm example <name>` runs
// src/seed/<name>.ts or src/<name>.ts of @gotrio/examples (from any cwd).
// An unknown or missing name lists the available examples.
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { basename, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = fileURLToPath(new URL('../src/', import.meta.url))
const dirs = [join(src, 'seed'), src]

function available() {
  const names = []
  for (const dir of dirs) {
    if (!existsSync(dir)) continue
    for (const f of readdirSync(dir)) if (f.endsWith('.ts') && !f.endsWith('.d.ts')) names.push(basename(f, '.ts'))
  }
  return [...new Set(names)].sort()
}

const [name, ...args] = process.argv.slice(2)
const file = name && dirs.map((d) => join(d, `${name}.ts`)).find((f) => existsSync(f))
if (!file) {
  if (name) console.error(`example: no example named '${name}'.`)
  console.error(`usage: pnpm example <name> [args...]\navailable examples:\n${available().map((n) => `  ${n}`).join('\n')}`)
  process.exit(name ? 1 : 2)
}

// tsx resolved from this package, so the loader is found whatever the cwd.
const tsx = import.meta.resolve('tsx')
const child = spawn(process.execPath, ['--import', tsx, file, ...args], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal)
  else process.exit(code ?? 1)
})
