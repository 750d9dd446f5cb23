// The client suite against Caddy 2.6 reverse_proxy with the fastcgi transport (read_timeout and write_timeout 6.5 s:
// deadlines for the whole exchange, see CADDY_DEADLINE_MS in servers.ts).
import { realServerSuite } from './__fixtures__/real-suite.ts';

realServerSuite('caddy', {
  // A 70 KiB query string reaches the application cut to 65480 characters.
  'request.params.huge-values': ['warn'],
  // A chunked upload reaches the application with CONTENT_LENGTH=-1.
  'request.stdin.chunked': ['fail'],
  'response.status.location': ['fail'],
  // A close before FCGI_END_REQUEST ends the chunked response normally: a truncated success.
  'response.close-before-end': ['warn'],
  'response.close-before-end.after-head': ['warn'],
  'response.stall': ['info'],
  // The content of an unsolicited FCGI_GET_VALUES_RESULT, and another request id's output, end up in the body.
  'response.unexpected.get-values-result': ['fail'],
  'response.unexpected.wrong-request-id': ['fail'],
  'connection.abort-on-client-close': ['warn'],
  // Caddy sends the whole body before it reads any output: with early output, a deadlock.
  'connection.reads-while-sending': ['warn'],
});
