import { defineConfig } from 'vitest/config'

// Two projects: the unit suite (`pnpm test`, what CI runs) and the soak suite
// (`pnpm test:stress`, sized by GOTRIO_STRESS). Cross-thread tests start real
// worker threads; they load TypeScript through tsx (see runtime/src/worker).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/test/**/*.test.ts'],
          exclude: ['packages/*/test/**/*.stress.test.ts', '**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
        },
      },
      {
        test: {
          name: 'stress',
          include: ['packages/*/test/**/*.stress.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
})
