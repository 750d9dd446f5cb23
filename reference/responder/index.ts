/**
 * The reference FastCGI application side: `createResponder({ handler })`, fault injection, and types.
 * @see reference/responder/README.md
 */
export { createResponder, Responder, type ListenOptions, type ListenResult } from './responder.ts';
export type { ResponderConnection } from './connection.ts';
export {
  ActiveFaults,
  FaultError,
  faultCatalog,
  faultNames,
  isFaultName,
  parseFault,
  validateFaults,
  type Fault,
  type FaultInfo,
  type FaultName,
  type FaultScope,
} from './faults.ts';
export { MAX_RECORD_CONTENT } from './output.ts';
export { parseWebServerAddrs, peerAllowed } from './peer-check.ts';
export {
  defaultResponderLimits,
  type FcgiRequest,
  type FcgiResponse,
  type Handler,
  type RequestLogEntry,
  type ResponderLimits,
  type ResponderOptions,
} from './types.ts';
