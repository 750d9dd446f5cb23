/**
 * FCGI_DATA, the Filter's file stream: empty, one byte, 1 MiB, after a STDIN stream of its own. For targets
 * that claim the Filter role. @see §5.3, §6.4
 */
import { FCGI_FILTER } from '../../spec/constants.ts';
import { defineScenario, type Scenario } from '../define.ts';
import { expectSeries, filterParams, formatSize, patternBytes, probe, echoProblem, runSeries, sendAndRead, bodyParams } from '../kit.ts';

const MiB = 1024 * 1024;

interface DataCase {
  readonly data: Uint8Array;
  readonly stdin: Uint8Array;
}

const cases: readonly DataCase[] = [
  { data: new Uint8Array(0), stdin: new Uint8Array(0) },
  { data: Uint8Array.of(0xd7), stdin: new Uint8Array(0) },
  { data: patternBytes(MiB, 0x0e00), stdin: patternBytes(1000, 0x0e01) },
];

const filterData = defineScenario({
  id: 'stdin.filter-data',
  title: 'reads FCGI_DATA of 0 bytes, 1 byte and 1 MiB after STDIN (Filter, probe echoes the data)',
  group: 'stdin',
  requirements: ['FCGI-6.4-filter-end-request', 'FCGI-3.3-stream-value-app'],
  needs: { roles: ['filter'], probe: true },
  timeoutMs: 30_000,
  async run(ctx) {
    const series = await runSeries(ctx, cases.length, async (conn, i, flags) => {
      const c = cases[i]!;
      const { obs } = await sendAndRead(
        conn,
        {
          requestId: 1,
          role: FCGI_FILTER,
          flags,
          params: [...bodyParams(c.stdin.length), ...filterParams(c.data.length), ...probe.echoData()],
          stdin: c.stdin,
          data: c.data,
        },
        { timeoutMs: ctx.timeouts.scale(5000) },
      );
      return obs;
    }, (obs, i) => echoProblem(obs, cases[i]!.data));
    // §6.4: "Next the Filter application receives the file data from the Web server over FCGI_DATA." … "The
    // application reads at most FCGI_DATA_LENGTH bytes from this stream before receiving the end-of-stream indication."
    expectSeries(
      ctx.check,
      series,
      cases.map((c) => `DATA of ${formatSize(c.data.length)}, STDIN of ${formatSize(c.stdin.length)}`),
      'FCGI-6.4-filter-end-request',
      'each Filter request served with its FCGI_DATA echoed',
    );
  },
});

export const filterDataScenarios: readonly Scenario[] = [filterData];
