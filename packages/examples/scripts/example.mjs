#!/usr/bin/env node
// Runs one example program: `pnpm example <name>` runs src/seed/<name>.ts or
// src/<name>.ts of @gotrio/examples (from any cwd) with Node's own type
// stripping (Node 24), or under tsx on a Node that cannot run them as they are.
// With no name it lists the examples and exits 0; an unknown name lists them
// and exits 1.
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
  const list = `usage: pnpm example <name> [args...]\navailable examples:\n${available()
    .map((n) => `  ${n}`)
    .join('\n')}\n`
  if (name) {
    process.stderr.write(`example: no example named '${name}'.\n${list}`)
    process.exit(1)
  }
  process.stdout.write(list)
  process.exit(0)
}

// Node runs the examples as they are where it strips types and parses `await
// using` (Node 24); elsewhere tsx, resolved from this package so that the
// loader is found whatever the cwd.
function runsTypeScript() {
  if (!process.features.typescript) return false
  try {
    new Function('async () => { await using x = null }')
    return true
  } catch {
    return false
  }
}
const flags = runsTypeScript() ? [] : ['--import', import.meta.resolve('tsx')]
const child = spawn(process.execPath, [...flags, file, ...args], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => {
  if (signal) process.kill(process.pid, signal)
  else process.exit(code ?? 1)
})
