// The client suite against lighttpd 1.4 mod_fastcgi (read-timeout and write-timeout 3 s on the backend host).
import { realServerSuite } from './__fixtures__/real-suite.ts';

realServerSuite('lighttpd', {
  // No padding: records are not 8-byte aligned (§3.3 recommends it).
  'request.framing.aligned': ['warn'],
  // A race in lighttpd: when the close arrives with the output, it may answer a complete 200 with Content-Length.
  'response.close-before-end': ['pass', 'warn'],
  'response.stall': ['info'],
  // The response of another request id is relayed as this request's.
  'response.unexpected.wrong-request-id': ['fail'],
});
