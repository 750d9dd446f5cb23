import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseTimes, parseWrk, processTreeCpuMicros } from './compare.ts';

// The shape wrk 4.1 prints with --latency (figures made up).
const sample = `Running 3s test @ http://127.0.0.1:41234/probe.php
  1 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.21ms    4.02ms  88.15ms   93.10%
    Req/Sec     2.61k   312.40     3.02k    80.00%
  Latency Distribution
     50%    2.44ms
     75%    3.01ms
     90%    4.87ms
     99%  812.00us
  7804 requests in 3.00s, 1.45MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 12
Requests/sec:   2601.33
Transfer/sec:    494.52KB
`;

describe('parseWrk', () => {
  it('reads requests per second, the 99% latency in ms, requests, non-2xx responses and socket errors', () => {
    expect(parseWrk(sample)).toEqual({ rps: 2601.33, p99Ms: 0.812, requests: 7804, non2xx: 12, errors: 'connect 0, read 0, write 0, timeout 2' });
    expect(parseWrk(sample.replace('812.00us', '1.50s')).p99Ms).toBe(1500);
  });

  it('refuses output it does not understand', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/not understood/);
  });
});

describe('parseTimes', () => {
  it("reads the children's user and system time from the last line of bash's times", () => {
    expect(parseTimes(`${sample}0m0.004s 0m0.001s\n0m1.250s 0m0.310s\n`)).toBe(1_560_000);
    expect(parseTimes('1m0.5s 0m0.5s')).toBe(61_000_000);
    expect(parseTimes(sample)).toBeUndefined();
  });
});

describe('processTreeCpuMicros', () => {
  it.runIf(process.platform === 'linux')('counts a process and its children, and knows no process that is not there', async () => {
    // A child that spins until stdin closes: its CPU time must show in its parent's tree.
    const child = spawn(process.execPath, ['-e', 'const t = Date.now(); while (Date.now() - t < 300); process.stdin.resume(); process.stdin.on("end", () => process.exit(0))'], { stdio: ['pipe', 'ignore', 'ignore'] });
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const own = processTreeCpuMicros(child.pid!);
      const tree = processTreeCpuMicros(process.pid);
      expect(own).toBeGreaterThan(0);
      expect(tree).toBeGreaterThanOrEqual(own!);
      expect(processTreeCpuMicros(2 ** 30)).toBeUndefined();
    } finally {
      child.stdin.end();
    }
  });
});
