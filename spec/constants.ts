/**
 * FastCGI 1.0 protocol constants, spelled as in the specification.
 * @see FastCGI Specification §8 "Types and constants" (Copyright (c) 1996 Open Market, Inc.)
 */

/** Listening socket file number handed to a spawned application. @see §2.2 */
export const FCGI_LISTENSOCK_FILENO = 0;

/** Number of bytes in a record header; future versions will not reduce it. @see §3.3 */
export const FCGI_HEADER_LEN = 8;

/** Value for the `version` component of a record header. @see §3.3 */
export const FCGI_VERSION_1 = 1;

/** Record types. @see §8 */
export const FCGI_BEGIN_REQUEST = 1;
export const FCGI_ABORT_REQUEST = 2;
export const FCGI_END_REQUEST = 3;
export const FCGI_PARAMS = 4;
export const FCGI_STDIN = 5;
export const FCGI_STDOUT = 6;
export const FCGI_STDERR = 7;
export const FCGI_DATA = 8;
export const FCGI_GET_VALUES = 9;
export const FCGI_GET_VALUES_RESULT = 10;
export const FCGI_UNKNOWN_TYPE = 11;
export const FCGI_MAXTYPE = FCGI_UNKNOWN_TYPE;

/** Value for the `requestId` component of management records. @see §3.3 */
export const FCGI_NULL_REQUEST_ID = 0;

/** Mask for the `flags` component of FCGI_BeginRequestBody. @see §5.1 */
export const FCGI_KEEP_CONN = 1;

/** Values for the `role` component of FCGI_BeginRequestBody. @see §5.1 */
export const FCGI_RESPONDER = 1;
export const FCGI_AUTHORIZER = 2;
export const FCGI_FILTER = 3;

/** Values for the `protocolStatus` component of FCGI_EndRequestBody. @see §5.5 */
export const FCGI_REQUEST_COMPLETE = 0;
export const FCGI_CANT_MPX_CONN = 1;
export const FCGI_OVERLOADED = 2;
export const FCGI_UNKNOWN_ROLE = 3;

/** Variable names for FCGI_GET_VALUES / FCGI_GET_VALUES_RESULT records. @see §4.1 */
export const FCGI_MAX_CONNS = 'FCGI_MAX_CONNS';
export const FCGI_MAX_REQS = 'FCGI_MAX_REQS';
export const FCGI_MPXS_CONNS = 'FCGI_MPXS_CONNS';

/** Environment variable that restricts which peers an application accepts. @see §3.2 */
export const FCGI_WEB_SERVER_ADDRS = 'FCGI_WEB_SERVER_ADDRS';
/** Filter-role params. @see §6.4 */
export const FCGI_DATA_LAST_MOD = 'FCGI_DATA_LAST_MOD';
export const FCGI_DATA_LENGTH = 'FCGI_DATA_LENGTH';

/** Largest contentLength a record can carry (16 bits). @see §3.3 */
export const FCGI_MAX_CONTENT_LENGTH = 0xffff;
/** Largest paddingLength a record can carry (8 bits). @see §3.3 */
export const FCGI_MAX_PADDING_LENGTH = 0xff;
/** Largest name or value length a name-value pair can declare (31 bits). @see §3.4 */
export const FCGI_MAX_NAME_VALUE_LENGTH = 0x7fffffff;
/** Body length of FCGI_BEGIN_REQUEST, FCGI_END_REQUEST and FCGI_UNKNOWN_TYPE records. @see §5.1 §5.5 §4.2 */
export const FCGI_FIXED_BODY_LEN = 8;

/** Names of the defined record types, by type number. */
export const recordTypeNames = {
  [FCGI_BEGIN_REQUEST]: 'FCGI_BEGIN_REQUEST',
  [FCGI_ABORT_REQUEST]: 'FCGI_ABORT_REQUEST',
  [FCGI_END_REQUEST]: 'FCGI_END_REQUEST',
  [FCGI_PARAMS]: 'FCGI_PARAMS',
  [FCGI_STDIN]: 'FCGI_STDIN',
  [FCGI_STDOUT]: 'FCGI_STDOUT',
  [FCGI_STDERR]: 'FCGI_STDERR',
  [FCGI_DATA]: 'FCGI_DATA',
  [FCGI_GET_VALUES]: 'FCGI_GET_VALUES',
  [FCGI_GET_VALUES_RESULT]: 'FCGI_GET_VALUES_RESULT',
  [FCGI_UNKNOWN_TYPE]: 'FCGI_UNKNOWN_TYPE',
} as const;
export type KnownRecordType = keyof typeof recordTypeNames;

/** Which side sends a record type, whether it is a management record, whether it is a stream. @see Appendix A */
export interface RecordTypeProperties {
  readonly sender: 'web-server' | 'application';
  readonly management: boolean;
  readonly stream: boolean;
}
export const recordTypeProperties: Readonly<Record<KnownRecordType, RecordTypeProperties>> = {
  [FCGI_GET_VALUES]: { sender: 'web-server', management: true, stream: false },
  [FCGI_GET_VALUES_RESULT]: { sender: 'application', management: true, stream: false },
  [FCGI_UNKNOWN_TYPE]: { sender: 'application', management: true, stream: false },
  [FCGI_BEGIN_REQUEST]: { sender: 'web-server', management: false, stream: false },
  [FCGI_ABORT_REQUEST]: { sender: 'web-server', management: false, stream: false },
  [FCGI_END_REQUEST]: { sender: 'application', management: false, stream: false },
  [FCGI_PARAMS]: { sender: 'web-server', management: false, stream: true },
  [FCGI_STDIN]: { sender: 'web-server', management: false, stream: true },
  [FCGI_DATA]: { sender: 'web-server', management: false, stream: true },
  [FCGI_STDOUT]: { sender: 'application', management: false, stream: true },
  [FCGI_STDERR]: { sender: 'application', management: false, stream: true },
};

export const roleNames = { [FCGI_RESPONDER]: 'responder', [FCGI_AUTHORIZER]: 'authorizer', [FCGI_FILTER]: 'filter' } as const;
export type RoleName = (typeof roleNames)[keyof typeof roleNames];
export const roleNumbers: Readonly<Record<RoleName, number>> = { responder: FCGI_RESPONDER, authorizer: FCGI_AUTHORIZER, filter: FCGI_FILTER };

export const protocolStatusNames = {
  [FCGI_REQUEST_COMPLETE]: 'FCGI_REQUEST_COMPLETE',
  [FCGI_CANT_MPX_CONN]: 'FCGI_CANT_MPX_CONN',
  [FCGI_OVERLOADED]: 'FCGI_OVERLOADED',
  [FCGI_UNKNOWN_ROLE]: 'FCGI_UNKNOWN_ROLE',
} as const;

/** The spec's name for a record type, or `type N` for an undefined one. */
export function recordTypeName(type: number): string {
  return (recordTypeNames as Record<number, string | undefined>)[type] ?? `type ${type}`;
}
/** The spec's name for a protocolStatus, or `status N`. */
export function protocolStatusName(status: number): string {
  return (protocolStatusNames as Record<number, string | undefined>)[status] ?? `status ${status}`;
}
/** Properties of a defined record type, or undefined for a type the spec does not define. */
export function propertiesOf(type: number): RecordTypeProperties | undefined {
  return (recordTypeProperties as Record<number, RecordTypeProperties | undefined>)[type];
}
