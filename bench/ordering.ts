/**
 * docs/reliability.md item 4 at full size: `npm run bench -- ordering [--per-publisher 250000]`. The CLI
 * hub as a child process, once per protocol (JSON topic publish, relay): P publishers × K
 * numbered messages to R receivers, real ws clients (test/support/ordered-stream.ts; the
 * same check runs at 4 × 5,000 in npm test). Prints lost, duplicated and reordered counts.
 */
import { parseCli } from './cli.js';
import { waitForClients } from './load/server-stats.js';
import { getStats, HOST, printTable, startHubProcess } from './reliability/common.js';
import { runOrderedStream, type OrderedStreamReport } from '../test/support/ordered-stream.js';

const values = parseCli('npm run bench -- ordering [options]', {
  publishers: { type: 'string', default: '4', describe: 'publishing clients' },
  'per-publisher': { type: 'string', default: '250000', describe: 'numbered messages each publisher sends' },
  receivers: { type: 'string', default: '4', describe: 'receiving clients' },
  window: { type: 'string', default: '64', describe: 'messages a publisher has in flight at most' },
  protocols: { type: 'string', default: 'json,relay', describe: 'comma-separated: json (topic publish), relay' },
});
const P = Number(values.publishers);
const K = Number(values['per-publisher']);
const R = Number(values.receivers);

async function main(): Promise<void> {
  const rows: (string | number)[][] = [
    [
      'protocol',
      'messages',
      'deliveries expected',
      'delivered',
      'lost',
      'duplicated',
      'reordered',
      'corrupt',
      'receivers closed',
      'hub dropped',
      'seconds',
      'deliveries/s',
    ],
  ];
  let ok = true;
  for (const protocol of values.protocols.split(',') as ('json' | 'relay')[]) {
    const server = await startHubProcess(['--protocol', protocol]);
    let report: OrderedStreamReport;
    let dropped: unknown;
    try {
      report = await runOrderedStream({
        url: `ws://${HOST}:${server.port}/ws`,
        protocol,
        publishers: P,
        perPublisher: K,
        receivers: R,
        window: Number(values.window),
        whenRegistered: (n) => waitForClients(HOST, server.port, n, 30_000),
      });
      dropped = (await getStats(server.port)).dropped;
    } finally {
      await server.stop();
    }
    ok &&=
      report.lost === 0 &&
      report.duplicated === 0 &&
      report.reordered === 0 &&
      report.corrupt === 0 &&
      report.closed === 0;
    rows.push([
      protocol,
      report.messages,
      report.expected,
      report.delivered,
      report.lost,
      report.duplicated,
      report.reordered,
      report.corrupt,
      report.closed,
      String(dropped),
      (report.ms / 1000).toFixed(1),
      Math.round(report.delivered / (report.ms / 1000)),
    ]);
    console.error(`  ${protocol} done`);
  }
  printTable(rows);
  console.log(
    `\n${ok ? 'OK' : 'FAILED'}: ${P} publishers × ${K} messages to ${R} receivers: 0 lost, 0 duplicated, per-publisher order kept`,
  );
  process.exit(ok ? 0 : 1);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
