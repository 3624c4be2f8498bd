#!/usr/bin/env node
import { Cause, Effect, Exit } from 'effect';
import { collectDefaultMetrics } from 'prom-client';
import { helpText, parseCliArgs, readServerConfig } from './config.js';
import { HubConfigError, HubServerError } from '../errors.js';
import { parseFailpoint } from '../supervision.js';
import { make } from './hub-server-live.js';

/**
 * Exit codes: 0 clean stop, 1 runtime failure (port in use, or the hub actor failed while running:
 * a supervisor should restart the process), 2 bad flags or configuration.
 *
 * `ACTORHUB_FAILPOINT` (tests only, docs/reliability.md): `<action>`, `guard:<name>`, with `@<n>`
 * for the n-th call only; a failure injected there, as a bug there would throw it.
 */
async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    process.stderr.write(`actorhub: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${helpText()}\n`);
    return 0;
  }

  const program = Effect.gen(function* () {
    const config = yield* readServerConfig({ ...process.env, ...args.env });
    // The hub actor's failure ends the program with an error: the scope closes what is left, exit 1.
    let failed: (error: unknown) => void = () => undefined;
    const failure = new Promise<unknown>((resolve) => (failed = resolve));
    const failpoint = process.env.ACTORHUB_FAILPOINT;
    const { url, hub, inspectorUrl, viewerUrl, reloadTls } = yield* make(config, {
      onFailure: (error) => failed(error),
      ...(failpoint ? { failpoint: parseFailpoint(failpoint) } : {}),
    });
    // Process metrics (CPU, memory, event loop lag) only in the standalone server: embedders have their own.
    collectDefaultMetrics({ register: hub.metrics });
    const lines: [string, string][] = [
      ['page', `${url}/`],
      ['websocket', `${url.replace(/^http/, 'ws')}${hub.options.path}`],
      ...(config.tls ? [['tls', `${config.tls.certFile} (SIGHUP reloads it)`] as [string, string]] : []),
      ['metrics', `${url}/metrics`],
      ['stats', `${url}/stats`],
      ['health', `${url}/healthz`],
      ['api', config.api.apiKey ? `${url}/api/publish, /api/send, /api/stats (Bearer key)` : 'off (no --api-key)'],
      ...(viewerUrl
        ? [['inspect', `${viewerUrl}  (dev only: machines, live counts, events)`] as [string, string]]
        : []),
      ...(inspectorUrl
        ? [
            [
              'stately',
              `${inspectorUrl}  (dev only; open it in a browser with internet: it embeds stately.ai/inspect)`,
            ] as [string, string],
          ]
        : []),
      ['protocol', hub.options.protocol],
      ...(hub.clusterStats()
        ? [['cluster', `node ${hub.clusterStats()!.node} on ${hub.clusterStats()!.broker.kind}`] as [string, string]]
        : []),
    ];
    process.stdout.write(
      `actorhub listening on ${url}\n${lines.map(([k, v]) => `  ${`${k}:`.padEnd(11)}${v}\n`).join('')}`,
    );
    // SIGHUP re-reads the certificate files (a renewal needs no restart); without TLS it keeps its default.
    if (reloadTls) {
      const onHup = (): void => void reloadTls();
      process.on('SIGHUP', onHup);
      yield* Effect.addFinalizer(() => Effect.sync(() => process.off('SIGHUP', onHup)));
    }
    const error = yield* Effect.promise(() => failure);
    return yield* Effect.fail(
      new HubServerError({
        reason: 'hub-failed',
        message: `the hub actor failed (${error instanceof Error ? error.message : String(error)}); every client was closed with 1011; exiting so that a supervisor restarts the process`,
        cause: error,
      }),
    );
  }).pipe(Effect.scoped);

  // SIGINT/SIGTERM interrupt the program: the scope closes the hub gracefully, then we exit.
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`actorhub: ${signal} received, closing (1001 to every client)\n`);
    abort.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const exit = await Effect.runPromiseExit(program, { signal: abort.signal });
  if (Exit.isSuccess(exit) || Cause.hasInterruptsOnly(exit.cause)) return 0;
  const error = Cause.squash(exit.cause);
  process.stderr.write(`actorhub: ${error instanceof Error ? error.message : String(error)}\n`);
  return error instanceof HubConfigError ? 2 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`actorhub: ${String(error)}\n`);
    process.exit(1);
  },
);
