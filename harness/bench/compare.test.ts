import { describe, expect, it } from 'vitest';
import { parseWrk } from './compare.ts';

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
  it('reads requests per second, the 99% latency in ms, non-2xx responses and socket errors', () => {
    expect(parseWrk(sample)).toEqual({ rps: 2601.33, p99Ms: 0.812, non2xx: 12, errors: 'connect 0, read 0, write 0, timeout 2' });
    expect(parseWrk(sample.replace('812.00us', '1.50s')).p99Ms).toBe(1500);
  });

  it('refuses output it does not understand', () => {
    expect(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused')).toThrow(/not understood/);
  });
});
