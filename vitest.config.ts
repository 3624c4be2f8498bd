import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A warning about an event sent to a stopped actor fails the test that caused it.
    setupFiles: ['test/support/xstate-warnings.ts'],
  },
});
