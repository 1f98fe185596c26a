import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    disableConsoleIntercept: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // End-to-end suites each start their own sandbox and redis-server processes; two cores run two at once.
    fileParallelism: true,
    maxWorkers: 2,
    reporters: ['default'],
  },
})
