// The client suite against h2o 2.2 fastcgi (keep-alive backend connections, fastcgi.timeout.io 4000 ms).
import { realServerSuite } from './__fixtures__/real-suite.ts';

realServerSuite('h2o', {
  // No padding: records are not 8-byte aligned (§3.3 recommends it).
  'request.framing.aligned': ['warn'],
  'response.status.location': ['fail'],
  'response.close-before-end': ['warn'],
  'response.close-before-end.after-head': ['warn'],
  'response.stall': ['info'],
  'response.unexpected.unknown-type': ['info'],
  // An unsolicited FCGI_GET_VALUES_RESULT ends the body early, relayed as a complete 200.
  'response.unexpected.get-values-result': ['warn'],
  'response.unexpected.wrong-request-id': ['fail'],
});
