import { afterEach, beforeEach, expect } from 'vitest';

/**
 * Every test file runs with this (vitest.config.ts setupFiles): an XState warning about an event
 * sent to a stopped actor fails the test that caused it. Such a warning means a socket or a
 * timer outlived its actor; a test that sends to a stopped actor on purpose spies on
 * console.warn itself and asserts on the warning (test/machines/hub.machine.test.ts).
 */
const STOPPED = /was sent to stopped actor/;
let seen: string[] = [];
const original = console.warn.bind(console);

beforeEach(() => {
  seen = [];
  console.warn = (...args: unknown[]) => {
    if (STOPPED.test(String(args[0]))) seen.push(String(args[0]).split('\n')[0]!);
    original(...args);
  };
});

afterEach(() => {
  console.warn = original;
  expect(seen, 'XState warned about events sent to stopped actors').toEqual([]);
});
