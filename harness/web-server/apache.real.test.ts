// The client suite against Apache httpd 2.4 mod_proxy_fcgi (enablereuse=on, ProxyTimeout 4).
import { realServerSuite } from './__fixtures__/real-suite.ts';

realServerSuite('apache', {
  // No padding: records are not 8-byte aligned (§3.3 recommends it).
  'request.framing.aligned': ['warn'],
  // A chunked upload reaches the application without CONTENT_LENGTH.
  'request.stdin.chunked': ['fail'],
  // "Location: http://…" without Status is answered 200, not a redirect.
  'response.status.location': ['fail'],
  // FCGI_END_REQUEST without output, and the three rejections, become an empty 200.
  'response.end-before-output': ['warn'],
  'rejection.cant-mpx-conn': ['warn'],
  'rejection.overloaded': ['warn'],
  'rejection.unknown-role': ['warn'],
  'response.stall': ['info'],
  'response.unexpected.get-values-result': ['info'],
  'response.unexpected.wrong-request-id': ['info'],
  // The request runs on after the HTTP client has gone.
  'connection.abort-on-client-close': ['warn'],
});
