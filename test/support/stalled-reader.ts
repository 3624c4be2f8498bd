import type { TestClient } from './ws-client.js';

/** Relay hub options where a client names itself with `?id=…` (tests address clients by name). */
export const namedRelay = {
  protocol: 'relay' as const,
  authenticate: (req: { url?: string | undefined }) => ({
    id: new URL(req.url ?? '/', 'http://h').searchParams.get('id') ?? undefined,
  }),
};

/** The client's TCP socket: pause() it to stop reading and let its window fill. */
export const socketOf = (c: TestClient) => (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

/** The sequence numbers (first 7 characters) of the texts a client received. */
export const seq = (c: TestClient): number[] => c.texts.map((t) => Number(t.slice(0, 7)));

/** Lets pending socket I/O run before the next batch. */
export const yieldToIo = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));
