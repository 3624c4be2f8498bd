import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A timeout detects a hang; it is not a speed check. Many tests start real processes (the CLI,
    // three-node clusters) and sockets, and on a loaded 2-core machine a CLI start alone took over
    // 5 s (vitest's default), so the default here is 20 s; tests that need more say so.
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // A warning about an event sent to a stopped actor fails the test that caused it.
    setupFiles: ['test/support/xstate-warnings.ts'],
  },
});
