#!/usr/bin/env node
// Relative imports in TypeScript sources name the `.ts` file (`./errors.ts`),
// so that Node 24 runs the sources with its built-in type stripping, no loader
// (`node main.ts`, worker threads loading `.ts` task modules). tsc rewrites
// them to `.js` when it builds dist/ (`rewriteRelativeImportExtensions`).
//
//   node scripts/ts-specifiers.mjs          rewrites `./x.js` -> `./x.ts` where x.ts exists
//   node scripts/ts-specifiers.mjs --check  lists the `.js` specifiers left; exit 1 if any
//
// Covers packages/*/src, packages/examples/bench and packages/*/test/fixtures
// (task modules that worker threads load with no loader): static imports and
// exports, `import()`, `new URL('./x.js', import.meta.url)`. Test files run
// under vitest, which resolves either form, and are left as they are.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const check = process.argv.includes('--check')
const roots = []
for (const pkg of readdirSync(join(root, 'packages'))) {
  for (const sub of ['src', 'bench', 'test/fixtures']) {
    const dir = join(root, 'packages', pkg, sub)
    if (existsSync(dir)) roots.push(dir)
  }
}

function* tsFiles(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* tsFiles(path)
    else if (/\.(ts|mts)$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

// A quoted relative specifier ending in .js after `from`, `import(`, `import ` or `new URL(`.
const SPEC = /((?:\bfrom|\bimport\s*\(|^\s*import|\bexport\s*\*\s*from|new URL\()\s*)(['"])(\.\.?\/[^'"]*?)\.js\2/gm
let left = 0
let changed = 0
for (const dir of roots) {
  for (const file of tsFiles(dir)) {
    const text = readFileSync(file, 'utf8')
    const out = text.replace(SPEC, (m, lead, q, base) => {
      if (!existsSync(resolve(dirname(file), `${base}.ts`))) return m
      if (check) {
        left++
        console.log(`${file.slice(root.length + 1)}: ${base}.js`)
        return m
      }
      return `${lead}${q}${base}.ts${q}`
    })
    if (!check && out !== text) {
      writeFileSync(file, out)
      changed++
    }
  }
}
if (check) {
  if (left > 0) {
    console.error(`${left} relative import(s) name a .js file where the source is .ts: run node scripts/ts-specifiers.mjs`)
    process.exit(1)
  }
} else console.log(`rewrote specifiers in ${changed} file(s)`)
