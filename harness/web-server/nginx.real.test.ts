// The client suite against nginx 1.22 (fastcgi_keep_conn on, fastcgi_read_timeout 4s).
import { realServerSuite } from './__fixtures__/real-suite.ts';

realServerSuite('nginx', {
  'response.stall': ['info'],
  // nginx fails the request (502, or a reset) on records it does not expect: allowed, recorded.
  'response.unexpected.unknown-type': ['info'],
  'response.unexpected.get-values-result': ['info'],
  'response.unexpected.wrong-request-id': ['info'],
  // nginx stops sending the request body once the response has begun; the application waits for the rest.
  'connection.reads-while-sending': ['warn'],
});
