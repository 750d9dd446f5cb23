/**
 * The FastCGI 1.0 requirement catalog: every requirement the suite knows, by stable id.
 *
 * Every `quote` is quoted verbatim from:
 *   "FastCGI Specification, Mark R. Brown, Open Market, Inc., Document Version 1.0, 29 April 1996"
 * (reference copy: shared/reference/fcgi-spec.html), with HTML tags removed, entities decoded and whitespace
 * collapsed. Levels, summaries and test descriptions are this project's reading of it, not specification text.
 *
 * Copyright (c) 1996 Open Market, Inc.
 * The quoted specification text is used under the following notice (shared/reference/fcgi-spec.LICENSE), included
 * verbatim as it asks:
 *
 * This FastCGI application library source and object code (the
 * "Software") and its documentation (the "Documentation") are
 * copyrighted by Open Market, Inc ("Open Market").  The following terms
 * apply to all files associated with the Software and Documentation
 * unless explicitly disclaimed in individual files.
 *
 * Open Market permits you to use, copy, modify, distribute, and license
 * this Software and the Documentation for any purpose, provided that
 * existing copyright notices are retained in all copies and that this
 * notice is included verbatim in any distributions.  No written
 * agreement, license, or royalty fee is required for any of the
 * authorized uses.  Modifications to this Software and Documentation may
 * be copyrighted by their authors and need not follow the licensing
 * terms described here.  If modifications to this Software and
 * Documentation have new licensing terms, the new terms must be clearly
 * indicated on the first page of each file where they apply.
 *
 * OPEN MARKET MAKES NO EXPRESS OR IMPLIED WARRANTY WITH RESPECT TO THE
 * SOFTWARE OR THE DOCUMENTATION, INCLUDING WITHOUT LIMITATION ANY
 * WARRANTY OF MERCHANTABILITY OR FITNESS FOR A PARTICULAR PURPOSE.  IN
 * NO EVENT SHALL OPEN MARKET BE LIABLE TO YOU OR ANY THIRD PARTY FOR ANY
 * DAMAGES ARISING FROM OR RELATING TO THIS SOFTWARE OR THE
 * DOCUMENTATION, INCLUDING, WITHOUT LIMITATION, ANY INDIRECT, SPECIAL OR
 * CONSEQUENTIAL DAMAGES OR SIMILAR DAMAGES, INCLUDING LOST PROFITS OR
 * LOST DATA, EVEN IF OPEN MARKET HAS BEEN ADVISED OF THE POSSIBILITY OF
 * SUCH DAMAGES.  THE SOFTWARE AND DOCUMENTATION ARE PROVIDED "AS IS".
 * OPEN MARKET HAS NO LIABILITY IN CONTRACT, TORT, NEGLIGENCE OR
 * OTHERWISE ARISING OUT OF THIS SOFTWARE OR THE DOCUMENTATION.
 */
import type { Requirement } from './requirement.ts';

/**
 * The catalog. Ids are `FCGI-<section>-<slug>`, written by hand and never positional. `X` holds the positions this
 * suite takes where the 1.0 text is ambiguous or silent; `A` and `B` are the spec's appendices.
 */
export const requirements = {
  // ── 2. Initial process state ─────────────────────────────────────────────────────────────────────────────
  'FCGI-2.1-argv-default': {
    section: '2.1',
    side: 'web-server',
    level: 'should',
    levelReason:
      'Stated as a default that the server may replace, and for interpreter files the spec defers to execve(2) instead of giving a rule.',
    quote:
      "By default the Web server creates an argument list containing a single element, the name of the application, taken to be the last component of the executable's path name. The Web server may provide a way to specify a different application name, or a more elaborate argument list. Note that the file executed by the Web server might be an interpreter file (a text file that starts with the characters #!), in which case the application's argument list is constructed as described in the execve manpage.",
    summary:
      'Unless configured otherwise, a spawned application gets an argv of one element, the last path component of its executable; a #! script gets the argv execve builds.',
    check: 'process',
    how: 'The web server spawns a helper executable that writes its argv to a side file: with no argument configuration, expect exactly one element equal to the basename of the helper path. Then it spawns a #! script whose interpreter does the same: expect the interpreter path, the optional #! argument and the script path, as execve(2) builds them. A configured name or argument list is recorded, not judged.',
    draftIds: ['FCGI-2.1-1', 'FCGI-2.1-2'],
  },
  'FCGI-2.2-listen-socket-fd0': {
    section: '2.2',
    side: 'web-server',
    level: 'must',
    quote:
      'The Web server leaves a single file descriptor, FCGI_LISTENSOCK_FILENO, open when the application begins execution. This descriptor refers to a listening socket created by the Web server. FCGI_LISTENSOCK_FILENO equals STDIN_FILENO. The standard descriptors STDOUT_FILENO and STDERR_FILENO are closed when the application begins execution.',
    summary:
      'A spawned application starts with exactly one open descriptor, fd 0, a listening socket created by the web server; fds 1 and 2 are closed.',
    check: 'process',
    how: 'The spawned helper inspects its descriptors before opening anything: fd 0 must be a socket in the listening state (getsockopt SO_ACCEPTCONN = 1), fcntl(1, F_GETFD) and fcntl(2, F_GETFD) must fail with EBADF, and no other descriptor may be open (/proc/self/fd, or fcntl F_GETFD on 3..1023).',
    draftIds: ['FCGI-2.2-1', 'FCGI-2.2-2'],
  },
  'FCGI-2.2-fastcgi-detection': {
    section: '2.2',
    side: 'application',
    level: 'may',
    levelReason: 'Offered as a reliable method, not required; a library may detect FastCGI another way.',
    quote:
      'A reliable method for an application to determine whether it was invoked using CGI or FastCGI is to call getpeername(FCGI_LISTENSOCK_FILENO), which returns -1 with errno set to ENOTCONN for a FastCGI application.',
    summary: 'An application can tell FastCGI from CGI by getpeername(0) failing with ENOTCONN.',
    check: 'process',
    how: 'Start the application once with fd 0 a listening socket and once with fd 0 a pipe plus a CGI environment; record whether it serves FastCGI on the socket and runs as CGI (or exits) on the pipe.',
    draftIds: ['FCGI-2.2-3'],
  },
  'FCGI-2.2-either-transport': {
    section: '2.2',
    side: 'application',
    level: 'should',
    levelReason: "The sentence describes the server's choice; that the application copes with both families is implied.",
    quote:
      "The Web server's choice of reliable transport, Unix stream pipes (AF_UNIX) or TCP/IP (AF_INET), is implicit in the internal state of the FCGI_LISTENSOCK_FILENO socket.",
    summary: 'An application serves on fd 0 whether it is an AF_UNIX or an AF_INET listening socket, without being told which.',
    check: 'process',
    how: 'Spawn the application twice without FCGI_WEB_SERVER_ADDRS, with fd 0 an AF_UNIX listening socket and then an AF_INET one; a Responder request must be served over both.',
    draftIds: ['FCGI-2.2-4'],
  },
  'FCGI-2.3-environment': {
    section: '2.3',
    side: 'web-server',
    level: 'may',
    quote:
      'The Web server may use environment variables to pass parameters to the application. This specification defines one such variable, FCGI_WEB_SERVER_ADDRS; we expect more to be defined as the specification evolves. The Web server may provide a way to bind other environment variables, such as the PATH variable.',
    summary: 'The web server may pass parameters in the environment; FCGI_WEB_SERVER_ADDRS is the one the spec defines.',
    check: 'process',
    how: "The spawned helper writes its environment to a side file; every variable is recorded, and FCGI_WEB_SERVER_ADDRS, when present, is checked against the syntax FCGI-3.2-web-server-addrs describes.",
    draftIds: ['FCGI-2.3-1'],
  },
  'FCGI-2.4-other-state': {
    section: '2.4',
    side: 'web-server',
    level: 'may',
    quote:
      "The Web server may provide a way to specify other components of an application's initial process state, such as the priority, user ID, group ID, root directory, and working directory of the process.",
    summary: 'The web server may set the priority, uid, gid, root and working directory of a spawned application.',
    check: 'process',
    how: 'The spawned helper records its nice value, uid, gid, root and working directory; nothing is judged, since each is a configuration option.',
    draftIds: ['FCGI-2.4-1'],
  },

  // ── 3.1 Notation, 3.2 Accepting transport connections ───────────────────────────────────────────────────
  'FCGI-3.1-byte-order': {
    section: '3.1',
    side: 'both',
    level: 'must',
    quote:
      'All structure elements are defined in terms of the unsigned char type, and are arranged so that an ISO C compiler lays them out in the obvious manner, with no padding. The first byte defined in the structure is transmitted first, the second byte second, etc. We use two conventions to abbreviate our definitions. First, when two adjacent structure components are named identically except for the suffixes "B1" and "B0," it means that the two components may be viewed as a single number, computed as B1<<8 + B0.',
    summary:
      'Structures go on the wire byte by byte in declaration order with no implicit padding, and multi-byte numbers (requestId, contentLength, role, appStatus, four-byte lengths) are big-endian.',
    check: 'probe-app',
    how: 'Run a request with requestId 0x0102 whose PARAMS is one record of contentLength 0x0103 and whose STDIN record has contentLength 0x0201: the application must answer on id 0x0102 and report params and body intact, which it cannot do if it reads either number little-endian. Captures from both sides are decoded at the exact byte offsets of the spec structs.',
    draftIds: ['FCGI-3.1-1'],
  },
  'FCGI-3.2-accept-on-fd0': {
    section: '3.2',
    side: 'application',
    level: 'must',
    quote:
      'A FastCGI application calls accept() on the socket referred to by file descriptor FCGI_LISTENSOCK_FILENO to accept a new transport connection.',
    summary: 'A spawned application accepts its connections on the listening socket at fd 0.',
    check: 'process',
    how: 'Spawn the application with a listening socket as fd 0 and no address argument; connect to that socket and send a Responder request: it must be served.',
    draftIds: ['FCGI-3.2-1'],
  },
  'FCGI-3.2-web-server-addrs': {
    section: '3.2',
    side: 'application',
    level: 'must',
    quote:
      "If FCGI_WEB_SERVER_ADDRS was bound, the application checks the peer IP address of the new connection for membership in the list. If the check fails (including the possibility that the connection didn't use TCP/IP transport), the application responds by closing the connection. FCGI_WEB_SERVER_ADDRS is expressed as a comma-separated list of IP addresses. Each IP address is written as four decimal numbers in the range [0..255] separated by decimal points. So one legal binding for this variable is FCGI_WEB_SERVER_ADDRS=199.170.183.28,199.170.183.71.",
    summary:
      'With FCGI_WEB_SERVER_ADDRS set (comma-separated dotted-quad IPv4 addresses), an application serves listed peers and closes, without sending anything, every other connection, non-TCP ones included.',
    check: 'process',
    how: 'Spawn with FCGI_WEB_SERVER_ADDRS=127.0.0.2,127.0.0.1 and fd 0 listening on 127.0.0.1: a request from 127.0.0.1 must be served. With FCGI_WEB_SERVER_ADDRS=127.0.0.2, a request from 127.0.0.1 must meet a close with no record; so must one over an AF_UNIX listening socket with FCGI_WEB_SERVER_ADDRS=127.0.0.1. Spaces, IPv6 or CIDR forms are extensions and are not tested.',
    draftIds: ['FCGI-3.2-2', 'FCGI-3.2-3', 'FCGI-3.2-4'],
  },
  'FCGI-3.2-concurrent-connections': {
    section: '3.2',
    side: 'application',
    level: 'may',
    quote: 'An application may accept several concurrent transport connections, but it need not do so.',
    summary: 'An application may serve several connections at once, or one after another.',
    check: 'probe-app',
    how: 'Open several connections and start a request on each; record how many are served concurrently. An application that serves them one after another is not failed, provided every request is served in the end.',
    draftIds: ['FCGI-3.2-5'],
  },

  // ── 3.3 Records ───────────────────────────────────────────────────────────────────────────────────────────
  'FCGI-3.3-records-only': {
    section: '3.3',
    side: 'both',
    level: 'must',
    quote: 'All data that flows over the transport connection is carried in FastCGI records.',
    summary: 'Every byte a peer sends belongs to a record; there are no bytes outside records.',
    check: 'bytes',
    how: 'The codec frames each captured byte stream from its first byte to its last; bytes that do not frame, such as a record cut short by a close, are reported.',
    draftIds: ['FCGI-3.3-1'],
  },
  'FCGI-3.3-any-segmentation-app': {
    section: '3.3',
    side: 'application',
    level: 'must',
    levelReason: 'The transport is a byte stream: only record headers delimit records, so a reader that depends on how writes were cut breaks the framing rule itself.',
    quote: 'All data that flows over the transport connection is carried in FastCGI records.',
    summary: 'The application reads records however the transport cuts the byte stream: one byte at a time, cut at any offset, or many records in one read.',
    check: 'probe-app',
    how: 'Send the same request written byte by byte, cut at every offset, and coalesced with other records in one write; each must be served like the plain request.',
  },
  'FCGI-3.3-header-layout': {
    section: '3.3',
    side: 'both',
    level: 'must',
    quote:
      'typedef struct { unsigned char version; unsigned char type; unsigned char requestIdB1; unsigned char requestIdB0; unsigned char contentLengthB1; unsigned char contentLengthB0; unsigned char paddingLength; unsigned char reserved; unsigned char contentData[contentLength]; unsigned char paddingData[paddingLength]; } FCGI_Record; A FastCGI record consists of a fixed-length prefix followed by a variable number of content and padding bytes.',
    summary:
      'A record is an 8-byte header (version, type, requestId, contentLength, paddingLength, reserved), then contentLength content bytes and paddingLength padding bytes.',
    check: 'bytes',
    how: 'The codec reads the eight header fields at offsets 0..7 and then exactly contentLength + paddingLength bytes; every captured record is framed this way.',
    draftIds: ['FCGI-3.3-2'],
  },
  'FCGI-3.3-version-1': {
    section: '3.3',
    side: 'both',
    level: 'must',
    quote: 'version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1.',
    summary: 'Senders put FCGI_VERSION_1 (1) in the version byte of every record.',
    check: 'bytes',
    how: 'Every captured record from the peer under test has version 1.',
    draftIds: ['FCGI-3.3-3'],
  },
  'FCGI-3.3-max-lengths-app': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      'contentData: Between 0 and 65535 bytes of data, interpreted according to the record type. paddingData: Between 0 and 255 bytes of data, which are ignored.',
    summary: 'An application accepts any contentLength 0..65535 with any paddingLength 0..255, both maxima in one record included.',
    check: 'probe-app',
    how: 'Send PARAMS as one record of contentLength 65535 and paddingLength 255 (a filler pair brings the stream to size), then a STDIN record of 65535 bytes with padding 255: the request must be served with params and body intact.',
    draftIds: ['FCGI-3.3-5'],
  },
  'FCGI-3.3-padding-discarded': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      'The protocol allows senders to pad the records they send, and requires receivers to interpret the paddingLength and skip the paddingData.',
    summary:
      'An application skips paddingData of any length and any byte value, on every record type, empty stream terminators included.',
    check: 'probe-app',
    how: 'Pad every record of a request (BEGIN_REQUEST, PARAMS, the empty PARAMS and STDIN records, and a GET_VALUES) with 1..255 bytes of 0xAA; with FCGI_KEEP_CONN set, a second request on the same connection must be served as well.',
    draftIds: ['FCGI-3.3-6', 'FCGI-3.3-7'],
  },
  'FCGI-3.3-padding-discarded-web-server': {
    section: '3.3',
    side: 'web-server',
    level: 'must',
    quote:
      'The protocol allows senders to pad the records they send, and requires receivers to interpret the paddingLength and skip the paddingData.',
    summary:
      'A web server skips paddingData of any length and byte value on every record it reads, and accepts any contentLength 0..65535 with it.',
    check: 'probe-web-server',
    how: 'The harness pads every STDOUT, STDERR and END_REQUEST record it sends, the empty STDOUT record included, with 1..255 bytes of 0xAA, and sends some STDOUT records of contentLength 65535 with paddingLength 255: the HTTP response must hold exactly the content bytes, and with FCGI_KEEP_CONN the next request on the connection must work.',
    draftIds: ['FCGI-3.3-5', 'FCGI-3.3-6', 'FCGI-3.3-7'],
  },
  'FCGI-3.3-align-8': {
    section: '3.3',
    side: 'both',
    level: 'should',
    levelReason: 'Worded "We recommend".',
    quote:
      'We recommend that records be placed on boundaries that are multiples of eight bytes. The fixed-length portion of a FCGI_Record is eight bytes.',
    summary: 'Senders pad records so that 8 + contentLength + paddingLength is a multiple of 8.',
    check: 'bytes',
    how: 'For every captured record from the peer under test, 8 + contentLength + paddingLength must be a multiple of 8.',
    draftIds: ['FCGI-3.3-8'],
  },
  'FCGI-3.3-reserved-zero': {
    section: '3.3',
    side: 'both',
    level: 'should',
    levelReason: 'The field is named reserved but no value is given for it; zero is the conventional reading.',
    quote: 'unsigned char paddingLength; unsigned char reserved; unsigned char contentData[contentLength];',
    summary: 'Senders put 0 in the reserved header byte.',
    check: 'bytes',
    how: 'Every captured record header from the peer under test has reserved = 0.',
    draftIds: ['FCGI-3.3-9'],
  },
  'FCGI-3.3-reserved-ignored': {
    section: '3.3',
    side: 'application',
    level: 'should',
    levelReason: 'Reserved fields carry no meaning in 1.0; that receivers ignore their values is implied, not stated.',
    quote: 'unsigned char paddingLength; unsigned char reserved; unsigned char contentData[contentLength];',
    summary:
      'An application ignores the values of reserved fields: the header byte, and the undefined flag bits and 5 reserved bytes of BEGIN_REQUEST.',
    check: 'probe-app',
    how: 'Send a full request whose record headers all have reserved = 0xFF, and whose BEGIN_REQUEST has flags 0xFF (FCGI_KEEP_CONN plus every undefined bit) and reserved bytes 0x20: it must be served, and the connection kept open, exactly as with zeros and flags 1.',
    draftIds: ['FCGI-3.3-9', 'FCGI-5.1-7'],
  },
  'FCGI-3.3-stream-value-app': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      "The contentData components of a stream's records, when concatenated, form a byte sequence; this byte sequence is the value of the stream. Therefore the value of a stream is independent of how many records it contains or how its bytes are divided among the non-empty records.",
    summary:
      "An application reassembles PARAMS, STDIN and DATA from records split at any byte, including inside a name-value pair's length bytes, name or value.",
    check: 'probe-app',
    how: 'Send the same request with PARAMS and STDIN as one record each, as 1-byte records, and cut at random offsets (property-based, seed reported); a probe handler that reports what it received must see identical params and body every time.',
    draftIds: ['FCGI-3.3-10', 'FCGI-3.4-6'],
  },
  'FCGI-3.3-stream-value-web-server': {
    section: '3.3',
    side: 'web-server',
    level: 'must',
    quote:
      "The contentData components of a stream's records, when concatenated, form a byte sequence; this byte sequence is the value of the stream. Therefore the value of a stream is independent of how many records it contains or how its bytes are divided among the non-empty records.",
    summary: 'A web server reassembles STDOUT and STDERR from records of any size split at any byte, interleaved in any order.',
    check: 'probe-web-server',
    how: 'The harness sends the same CGI response as one STDOUT record, as 1-byte records (header lines cut mid-line), and cut at random offsets with STDERR records interleaved, and the records of Appendix B example 3 (appStatus 938): the HTTP client must receive the same complete response each time.',
    draftIds: ['FCGI-5.3-6', 'FCGI-B-3'],
  },
  'FCGI-3.3-stream-terminator': {
    section: '3.3',
    side: 'both',
    level: 'must',
    quote:
      'A stream record is part of a stream, i.e. a series of zero or more non-empty records (length != 0) of the stream type, followed by an empty record (length == 0) of the stream type.',
    summary: 'Each stream a peer sends for a request ends with one empty record of that stream type.',
    check: 'bytes',
    how: 'Per request in the capture, each PARAMS, STDIN and DATA stream from a web server and each STDOUT stream from an application ends with a record of contentLength 0 before the request ends. (STDERR is graded by FCGI-X-stderr-terminated.)',
    draftIds: ['FCGI-3.3-11'],
  },
  'FCGI-3.3-nothing-after-terminator': {
    section: '3.3',
    side: 'both',
    level: 'should',
    levelReason: 'Follows from the definition of a stream (one empty record ends it); not stated as a rule.',
    quote:
      'A stream record is part of a stream, i.e. a series of zero or more non-empty records (length != 0) of the stream type, followed by an empty record (length == 0) of the stream type.',
    summary: "After a stream's empty record, the sender sends no more records of that type for the request.",
    check: 'bytes',
    how: 'After a peer sends the empty record of a stream type for request R, no further record of that type for R (data or a second empty record) may appear until R is begun again.',
    draftIds: ['FCGI-3.3-12'],
  },
  'FCGI-3.3-management-null-id': {
    section: '3.3',
    side: 'both',
    level: 'must',
    quote:
      'Management records have a requestId value of zero, also called the null request ID. Application records have a nonzero requestId.',
    summary: 'Management records (GET_VALUES, GET_VALUES_RESULT, UNKNOWN_TYPE) use requestId 0; application records never do.',
    check: 'bytes',
    how: 'In every capture, GET_VALUES, GET_VALUES_RESULT and UNKNOWN_TYPE records carry requestId 0 and records of the other defined types carry a non-zero requestId.',
    draftIds: ['FCGI-3.3-13'],
  },
  'FCGI-3.3-request-id-reuse': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      'A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R, ...} and becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...} to the Web server.',
    summary: 'An application accepts a new request on the id of a request it has ended on the same connection.',
    check: 'probe-app',
    how: 'With FCGI_KEEP_CONN set, run three requests one after another on one connection, all with requestId 1: each must be served.',
    draftIds: ['FCGI-3.3-14'],
  },
  'FCGI-3.3-web-server-waits-for-end': {
    section: '3.3',
    side: 'web-server',
    level: 'should',
    levelReason: 'An id stays active until its END_REQUEST, so beginning it again earlier is implied to be wrong; the text does not say so.',
    quote:
      'The Web server re-uses FastCGI request IDs; the application keeps track of the current state of each request ID on a given transport connection.',
    summary: 'A web server does not send BEGIN_REQUEST for an id on a connection before it has received END_REQUEST for that id.',
    check: 'probe-web-server',
    how: 'The harness holds back END_REQUEST for R while the HTTP client sends more requests; no BEGIN_REQUEST for R may arrive on that connection before the harness has sent END_REQUEST for R.',
    draftIds: ['FCGI-3.3-14', 'FCGI-X-8'],
  },
  'FCGI-3.3-inactive-id-ignored': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      'While a request ID R is inactive, the application ignores records with requestId == R, except for FCGI_BEGIN_REQUEST records as just described.',
    summary: 'An application ignores every record except BEGIN_REQUEST for an id that is not active, and keeps the connection.',
    check: 'probe-app',
    how: 'With FCGI_KEEP_CONN set, after END_REQUEST for id 1 send stray PARAMS, STDIN, DATA and ABORT_REQUEST records for id 1, and the same for id 7 that was never begun; then a new request: no record may answer the strays and the new request must be served on the same connection.',
    draftIds: ['FCGI-3.3-15', 'FCGI-5.4-7'],
  },
  'FCGI-3.3-no-records-after-end': {
    section: '3.3',
    side: 'application',
    level: 'must',
    quote:
      'A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R, ...} and becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...} to the Web server.',
    summary: 'After END_REQUEST for R an application sends no record for R until the web server begins R again.',
    check: 'bytes',
    how: 'In every application capture, no record with requestId R (a second END_REQUEST included) follows END_REQUEST for R unless a new BEGIN_REQUEST for R came in between; checked after served, rejected and aborted requests.',
    draftIds: ['FCGI-3.3-16'],
  },
  'FCGI-3.3-begin-on-active-id': {
    section: '3.3',
    side: 'application',
    level: 'info',
    levelReason: 'The spec says when an id becomes active but not what a second BEGIN_REQUEST for an active id means.',
    quote:
      'A request ID R becomes active when the application receives a record {FCGI_BEGIN_REQUEST, R, ...} and becomes inactive when the application sends a record {FCGI_END_REQUEST, R, ...} to the Web server.',
    summary: 'Records what an application does with BEGIN_REQUEST for an id that is already active.',
    check: 'probe-app',
    how: 'Send BEGIN_REQUEST 1 twice before request 1 ends; record whether the application ignores the second, rejects it, restarts the request or closes the connection, and whether request 1 still completes.',
    draftIds: ['FCGI-5.1-9'],
  },
  'FCGI-3.3-small-request-ids': {
    section: '3.3',
    side: 'web-server',
    level: 'should',
    levelReason: '"Attempts to" states an aim, not a rule.',
    quote:
      'The Web server attempts to keep FastCGI request IDs small. That way the application can keep track of request ID states using a short array rather than a long array or a hash table.',
    summary: 'A web server uses the smallest free request ids rather than ever-growing ones.',
    check: 'probe-web-server',
    how: 'Over sequential and concurrent HTTP requests, record the requestIds used on each connection; warn when an id exceeds the largest number of requests active at once on that connection, since a smaller id was free.',
    draftIds: ['FCGI-3.3-17'],
  },

  // ── 3.4 Name-value pairs, 3.5 Closing transport connections ──────────────────────────────────────────────
  'FCGI-3.4-pair-layout': {
    section: '3.4',
    side: 'both',
    level: 'must',
    quote:
      'FastCGI transmits a name-value pair as the length of the name, followed by the length of the value, followed by the name, followed by the value.',
    summary: 'A name-value pair is nameLength, valueLength, name bytes, value bytes, in that order.',
    check: 'bytes',
    how: "The codec decodes each request's concatenated PARAMS stream, and the content of each GET_VALUES and GET_VALUES_RESULT record, as a sequence of whole pairs; leftover or missing bytes are reported.",
    draftIds: ['FCGI-3.4-1'],
  },
  'FCGI-3.4-four-byte-length': {
    section: '3.4',
    side: 'both',
    level: 'must',
    quote:
      'Lengths of 127 bytes and less can be encoded in one byte, while longer lengths are always encoded in four bytes:',
    summary: "A length above 127 is sent in the four-byte form (high bit of the first byte set, 31-bit value).",
    check: 'bytes',
    how: 'Decode every pair a peer sends (PARAMS from a web server, driven with header and query values of 127, 128 and 65536 bytes; GET_VALUES_RESULT from an application): every four-byte length has the high bit set, and no length above 127 is sent in one byte.',
    draftIds: ['FCGI-3.4-2'],
  },
  'FCGI-3.4-length-forms-accepted': {
    section: '3.4',
    side: 'application',
    level: 'must',
    quote:
      "The high-order bit of the first byte of a length indicates the length's encoding. A high-order zero implies a one-byte encoding, a one a four-byte encoding.",
    summary:
      'An application decodes all four pair layouts (11, 14, 41, 44), chosen by the high bit, including a four-byte encoding of a short length.',
    check: 'probe-app',
    how: 'Send params with name and value lengths 0, 1, 127, 128, 65535, 65536 and 100000 in every combination, plus pairs whose short lengths use the four-byte form (0x80000005); a probe handler must report every pair exactly.',
    draftIds: ['FCGI-3.4-2', 'FCGI-3.4-3', 'FCGI-3.4-4'],
  },
  'FCGI-3.4-binary-values': {
    section: '3.4',
    side: 'application',
    level: 'should',
    levelReason: 'Stated as a property of the format rather than a duty; passing arbitrary bytes through is implied.',
    quote:
      'This name-value pair format allows the sender to transmit binary values without additional encoding, and enables the receiver to allocate the correct amount of storage immediately even for large values.',
    summary: 'An application passes name-value data through byte for byte, whatever the bytes.',
    check: 'probe-app',
    how: 'Send a non-CGI param whose value holds every byte 0x01..0xFF, and another holding 0x00 bytes; a probe handler must report the exact bytes (a library that cuts values at NUL gets a warning). CGI textual values carry no NUL: see FCGI-6.1-params-no-nul.',
    draftIds: ['FCGI-3.4-5'],
  },
  'FCGI-3.4-bad-lengths-survived': {
    section: '3.4',
    side: 'application',
    level: 'should',
    levelReason:
      'Malformed input with no stated handling; the spec even invites allocating from the declared length, so only a clean outcome is asked for.',
    quote:
      'This name-value pair format allows the sender to transmit binary values without additional encoding, and enables the receiver to allocate the correct amount of storage immediately even for large values.',
    summary:
      'A pair whose declared lengths run past the end of the PARAMS stream, or declare up to 0x7fffffff bytes, is refused cleanly: no crash, no unbounded allocation, other connections unaffected.',
    check: 'probe-app',
    how: 'End a PARAMS stream 3 bytes into a declared value; separately declare nameLength 0x7fffffff followed by a few bytes and the empty PARAMS record. END_REQUEST or a close is accepted for the request; a fresh connection must be served afterwards, promptly.',
    draftIds: ['FCGI-3.4-6', 'FCGI-3.4-7'],
  },
  'FCGI-3.5-web-server-controls-lifetime': {
    section: '3.5',
    side: 'web-server',
    level: 'should',
    levelReason: 'The sentences grant the server control; that it closes only idle connections, short of an abort, is implied.',
    quote:
      'The Web server controls the lifetime of transport connections. The Web server can close a connection when no requests are active.',
    summary: 'A web server closes a connection only when no request is active on it, unless it is aborting them.',
    check: 'probe-web-server',
    how: 'The harness, behind a server that sets FCGI_KEEP_CONN, answers slowly while the HTTP client waits: the server must not close the connection before END_REQUEST (a close because the HTTP client left is an abort, FCGI-5.4-abort-on-client-close). Idle closes are recorded.',
    draftIds: ['FCGI-3.5-1'],
  },
  'FCGI-3.5-accept-after-close': {
    section: '3.5',
    side: 'application',
    level: 'should',
    levelReason:
      'The text says the application "initiates a new connection"; the suite reads it as accepting the next one (FCGI-X-10), which the spec states only loosely.',
    quote:
      'When an application closes a connection or finds that a connection has closed, the application initiates a new connection.',
    summary: 'After a connection closes, from either side and at any point, an application goes on accepting and serving new connections.',
    check: 'probe-app',
    how: 'Close a connection in the middle of a request (after PARAMS, before STDIN ends) and another right after END_REQUEST; a new connection must then be accepted and served.',
    draftIds: ['FCGI-3.5-4', 'FCGI-X-10'],
  },

  // ── 4. Management record types ─────────────────────────────────────────────────────────────────────────
  'FCGI-4.1-get-values-form': {
    section: '4.1',
    side: 'web-server',
    level: 'must',
    quote:
      'The application receives a query as a record {FCGI_GET_VALUES, 0, ...}. The contentData portion of a FCGI_GET_VALUES record contains a sequence of name-value pairs with empty values.',
    summary: 'A web server queries with FCGI_GET_VALUES on requestId 0, whose content is name-value pairs with empty values.',
    check: 'probe-web-server',
    how: 'Record whether and when the server sends FCGI_GET_VALUES (the spec expects it typically at startup; not sending it is conformant); each one must have requestId 0 and content decoding as whole pairs with valueLength 0.',
    draftIds: ['FCGI-4.1-1'],
  },
  'FCGI-4.1-get-values-answered': {
    section: '4.1',
    side: 'application',
    level: 'must',
    quote: 'The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...} with the values supplied.',
    summary: 'An application answers FCGI_GET_VALUES with one FCGI_GET_VALUES_RESULT on requestId 0 holding name-value pairs.',
    check: 'probe-app',
    how: 'On a fresh connection send {FCGI_GET_VALUES, 0, FCGI_MAX_CONNS FCGI_MAX_REQS FCGI_MPXS_CONNS}; expect exactly one GET_VALUES_RESULT on id 0 within the timeout, its content decoding as whole pairs.',
    draftIds: ['FCGI-4.1-2'],
  },
  'FCGI-4.1-unknown-name-omitted': {
    section: '4.1',
    side: 'application',
    level: 'must',
    quote:
      "If the application doesn't understand a variable name that was included in the query, it omits that name from the response.",
    summary: 'Names the application does not understand are left out of FCGI_GET_VALUES_RESULT.',
    check: 'probe-app',
    how: 'Query FCGI_MAX_CONNS and FCGISPEC_UNKNOWN_NAME: the result must not contain the unknown name (an empty result is fine when neither is understood).',
    draftIds: ['FCGI-4.1-3'],
  },
  'FCGI-4.1-only-names-asked': {
    section: '4.1',
    side: 'application',
    level: 'should',
    levelReason: 'Implied by answering "with the values supplied" for the query; not stated.',
    quote: 'The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...} with the values supplied.',
    summary: 'FCGI_GET_VALUES_RESULT holds only names that were asked, each once.',
    check: 'probe-app',
    how: 'Query FCGI_MAX_REQS alone, then a query naming FCGI_MAX_REQS twice: the result may hold only names from the query, each at most once.',
    draftIds: ['FCGI-4.1-4'],
  },
  'FCGI-4.1-limit-values': {
    section: '4.1',
    side: 'application',
    level: 'info',
    levelReason:
      "The values are the application's own limits; the spec fixes their meaning but not their scope (one process or a pool), see FCGI-X-11.",
    quote:
      'FCGI_MAX_CONNS: The maximum number of concurrent transport connections this application will accept, e.g. "1" or "10". FCGI_MAX_REQS: The maximum number of concurrent requests this application will accept, e.g. "1" or "50".',
    summary: 'Records FCGI_MAX_CONNS and FCGI_MAX_REQS, and whether they are decimal integers consistent with observed behaviour.',
    check: 'probe-app',
    how: 'Record both values; report a value that is not a decimal integer. When FCGI_MAX_CONNS is small (at most 8), open that many connections at once and record whether each is served; compare FCGI_MAX_REQS with the concurrency seen in FCGI-3.2-concurrent-connections.',
    draftIds: ['FCGI-4.1-5', 'FCGI-4.1-6', 'FCGI-X-11'],
  },
  'FCGI-4.1-limits-honoured': {
    section: '4.1',
    side: 'application',
    level: 'should',
    levelReason:
      'A claimed limit is a promise to the web server: refusing below it breaks the web server\'s plan, though the spec names no penalty; serving more than claimed is fine.',
    quote:
      'FCGI_MAX_CONNS: The maximum number of concurrent transport connections this application will accept, e.g. "1" or "10". FCGI_MAX_REQS: The maximum number of concurrent requests this application will accept, e.g. "1" or "50".',
    summary: 'Up to its claimed FCGI_MAX_CONNS and FCGI_MAX_REQS, an application accepts connections and runs requests concurrently.',
    check: 'probe-app',
    how: 'Open min(FCGI_MAX_CONNS, 64) connections, each with a sleeping probe request, and check each is served concurrently; likewise FCGI_MAX_REQS requests on one connection when multiplexing is claimed. Refusal or serialisation below the claim is a finding; behaviour past the claim is recorded.',
  },
  'FCGI-4.1-mpxs-conns': {
    section: '4.1',
    side: 'application',
    level: 'should',
    levelReason:
      'The spec defines the two values, but an application need not understand the name; a value contradicting behaviour is implied to be wrong.',
    quote:
      'FCGI_MPXS_CONNS: "0" if this application does not multiplex connections (i.e. handle concurrent requests over each connection), "1" otherwise.',
    summary: 'FCGI_MPXS_CONNS, when answered, is "0" or "1" and matches what the application does with concurrent requests on one connection.',
    check: 'probe-app',
    how: 'If the answer is "1", run FCGI-B-multiplexed-app on one connection; if "0", a second concurrent request must be rejected with FCGI_CANT_MPX_CONN or deferred, never lost. Any other value is reported.',
    draftIds: ['FCGI-4.1-7'],
  },
  'FCGI-4.1-get-values-any-time': {
    section: '4.1',
    side: 'application',
    level: 'must',
    quote: 'An application may receive a FCGI_GET_VALUES record at any time.',
    summary:
      "An application answers FCGI_GET_VALUES whenever it arrives (first on a connection, between requests, between a request's records) without disturbing the connection or its requests.",
    check: 'probe-app',
    how: "Send GET_VALUES alone on a fresh connection, between two requests with FCGI_KEEP_CONN, and between a request's PARAMS and STDIN records: each must be answered without the harness sending anything more, and the request must complete normally. Then send GET_VALUES first on a connection followed by a request with FCGI_KEEP_CONN clear: the request must be served before the application closes.",
    draftIds: ['FCGI-4.1-8', 'FCGI-4.1-10'],
  },
  'FCGI-4.1-answered-by-library': {
    section: '4.1',
    side: 'application',
    level: 'should',
    levelReason: 'The spec itself says "should".',
    quote: "The application's response should not involve the application proper but only the FastCGI library.",
    summary: 'FCGI_GET_VALUES is answered by the library at once, even while request handlers are busy.',
    check: 'probe-app',
    how: 'Start a request whose probe handler blocks, then send GET_VALUES on a second connection (and on the same one when FCGI_MPXS_CONNS is "1"): the answer must come within the short timeout, not after the handler ends.',
    draftIds: ['FCGI-4.1-9'],
  },
  'FCGI-4.1-web-server-respects-limits': {
    section: '4.1',
    side: 'web-server',
    level: 'should',
    levelReason: 'The variables exist to guide the server; obeying them is implied, not stated.',
    quote:
      'FCGI_GET_VALUES is designed to allow an open-ended set of variables. The initial set provides information to help the server perform application and connection management:',
    summary: 'A web server that queried the limits keeps within them.',
    check: 'probe-web-server',
    how: 'When the server queries, the harness answers FCGI_MAX_CONNS "1", FCGI_MAX_REQS "1", FCGI_MPXS_CONNS "0"; under concurrent HTTP load the server must keep at most one connection and one active request to the harness. Skipped when the server never queries.',
  },
  'FCGI-4.2-unknown-type-reply': {
    section: '4.2',
    side: 'application',
    level: 'must',
    quote:
      'The set of management record types is likely to grow in future versions of this protocol. To provide for this evolution, the protocol includes the FCGI_UNKNOWN_TYPE management record. When an application receives a management record whose type T it does not understand, the application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}.',
    summary:
      'An application answers a management record of a type it does not understand with {FCGI_UNKNOWN_TYPE, 0, {T}}, skips its content and padding, and keeps the connection.',
    check: 'probe-app',
    how: 'Send management records of types 12, 42 and 255 on requestId 0, empty and with 8 content bytes plus 7 padding bytes; each must be answered by one FCGI_UNKNOWN_TYPE on id 0 naming T, and a full request sent afterwards on the same connection must be served.',
    draftIds: ['FCGI-4.2-1', 'FCGI-4.2-2'],
  },
  'FCGI-4.2-unknown-type-body': {
    section: '4.2',
    side: 'application',
    level: 'must',
    quote:
      'The contentData component of a FCGI_UNKNOWN_TYPE record has the form: typedef struct { unsigned char type; unsigned char reserved[7]; } FCGI_UnknownTypeBody; The type component is the type of the unrecognized management record.',
    summary: 'An FCGI_UNKNOWN_TYPE body is 8 bytes: the unrecognised type, then 7 reserved bytes.',
    check: 'bytes',
    how: 'Every captured FCGI_UNKNOWN_TYPE has contentLength 8 and a first byte equal to the type of a management record the application received before it.',
    draftIds: ['FCGI-4.2-1'],
  },
  'FCGI-4.2-unknown-type-reserved-zero': {
    section: '4.2',
    side: 'application',
    level: 'should',
    levelReason: 'No value is given for reserved bytes; zero is the conventional reading.',
    quote: 'typedef struct { unsigned char type; unsigned char reserved[7]; } FCGI_UnknownTypeBody;',
    summary: 'The 7 reserved bytes of an FCGI_UNKNOWN_TYPE body are 0.',
    check: 'bytes',
    how: 'The seven reserved bytes of every captured FCGI_UNKNOWN_TYPE body are 0.',
    draftIds: ['FCGI-4.2-4'],
  },
  'FCGI-4.2-server-bound-types-unknown': {
    section: '4.2',
    side: 'application',
    level: 'should',
    levelReason:
      'GET_VALUES_RESULT and UNKNOWN_TYPE are only ever sent to the web server (Appendix A); treating them as not understood is our reading.',
    quote:
      'When an application receives a management record whose type T it does not understand, the application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}.',
    summary: 'An application that receives GET_VALUES_RESULT or UNKNOWN_TYPE answers FCGI_UNKNOWN_TYPE naming it.',
    check: 'probe-app',
    how: 'Send {FCGI_GET_VALUES_RESULT, 0, ...} and {FCGI_UNKNOWN_TYPE, 0, {42}}: expect FCGI_UNKNOWN_TYPE answers naming 10 and 11. Silence is a warning; a close is reported as well.',
    draftIds: ['FCGI-4.2-3'],
  },

  // ── 5.1 FCGI_BEGIN_REQUEST ───────────────────────────────────────────────────────────────────────────────
  'FCGI-5.1-begin-request-starts': {
    section: '5.1',
    side: 'web-server',
    level: 'must',
    quote:
      'The Web server sends a FCGI_BEGIN_REQUEST record to start a request. The contentData component of a FCGI_BEGIN_REQUEST record has the form: typedef struct { unsigned char roleB1; unsigned char roleB0; unsigned char flags; unsigned char reserved[5]; } FCGI_BeginRequestBody;',
    summary: 'Each request starts with a BEGIN_REQUEST whose body is 8 bytes: role (2), flags (1), reserved (5).',
    check: 'bytes',
    how: 'In the web server capture, the first record of every request is BEGIN_REQUEST with contentLength 8, and no application record for an id precedes its BEGIN_REQUEST.',
    draftIds: ['FCGI-5.1-1'],
  },
  'FCGI-5.1-malformed-begin-body': {
    section: '5.1',
    side: 'application',
    level: 'should',
    levelReason: 'A BEGIN_REQUEST body of the wrong length is malformed and has no stated handling; only a clean outcome is asked for.',
    quote:
      'typedef struct { unsigned char roleB1; unsigned char roleB0; unsigned char flags; unsigned char reserved[5]; } FCGI_BeginRequestBody;',
    summary: 'A BEGIN_REQUEST body that is not 8 bytes long is refused cleanly, without crashing the application.',
    check: 'probe-app',
    how: 'Send BEGIN_REQUEST bodies of 7 and 9 bytes, each followed by PARAMS and STDIN; END_REQUEST or a close is accepted, and a fresh connection must be served afterwards.',
    draftIds: ['FCGI-5.1-2'],
  },
  'FCGI-5.1-role-values': {
    section: '5.1',
    side: 'web-server',
    level: 'must',
    quote:
      'The role component sets the role the Web server expects the application to play. The currently-defined roles are: FCGI_RESPONDER FCGI_AUTHORIZER FCGI_FILTER',
    summary: 'A web server sends role 1 (Responder), 2 (Authorizer) or 3 (Filter) as a 16-bit big-endian number.',
    check: 'bytes',
    how: 'Every captured BEGIN_REQUEST has role (B1 << 8) + B0 equal to 1, 2 or 3, and equal to the role the server was configured to use.',
    draftIds: ['FCGI-5.1-3'],
  },
  'FCGI-5.1-unknown-role': {
    section: '5.1',
    side: 'application',
    level: 'must',
    quote:
      'FCGI_UNKNOWN_ROLE: rejecting a new request. This happens when the Web server has specified a role that is unknown to the application.',
    summary: 'An application rejects a role it does not know with END_REQUEST protocolStatus FCGI_UNKNOWN_ROLE.',
    check: 'probe-app',
    how: 'Send BEGIN_REQUEST with role 0, 4, 9 and 0x0101, each with PARAMS and STDIN and FCGI_KEEP_CONN set: expect {FCGI_END_REQUEST, R, {appStatus, FCGI_UNKNOWN_ROLE}} without STDOUT, and a Responder request sent afterwards on the connection must be served.',
    draftIds: ['FCGI-5.1-4', 'FCGI-5.5-5'],
  },
  'FCGI-5.1-keep-conn-clear-closes': {
    section: '5.1',
    side: 'application',
    level: 'must',
    quote: 'flags & FCGI_KEEP_CONN: If zero, the application closes the connection after responding to this request.',
    summary: 'With FCGI_KEEP_CONN clear, the application closes the connection after END_REQUEST.',
    check: 'probe-app',
    how: 'Send a request with flags 0; after END_REQUEST the application must close the connection (EOF seen) within the short timeout, without the harness closing first.',
    draftIds: ['FCGI-5.1-5', 'FCGI-3.5-2', 'FCGI-3.5-3'],
  },
  'FCGI-5.1-keep-conn-set-stays-open': {
    section: '5.1',
    side: 'application',
    level: 'must',
    quote:
      'If not zero, the application does not close the connection after responding to this request; the Web server retains responsibility for the connection.',
    summary: 'With FCGI_KEEP_CONN set, the application leaves the connection open after the request, whatever its outcome.',
    check: 'probe-app',
    how: 'With FCGI_KEEP_CONN set, run a served request, a request rejected with FCGI_UNKNOWN_ROLE and an aborted request in turn on one connection, then a fourth request: the connection must stay open and every request be answered.',
    draftIds: ['FCGI-5.1-6'],
  },
  'FCGI-5.1-no-request-after-clear': {
    section: '5.1',
    side: 'web-server',
    level: 'should',
    levelReason: 'Implied: with the flag clear the application will close, so the server cannot count on the connection.',
    quote: 'flags & FCGI_KEEP_CONN: If zero, the application closes the connection after responding to this request.',
    summary: 'After a request sent with FCGI_KEEP_CONN clear, a web server sends no further request on that connection.',
    check: 'probe-web-server',
    how: 'When the server sends BEGIN_REQUEST with FCGI_KEEP_CONN clear, the harness delays its close after END_REQUEST; no further BEGIN_REQUEST may arrive on that connection.',
  },
  'FCGI-5.1-flags-reserved-zero': {
    section: '5.1',
    side: 'web-server',
    level: 'should',
    levelReason: 'No value is given for undefined flag bits or reserved bytes; zero is the conventional reading.',
    quote: 'The flags component contains a bit that controls connection shutdown:',
    summary: 'A web server sets no flag bit other than FCGI_KEEP_CONN and zeroes the 5 reserved bytes.',
    check: 'bytes',
    how: 'Every captured BEGIN_REQUEST has no flag bit other than FCGI_KEEP_CONN and five reserved bytes of 0.',
    draftIds: ['FCGI-5.1-8'],
  },

  // ── 5.2–5.3 Streams ──────────────────────────────────────────────────────────────────────────────────────
  'FCGI-5.2-params-pairs': {
    section: '5.2',
    side: 'web-server',
    level: 'must',
    quote:
      'FCGI_PARAMS is a stream record type used in sending name-value pairs from the Web server to the application.',
    summary: "A web server's PARAMS stream is a sequence of whole name-value pairs.",
    check: 'bytes',
    how: 'The concatenated PARAMS content of every captured request decodes as whole name-value pairs with nothing left over.',
    draftIds: ['FCGI-5.2-1'],
  },
  'FCGI-5.2-params-any-order': {
    section: '5.2',
    side: 'application',
    level: 'must',
    quote: 'The name-value pairs are sent down the stream one after the other, in no specified order.',
    summary: 'An application accepts the params in any order.',
    check: 'probe-app',
    how: 'Send the same params in several shuffled orders (property-based, seed reported); a probe handler must report the same variables every time.',
    draftIds: ['FCGI-5.2-1'],
  },
  'FCGI-5.2-large-params-app': {
    section: '5.2',
    side: 'application',
    level: 'should',
    levelReason: 'The protocol sets no bound on the stream, but an application may set resource limits, so a refusal is a warning.',
    quote:
      'FCGI_PARAMS is a stream record type used in sending name-value pairs from the Web server to the application.',
    summary: 'An application accepts a PARAMS stream far larger than one record, and values longer than 64 KiB.',
    check: 'probe-app',
    how: 'Send 100 KiB of params (one 70 KiB value and many small pairs) over several records; the probe handler must see them all, or the request must end with END_REQUEST rather than a crash or a hang.',
    draftIds: ['FCGI-5.2-4'],
  },
  'FCGI-5.2-large-params-web-server': {
    section: '5.2',
    side: 'web-server',
    level: 'should',
    levelReason: 'The protocol sets no bound on the stream, but a web server may limit HTTP header sizes, so a refusal is a warning.',
    quote:
      'FCGI_PARAMS is a stream record type used in sending name-value pairs from the Web server to the application.',
    summary: 'A web server forwards long header and query values whole, over as many PARAMS records as needed, or refuses the HTTP request; it never truncates them.',
    check: 'probe-web-server',
    how: 'The HTTP client sends a 20 KiB header and a 70 KiB query string; every value must reach the harness intact across PARAMS records, or the server must refuse the HTTP request itself (4xx) without forwarding a truncated value.',
    draftIds: ['FCGI-5.2-4'],
  },
  'FCGI-5.3-data-stream': {
    section: '5.3',
    side: 'web-server',
    level: 'must',
    quote: 'FCGI_DATA is a second stream record type used to send additional data to the application.',
    summary: 'A web server sends the Filter file on DATA, and sends DATA only for Filter requests.',
    check: 'probe-web-server',
    how: 'For servers with a Filter configuration, a Filter request carries a DATA stream ending with an empty record; no request in any role other than Filter carries DATA records.',
    draftIds: ['FCGI-5.3-2'],
  },
  'FCGI-5.3-output-streams': {
    section: '5.3',
    side: 'application',
    level: 'must',
    quote:
      'FCGI_STDOUT and FCGI_STDERR are stream record types for sending arbitrary data and error data respectively from the application to the Web server.',
    summary: 'An application sends its output on STDOUT and its error text on STDERR.',
    check: 'probe-app',
    how: 'A probe handler that writes to both its output and its error stream: the output must arrive on STDOUT records only and the error text on STDERR records only.',
    draftIds: ['FCGI-5.3-3'],
  },

  // ── 5.4 FCGI_ABORT_REQUEST ───────────────────────────────────────────────────────────────────────────────
  'FCGI-5.4-abort-record': {
    section: '5.4',
    side: 'web-server',
    level: 'must',
    quote: 'The Web server sends a FCGI_ABORT_REQUEST record to abort a request.',
    summary: 'An abort is {FCGI_ABORT_REQUEST, R} with an empty body, for an active request R.',
    check: 'probe-web-server',
    how: 'Whenever the server sends ABORT_REQUEST (see FCGI-5.4-abort-on-client-close), it has contentLength 0 and the requestId of a request still active on that connection.',
    draftIds: ['FCGI-5.4-1'],
  },
  'FCGI-5.4-abort-on-client-close': {
    section: '5.4',
    side: 'web-server',
    level: 'should',
    levelReason:
      'Told as what a web server does rather than laid down as a rule; closing the connection is allowed instead when the request is alone on it.',
    quote:
      "A Web server aborts a FastCGI request when an HTTP client closes its transport connection while the FastCGI request is running on behalf of that client. The situation may seem unlikely; most FastCGI requests will have short response times, with the Web server providing output buffering if the client is slow. But the FastCGI application may be delayed communicating with another system, or performing a server push. When a Web server is not multiplexing requests over a transport connection, the Web server can abort a request by closing the request's transport connection.",
    summary:
      'When the HTTP client goes away during a request, the web server aborts it: with FCGI_ABORT_REQUEST, or by closing the connection if the request is alone on it.',
    check: 'probe-web-server',
    how: 'The harness holds a request without answering and the HTTP client disconnects: within the timeout the server must send ABORT_REQUEST for it or, the request being alone on its connection, close the connection. Which one is recorded.',
    draftIds: ['FCGI-5.4-2', 'FCGI-5.4-3'],
  },
  'FCGI-5.4-abort-one-of-many': {
    section: '5.4',
    side: 'web-server',
    level: 'should',
    levelReason: 'The spec calls closing "unfortunate", not forbidden; using FCGI_ABORT_REQUEST instead is implied.',
    quote:
      'But with multiplexed requests, closing the transport connection has the unfortunate effect of aborting all the requests on the connection.',
    summary: 'A web server aborts one of several requests on a connection with FCGI_ABORT_REQUEST, not by closing it.',
    check: 'probe-web-server',
    how: 'Only for servers that multiplex (the harness answers FCGI_MPXS_CONNS "1"): with two requests active on one connection, one HTTP client disconnects; the server must send ABORT_REQUEST for that request only, and the other must complete.',
    draftIds: ['FCGI-5.4-4'],
  },
  'FCGI-5.4-abort-ends-request': {
    section: '5.4',
    side: 'application',
    level: 'must',
    quote:
      'After receiving {FCGI_ABORT_REQUEST, R}, the application responds as soon as possible with {FCGI_END_REQUEST, R, {FCGI_REQUEST_COMPLETE, appStatus}}.',
    summary: 'On ABORT_REQUEST for an active R, an application promptly ends R with END_REQUEST, protocolStatus FCGI_REQUEST_COMPLETE.',
    check: 'probe-app',
    how: 'Send ABORT_REQUEST during PARAMS, during STDIN, after STDIN ended, and while a slow probe handler writes output; each time one END_REQUEST for R with FCGI_REQUEST_COMPLETE must arrive within the short timeout.',
    draftIds: ['FCGI-5.4-5', 'FCGI-5.4-8'],
  },
  'FCGI-5.4-abort-is-response': {
    section: '5.4',
    side: 'application',
    level: 'must',
    quote:
      'This is truly a response from the application, not a low-level acknowledgement from the FastCGI library.',
    summary:
      "The END_REQUEST answering an abort is the request's one and only END_REQUEST: the library does not acknowledge the abort and then let the handler end the request again.",
    check: 'probe-app',
    how: 'After the abort exchange of FCGI-5.4-abort-ends-request, keep reading: no second END_REQUEST and no STDOUT or STDERR for R may follow.',
    draftIds: ['FCGI-5.4-6'],
  },

  // ── 5.5 FCGI_END_REQUEST ─────────────────────────────────────────────────────────────────────────────────
  'FCGI-5.5-end-request-once': {
    section: '5.5',
    side: 'application',
    level: 'must',
    quote:
      'The application sends a FCGI_END_REQUEST record to terminate a request, either because the application has processed the request or because the application has rejected the request.',
    summary: 'An application ends every request, served or rejected, with exactly one END_REQUEST.',
    check: 'bytes',
    how: 'Every request begun in the capture ends with exactly one END_REQUEST for its id, whether served, rejected or aborted; a request still without END_REQUEST when the scenario ends on an open connection is reported.',
    draftIds: ['FCGI-5.5-1'],
  },
  'FCGI-5.5-end-body': {
    section: '5.5',
    side: 'application',
    level: 'must',
    quote:
      'typedef struct { unsigned char appStatusB3; unsigned char appStatusB2; unsigned char appStatusB1; unsigned char appStatusB0; unsigned char protocolStatus; unsigned char reserved[3]; } FCGI_EndRequestBody;',
    summary: 'An END_REQUEST body is 8 bytes: appStatus (32-bit big-endian), protocolStatus, 3 reserved bytes.',
    check: 'bytes',
    how: 'Every captured END_REQUEST has contentLength 8 and a protocolStatus from 0 to 3.',
    draftIds: ['FCGI-5.5-1'],
  },
  'FCGI-5.5-end-reserved-zero': {
    section: '5.5',
    side: 'application',
    level: 'should',
    levelReason: 'No value is given for reserved bytes; zero is the conventional reading.',
    quote: 'unsigned char protocolStatus; unsigned char reserved[3]; } FCGI_EndRequestBody;',
    summary: 'The 3 reserved bytes of an END_REQUEST body are 0.',
    check: 'bytes',
    how: 'The three reserved bytes of every captured END_REQUEST body are 0.',
    draftIds: ['FCGI-5.5-9'],
  },
  'FCGI-5.5-request-complete': {
    section: '5.5',
    side: 'application',
    level: 'must',
    quote: 'FCGI_REQUEST_COMPLETE: normal end of request.',
    summary: 'A request that was served ends with protocolStatus FCGI_REQUEST_COMPLETE (0).',
    check: 'probe-app',
    how: 'A served Responder request ends with END_REQUEST protocolStatus 0.',
    draftIds: ['FCGI-5.5-2'],
  },
  'FCGI-5.5-cant-mpx-conn': {
    section: '5.5',
    side: 'application',
    level: 'must',
    quote:
      'FCGI_CANT_MPX_CONN: rejecting a new request. This happens when a Web server sends concurrent requests over one connection to an application that is designed to process one request at a time per connection.',
    summary:
      'An application that takes one request at a time per connection rejects a second concurrent request with FCGI_CANT_MPX_CONN and goes on with the first.',
    check: 'probe-app',
    how: 'While request 1 is active (PARAMS sent, STDIN open), send BEGIN_REQUEST 2 with its PARAMS and STDIN on the same connection. Pass: {FCGI_END_REQUEST, 2, {0, FCGI_CANT_MPX_CONN}} with no STDOUT for 2, then request 1 completes normally; or both requests are served (the application multiplexes). Fail: request 2 ignored, the connection closed, or request 1 disturbed.',
    draftIds: ['FCGI-5.5-3', 'FCGI-5.5-6', 'FCGI-3.3-18'],
  },
  'FCGI-5.5-overloaded': {
    section: '5.5',
    side: 'application',
    level: 'may',
    quote:
      'FCGI_OVERLOADED: rejecting a new request. This happens when the application runs out of some resource, e.g. database connections.',
    summary: 'An application may reject a new request with FCGI_OVERLOADED when out of resources.',
    check: 'probe-app',
    how: 'Recorded when seen, for instance under the connection load of FCGI-4.1-limit-values; an FCGI_OVERLOADED END_REQUEST must come without STDOUT for that request.',
    draftIds: ['FCGI-5.5-4', 'FCGI-5.5-6'],
  },
  'FCGI-5.5-rejection-handled': {
    section: '5.5',
    side: 'web-server',
    level: 'should',
    levelReason: "The rejection statuses are defined, but not the web server's reaction; reporting them as errors is implied.",
    quote:
      'The application sends a FCGI_END_REQUEST record to terminate a request, either because the application has processed the request or because the application has rejected the request.',
    summary: 'A web server treats an END_REQUEST rejection (any status but FCGI_REQUEST_COMPLETE), with no output before it, as a failure, not an empty success.',
    check: 'probe-web-server',
    how: 'The harness answers BEGIN_REQUEST at once with END_REQUEST FCGI_OVERLOADED, then FCGI_UNKNOWN_ROLE, then FCGI_CANT_MPX_CONN, with no STDOUT: each HTTP client must get an error status (5xx), never an empty 200.',
    draftIds: ['FCGI-5.5-6', 'FCGI-5.5-7'],
  },
  'FCGI-5.5-app-status-web-server': {
    section: '5.5',
    side: 'web-server',
    level: 'info',
    levelReason: 'appStatus is an application-level code; what the web server does with it is left open.',
    quote: 'The appStatus component is an application-level status code. Each role documents its usage of appStatus.',
    summary: 'Records what a web server does with a non-zero appStatus.',
    check: 'probe-web-server',
    how: 'The harness ends a normal response with appStatus 7; record whether the HTTP response differs from the same response with appStatus 0 (and any log line the server writes).',
    draftIds: ['FCGI-5.5-8'],
  },

  // ── 6.1 Role protocols ───────────────────────────────────────────────────────────────────────────────────
  'FCGI-6.1-application-records-only': {
    section: '6.1',
    side: 'both',
    level: 'must',
    quote:
      'Role protocols only include records with application record types. They transfer essentially all data using streams.',
    summary: "A request's records are all application record types on its non-zero id.",
    check: 'bytes',
    how: "Within each request in the capture, only application record types on the request's id appear; management records on id 0 may come in between but are not part of the request.",
    draftIds: ['FCGI-6.1-1'],
  },
  'FCGI-6.1-inputs-sequential': {
    section: '6.1',
    side: 'web-server',
    level: 'must',
    quote:
      'In a protocol with strictly sequential marshalling, the application receives its first input, then its second, etc. until it has received them all. Similarly, the application sends its first output, then its second, etc. until it has sent them all. Inputs are not interleaved with each other, and outputs are not interleaved with each other.',
    summary: 'A web server sends the input streams one after another: PARAMS complete before STDIN, STDIN complete before DATA.',
    check: 'bytes',
    how: "In the web server capture, per request: the empty PARAMS record comes before the first STDIN record, and the empty STDIN record before the first DATA record.",
    draftIds: ['FCGI-6.1-2', 'FCGI-6.4-1'],
  },
  'FCGI-6.1-misordered-input-survived': {
    section: '6.1',
    side: 'application',
    level: 'should',
    levelReason: 'The spec forbids the web server to interleave inputs but says nothing of what an application does when one does; surviving it is implied robustness.',
    quote: 'Inputs are not interleaved with each other, and outputs are not interleaved with each other.',
    summary: 'STDIN before the empty PARAMS record is malformed input; the application serves, refuses, closes or waits, but does not crash or send partial output.',
    check: 'probe-app',
    how: 'Send STDIN data before the PARAMS terminator; accept a served request, a rejection, a close or a wait, and check liveness afterwards.',
  },
  'FCGI-6.1-outputs-sequential': {
    section: '6.1',
    side: 'application',
    level: 'must',
    quote:
      'Inputs are not interleaved with each other, and outputs are not interleaved with each other. The sequential marshalling rule is too restrictive for some FastCGI roles, because CGI programs can write to both stdout and stderr without timing restrictions. So role protocols that use both FCGI_STDOUT and FCGI_STDERR allow these two streams to be interleaved.',
    summary: 'An application may interleave STDOUT and STDERR freely; END_REQUEST comes after both, and no other output type is used.',
    check: 'bytes',
    how: 'In the application capture, per request: only STDOUT and STDERR records, in any interleaving, then END_REQUEST; nothing of the request follows END_REQUEST.',
    draftIds: ['FCGI-6.1-3'],
  },
  'FCGI-6.1-input-streams-sent': {
    section: '6.1',
    side: 'web-server',
    level: 'must',
    quote:
      'When a role protocol calls for transmitting a stream other than FCGI_STDERR, at least one record of the stream type is always transmitted, even if the stream is empty.',
    summary: 'A web server always sends the PARAMS stream, the STDIN stream (Responder, Filter) and the DATA stream (Filter), each at least as one empty record.',
    check: 'bytes',
    how: 'Per request in the web server capture: a PARAMS stream ending with an empty record, even with no params; for Responder and Filter requests a STDIN stream, also for a GET or an empty POST; for Filter requests a DATA stream.',
    draftIds: ['FCGI-6.1-5', 'FCGI-5.2-2', 'FCGI-5.3-1'],
  },
  'FCGI-6.1-stdout-sent': {
    section: '6.1',
    side: 'application',
    level: 'must',
    quote:
      'When a role protocol calls for transmitting a stream other than FCGI_STDERR, at least one record of the stream type is always transmitted, even if the stream is empty.',
    summary: 'An application always sends a STDOUT stream, ended by an empty STDOUT record, for a request it serves, even with no output.',
    check: 'bytes',
    how: 'Every request the application ends with FCGI_REQUEST_COMPLETE, other than an aborted one, carries a STDOUT stream whose empty record precedes END_REQUEST, including when the handler writes nothing.',
    draftIds: ['FCGI-6.1-5', 'FCGI-5.3-4'],
  },
  'FCGI-6.1-output-before-input-ends': {
    section: '6.1',
    side: 'application',
    level: 'may',
    quote:
      'First the application receives all of its inputs except for a final stream input. As the application begins to receive the final stream input, it can begin writing its output.',
    summary: 'An application may start writing output once the final input stream (STDIN for a Responder, DATA for a Filter) has begun.',
    check: 'probe-app',
    how: 'Recorded: send PARAMS, then STDIN slowly, and note whether STDOUT starts before STDIN ends; either behaviour is conformant.',
    draftIds: ['FCGI-6.1-6', 'FCGI-6.2-4'],
  },
  'FCGI-6.1-web-server-reads-while-sending': {
    section: '6.1',
    side: 'web-server',
    level: 'should',
    levelReason:
      "Follows from applications being allowed to write before the final input ends; the web server's side is not stated (FCGI-X-9).",
    quote:
      'First the application receives all of its inputs except for a final stream input. As the application begins to receive the final stream input, it can begin writing its output.',
    summary: 'A web server keeps reading STDOUT while it is still sending STDIN, so a large body and early large output cannot deadlock.',
    check: 'probe-web-server',
    how: 'The HTTP client POSTs 8 MiB; once the first STDIN record arrives, the harness writes 8 MiB of STDOUT before reading more STDIN. The exchange must complete within the timeout.',
    draftIds: ['FCGI-6.1-6', 'FCGI-X-9'],
  },
  'FCGI-6.1-params-no-nul': {
    section: '6.1',
    side: 'web-server',
    level: 'must',
    quote:
      'When a role protocol uses FCGI_PARAMS to transmit textual values, such as the values that CGI programs obtain from environment variables, the length of the value does not include the terminating null byte, and the value itself does not include a null byte.',
    summary: 'CGI values in PARAMS carry no NUL byte, neither a terminating one counted in the length nor one inside.',
    check: 'bytes',
    how: 'No PARAMS name or value in the web server capture contains a 0x00 byte; a trailing NUL counted in the length is the typical fault.',
    draftIds: ['FCGI-6.1-7'],
  },
  'FCGI-6.1-environ-format': {
    section: '6.1',
    side: 'application',
    level: 'must',
    quote:
      'An application that needs to provide environ(7) format name-value pairs must insert an equal sign between the name and value and append a null byte after the value.',
    summary: 'A library that builds an environ(7) array from PARAMS adds the = and the terminating NUL itself.',
    check: 'untestable',
    how: 'Not observable on the wire: it concerns how a library builds its in-process environment. A probe handler can only report the values it was given, which FCGI-5.2-params-any-order and FCGI-3.4-length-forms-accepted already check.',
    draftIds: ['FCGI-6.1-8'],
  },
  'FCGI-6.1-no-nph': {
    section: '6.1',
    side: 'application',
    level: 'must',
    quote:
      'Role protocols do not support the non-parsed header feature of CGI. FastCGI applications set response status using the Status and Location CGI headers.',
    summary: 'An application writes CGI response headers on STDOUT, setting the status with Status: or Location:, never an HTTP status line.',
    check: 'bytes',
    how: 'The STDOUT stream of every captured response starts with CGI header lines, not with an HTTP status line such as "HTTP/1.1 200 OK".',
    draftIds: ['FCGI-6.1-9'],
  },
  'FCGI-6.1-status-honoured': {
    section: '6.1',
    side: 'web-server',
    level: 'must',
    quote:
      'Role protocols do not support the non-parsed header feature of CGI. FastCGI applications set response status using the Status and Location CGI headers.',
    summary: 'A web server takes the HTTP status from the Status: and Location: CGI headers.',
    check: 'probe-web-server',
    how: 'The harness answers with "Status: 404 Not Found", then with "Location: http://example.test/x" and no Status: the HTTP client must get 404, then a redirect to that URL.',
    draftIds: ['FCGI-6.1-9'],
  },

  // ── 6.2 Responder ────────────────────────────────────────────────────────────────────────────────────────
  'FCGI-6.2-responder-params': {
    section: '6.2',
    side: 'web-server',
    level: 'must',
    quote: 'The Responder application receives CGI/1.1 environment variables from the Web server over FCGI_PARAMS.',
    summary: "A web server sends the request's CGI/1.1 meta-variables on PARAMS to a Responder.",
    check: 'probe-web-server',
    how: 'For a GET with a query string and a POST with a body, PARAMS carries the CGI/1.1 meta-variables that apply (REQUEST_METHOD, QUERY_STRING, SERVER_PROTOCOL, SERVER_NAME, SERVER_PORT, GATEWAY_INTERFACE, REMOTE_ADDR, SCRIPT_NAME, and CONTENT_LENGTH and CONTENT_TYPE with a body), with values matching the HTTP request.',
    draftIds: ['FCGI-6.2-1'],
  },
  'FCGI-6.2-responder-stdin': {
    section: '6.2',
    side: 'web-server',
    level: 'must',
    quote:
      'Next the Responder application receives CGI/1.1 stdin data from the Web server over FCGI_STDIN. The application receives at most CONTENT_LENGTH bytes from this stream before receiving the end-of-stream indication. (The application receives less than CONTENT_LENGTH bytes only if the HTTP client fails to provide them, e.g. because the client crashed.)',
    summary:
      'A web server sends the HTTP request body on STDIN byte for byte, exactly CONTENT_LENGTH bytes, fewer only when the HTTP client failed to send them.',
    check: 'probe-web-server',
    how: 'For a GET, an empty POST and POST bodies of 1 byte, 64 KiB and 1 MiB (with Content-Length and chunked), the STDIN stream value equals the body and CONTENT_LENGTH its length. When the HTTP client stops after k < N bytes and disconnects, the server sends at most k bytes and then ends the request (empty STDIN, ABORT_REQUEST or a close), never more than CONTENT_LENGTH.',
    draftIds: ['FCGI-6.2-2', 'FCGI-5.3-1'],
  },
  'FCGI-6.2-params-before-output': {
    section: '6.2',
    side: 'application',
    level: 'must',
    quote:
      "The application must wait to finish reading FCGI_PARAMS before it begins writing FCGI_STDOUT and FCGI_STDERR, but it needn't finish reading from FCGI_STDIN before it begins writing these two streams.",
    summary: 'A Responder writes no STDOUT or STDERR before the PARAMS stream has ended.',
    check: 'probe-app',
    how: 'Send PARAMS without its empty record and wait: no STDOUT or STDERR may arrive until the harness sends the empty PARAMS record.',
    draftIds: ['FCGI-6.2-3', 'FCGI-5.2-3'],
  },
  'FCGI-6.2-end-after-output': {
    section: '6.2',
    side: 'application',
    level: 'must',
    quote: 'After sending all its stdout and stderr data, the Responder application sends a FCGI_END_REQUEST record.',
    summary: "END_REQUEST comes after all of the request's STDOUT, its empty STDOUT record included, and all of its STDERR.",
    check: 'bytes',
    how: 'In the application capture, END_REQUEST for R follows the empty STDOUT record for R and every STDERR record for R.',
    draftIds: ['FCGI-6.2-5', 'FCGI-5.3-4'],
  },
  'FCGI-6.2-app-status-exit': {
    section: '6.2',
    side: 'application',
    level: 'must',
    quote:
      'The application sets the protocolStatus component to FCGI_REQUEST_COMPLETE and the appStatus component to the status code that the CGI program would have returned via the exit system call.',
    summary: "A Responder's END_REQUEST has FCGI_REQUEST_COMPLETE and the handler's exit status as appStatus.",
    check: 'probe-app',
    how: "Needs a probe handler that can be told to finish with status 3: expect END_REQUEST {3, FCGI_REQUEST_COMPLETE}, and {0, FCGI_REQUEST_COMPLETE} for a normal request. Skipped for targets without such a handler.",
    draftIds: ['FCGI-6.2-5'],
  },
  'FCGI-6.2-update-length-check': {
    section: '6.2',
    side: 'application',
    level: 'should',
    levelReason: 'The spec itself says "should".',
    quote:
      'A Responder performing an update, e.g. implementing a POST method, should compare the number of bytes received on FCGI_STDIN with CONTENT_LENGTH and abort the update if the two numbers are not equal.',
    summary: 'A Responder that updates state checks the STDIN length against CONTENT_LENGTH and abandons the update on a mismatch.',
    check: 'untestable',
    how: 'Not observable on the wire: it is behaviour of the handler, not of the FastCGI library, and whether an update was abandoned leaves no trace in the records; the suite tests libraries and servers, not handlers.',
    draftIds: ['FCGI-6.2-6'],
  },

  // ── 6.3 Authorizer ───────────────────────────────────────────────────────────────────────────────────────
  'FCGI-6.3-authorizer-params': {
    section: '6.3',
    side: 'web-server',
    level: 'must',
    quote:
      'The Authorizer application receives HTTP request information from the Web server on the FCGI_PARAMS stream, in the same format as a Responder. The Web server does not send CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED, and SCRIPT_NAME headers.',
    summary:
      'A web server sends an Authorizer (role 2) the request variables on PARAMS, without CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED and SCRIPT_NAME.',
    check: 'probe-web-server',
    how: "With the server configured to use the harness as Authorizer, BEGIN_REQUEST has role FCGI_AUTHORIZER and PARAMS carries the request's CGI variables but none of CONTENT_LENGTH, PATH_INFO, PATH_TRANSLATED and SCRIPT_NAME, also for a POST with a body.",
    draftIds: ['FCGI-6.3-1'],
  },
  'FCGI-6.3-authorizer-stdin': {
    section: '6.3',
    side: 'web-server',
    level: 'info',
    levelReason: 'The Authorizer role lists only FCGI_PARAMS as input; whether an (empty) STDIN stream follows is open.',
    quote:
      'The Authorizer application receives HTTP request information from the Web server on the FCGI_PARAMS stream, in the same format as a Responder.',
    summary: 'Records whether a web server sends an Authorizer a STDIN stream, and whether it is empty.',
    check: 'probe-web-server',
    how: 'For a GET and for a POST with a body, record whether STDIN records reach the Authorizer and whether they carry the body or only the empty record.',
    draftIds: ['FCGI-6.3-2'],
  },
  'FCGI-6.3-authorizer-without-stdin': {
    section: '6.3',
    side: 'application',
    level: 'info',
    levelReason: 'The Authorizer role lists only FCGI_PARAMS as input; whether an application must answer without STDIN is open.',
    quote:
      'The Authorizer application receives HTTP request information from the Web server on the FCGI_PARAMS stream, in the same format as a Responder.',
    summary: 'Records whether an application answers an Authorizer request that carries no STDIN stream.',
    check: 'probe-app',
    how: 'For a target supporting the Authorizer role, send role 2 with PARAMS and its empty record but no STDIN; record whether it answers or waits. The same request with an empty STDIN record is recorded alongside.',
    draftIds: ['FCGI-6.3-2'],
  },
  'FCGI-6.3-authorizer-response': {
    section: '6.3',
    side: 'application',
    level: 'must',
    quote:
      'The Authorizer application sends stdout and stderr data in the same manner as a Responder. The CGI/1.1 response status specifies the disposition of the request.',
    summary: 'An Authorizer answers like a Responder: a CGI response on STDOUT whose status is the decision, then END_REQUEST.',
    check: 'probe-app',
    how: 'For a target supporting the Authorizer role: a role-2 request gets a CGI response on STDOUT (Status header, or the default 200), a terminated STDOUT stream and END_REQUEST FCGI_REQUEST_COMPLETE. A target without the role must answer FCGI_UNKNOWN_ROLE instead (FCGI-5.1-unknown-role).',
    draftIds: ['FCGI-6.3-3'],
  },
  'FCGI-6.3-authorized-200': {
    section: '6.3',
    side: 'web-server',
    level: 'must',
    quote:
      "If the application sends status 200 (OK), the Web server allows access. Depending upon its configuration the Web server may proceed with other access checks, including requests to other Authorizers. An Authorizer application's 200 response may include headers whose names are prefixed with Variable-. These headers communicate name-value pairs from the application to the Web server. For instance, the response header Variable-AUTH_METHOD: database lookup transmits the value \"database lookup\" with name AUTH-METHOD. The server associates such name-value pairs with the HTTP request and includes them in subsequent CGI or FastCGI requests performed in processing the HTTP request. When the application gives a 200 response, the server ignores response headers whose names aren't prefixed with Variable- prefix, and ignores any response content.",
    summary:
      "On an Authorizer 200 the web server lets the request through, passes Variable-NAME headers on as name-value pairs to later requests for it, and drops the Authorizer's body and other headers.",
    check: 'probe-web-server',
    how: 'The harness, as Authorizer, answers 200 with "Variable-AUTH_METHOD: database lookup", "X-Fcgispec: leak" and the body "authorizer-body". The protected resource must be served; the harness, as its Responder, must receive the value "database lookup" in PARAMS (under the name recorded by FCGI-X-variable-name); neither the two headers nor the body may reach the HTTP client.',
    draftIds: ['FCGI-6.3-4', 'FCGI-6.3-5'],
  },
  'FCGI-6.3-denied-passthrough': {
    section: '6.3',
    side: 'web-server',
    level: 'must',
    quote:
      'For Authorizer response status values other than "200" (OK), the Web server denies access and sends the response status, headers, and content back to the HTTP client.',
    summary: "On any Authorizer status but 200, the web server denies access and relays the Authorizer's status, headers and body.",
    check: 'probe-web-server',
    how: 'The harness, as Authorizer, answers "Status: 401 Unauthorized" with a WWW-Authenticate header and a body, then 403: the HTTP client must get that status, header and body, and no Responder request may follow.',
    draftIds: ['FCGI-6.3-6'],
  },

  // ── 6.4 Filter ───────────────────────────────────────────────────────────────────────────────────────────
  'FCGI-6.4-filter-params': {
    section: '6.4',
    side: 'web-server',
    level: 'must',
    quote:
      'Like a Responder, the Filter application receives name-value pairs from the Web server over FCGI_PARAMS. Filter applications receive two Filter-specific variables: FCGI_DATA_LAST_MOD and FCGI_DATA_LENGTH.',
    summary: 'A web server sends a Filter the Responder variables plus FCGI_DATA_LAST_MOD and FCGI_DATA_LENGTH.',
    check: 'probe-web-server',
    how: "For servers with a Filter configuration, PARAMS carries the Responder variables, FCGI_DATA_LAST_MOD (decimal seconds since the epoch, equal to the file's mtime) and FCGI_DATA_LENGTH (decimal, equal to the file's size); STDIN then carries the request body as for a Responder (FCGI-6.2-responder-stdin).",
    draftIds: ['FCGI-6.4-1'],
  },
  'FCGI-6.4-filter-data': {
    section: '6.4',
    side: 'web-server',
    level: 'must',
    quote:
      'The application reads at most FCGI_DATA_LENGTH bytes from this stream before receiving the end-of-stream indication.',
    summary:
      'A web server sends the Filter file on DATA, after STDIN, no longer than FCGI_DATA_LENGTH, ended by an empty DATA record.',
    check: 'probe-web-server',
    how: "For servers with a Filter configuration, the DATA stream value equals the file's bytes, its length equals FCGI_DATA_LENGTH, it starts after the empty STDIN record and ends with an empty DATA record.",
    draftIds: ['FCGI-6.4-1', 'FCGI-6.4-2'],
  },
  'FCGI-6.4-stdin-before-output': {
    section: '6.4',
    side: 'application',
    level: 'must',
    quote:
      "The application must wait to finish reading FCGI_STDIN before it begins writing FCGI_STDOUT and FCGI_STDERR, but it needn't finish reading from FCGI_DATA before it begins writing these two streams.",
    summary: 'A Filter writes no STDOUT or STDERR before STDIN has ended; it may write before DATA has ended.',
    check: 'probe-app',
    how: 'For a target supporting the Filter role, send PARAMS and STDIN without its empty record and wait: no STDOUT or STDERR may arrive until STDIN is ended. Output during DATA, or before DATA was sent in full (an answer from cache), is allowed and recorded.',
    draftIds: ['FCGI-6.4-3'],
  },
  'FCGI-6.4-early-end-web-server': {
    section: '6.4',
    side: 'web-server',
    level: 'should',
    levelReason: "Follows from a Filter being allowed to skip the file data; the web server's side is not stated.",
    quote: 'the application may consult this variable and respond from a cache without reading the file data.',
    summary:
      'A Filter may answer from a cache without reading DATA; a web server copes with a Filter that ends the request before reading all of DATA.',
    check: 'probe-web-server',
    how: 'The harness, as Filter, sends its response and END_REQUEST as soon as PARAMS ends, without reading DATA: the HTTP client must get the response, and the connection must not be broken by the DATA the server still had to send. (An application target that answers before DATA ends is recorded by FCGI-6.4-stdin-before-output.)',
    draftIds: ['FCGI-6.4-4'],
  },
  'FCGI-6.4-filter-end-request': {
    section: '6.4',
    side: 'application',
    level: 'must',
    quote:
      'After sending all its stdout and stderr data, the application sends a FCGI_END_REQUEST record. The application sets the protocolStatus component to FCGI_REQUEST_COMPLETE and the appStatus component to the status code that a similar CGI program would have returned via the exit system call.',
    summary: 'A Filter ends with END_REQUEST, FCGI_REQUEST_COMPLETE and a CGI-style exit status, after all its output.',
    check: 'probe-app',
    how: 'For a target supporting the Filter role: a role-3 request with PARAMS, STDIN and DATA ends with a terminated STDOUT stream and then END_REQUEST with FCGI_REQUEST_COMPLETE.',
    draftIds: ['FCGI-6.4-5'],
  },
  'FCGI-6.4-length-check': {
    section: '6.4',
    side: 'application',
    level: 'should',
    levelReason: 'The spec itself says "should".',
    quote:
      "A Filter should compare the number of bytes received on FCGI_STDIN with CONTENT_LENGTH and on FCGI_DATA with FCGI_DATA_LENGTH. If the numbers don't match and the Filter is a query, the Filter response should provide an indication that data is missing. If the numbers don't match and the Filter is an update, the Filter should abort the update.",
    summary: 'A Filter checks STDIN against CONTENT_LENGTH and DATA against FCGI_DATA_LENGTH, flags missing data and abandons updates on a mismatch.',
    check: 'untestable',
    how: 'Not observable in a library-independent way: it is handler behaviour, and what counts as "an indication that data is missing" is up to each application, so no record or byte pattern can be checked.',
    draftIds: ['FCGI-6.4-6'],
  },
  'FCGI-6.4-filter-or-unknown-role': {
    section: '6.4',
    side: 'application',
    level: 'should',
    levelReason: 'Implied: an application that cannot consume DATA cannot play the Filter role and should refuse it.',
    quote: 'Next the Filter application receives the file data from the Web server over FCGI_DATA.',
    summary: 'An application either plays the Filter role, consuming DATA, or rejects role 3 with FCGI_UNKNOWN_ROLE; it never treats it as a Responder that leaves DATA unread.',
    check: 'probe-app',
    how: 'Send a role-3 request with PARAMS, STDIN and 100 KiB of DATA, then, with FCGI_KEEP_CONN, a Responder request: the Filter request is either rejected with FCGI_UNKNOWN_ROLE or completed, and the following request must be served on the same connection.',
    draftIds: ['FCGI-6.4-7'],
  },

  // ── 7. Errors ────────────────────────────────────────────────────────────────────────────────────────────
  'FCGI-7-exit-status': {
    section: '7',
    side: 'application',
    level: 'info',
    levelReason: "The meaning of exit statuses is given; the web server's reaction is outside the spec.",
    quote:
      'A FastCGI application exits with zero status to indicate that it terminated on purpose, e.g. in order to perform a crude form of garbage collection. A FastCGI application that exits with nonzero status is assumed to have crashed.',
    summary: 'Records the exit status of a spawned application whenever it exits; non-zero means a crash.',
    check: 'process',
    how: 'When the suite spawns the application, record every exit with its status and the scenario running at the time; a non-zero status during a malformed-input scenario points to a crash.',
    draftIds: ['FCGI-7-1'],
  },
  'FCGI-7-sigterm': {
    section: '7',
    side: 'web-server',
    level: 'may',
    quote:
      'A Web server can request that a FastCGI application exit by sending it SIGTERM. If the application ignores SIGTERM the Web server can resort to SIGKILL.',
    summary: 'A web server may stop an application with SIGTERM, then SIGKILL.',
    check: 'process',
    how: "Record the signals the server's process manager sends a spawned helper at shutdown or reload (the helper logs each signal it receives).",
    draftIds: ['FCGI-7-2'],
  },
  'FCGI-7-sigterm-exit': {
    section: '7',
    side: 'application',
    level: 'should',
    levelReason: 'SIGTERM is presented as a request to exit; honouring it is implied.',
    quote:
      'A Web server can request that a FastCGI application exit by sending it SIGTERM. If the application ignores SIGTERM the Web server can resort to SIGKILL.',
    summary: 'An application exits on SIGTERM.',
    check: 'process',
    how: 'Send SIGTERM to a spawned, idle application: it should exit within a few seconds (status recorded); a request in progress may be finished first.',
    draftIds: ['FCGI-7-2'],
  },
  'FCGI-7-app-errors-reported': {
    section: '7',
    side: 'application',
    level: 'should',
    levelReason: 'Describes how applications report errors rather than laying down a rule.',
    quote:
      'FastCGI applications report application-level errors with the FCGI_STDERR stream and the appStatus component of the FCGI_END_REQUEST record. In many cases an error will be reported directly to the user via the FCGI_STDOUT stream.',
    summary: 'Application-level errors go to STDERR and a non-zero appStatus, often with an error page on STDOUT.',
    check: 'probe-app',
    how: 'Needs a probe handler that can be told to fail: expect STDERR data, a non-zero appStatus and, typically, an error page on STDOUT, as in Appendix B example 3. Skipped for targets without such a handler.',
    draftIds: ['FCGI-7-3'],
  },
  'FCGI-7-protocol-errors-logged': {
    section: '7',
    side: 'application',
    level: 'should',
    levelReason: 'Describes Unix practice; whether to continue or exit is left to the application.',
    quote:
      'On Unix, applications report lower-level errors, including FastCGI protocol errors and syntax errors in FastCGI environment variables, to syslog. Depending upon the severity of the error, the application may either continue or exit with nonzero status.',
    summary: 'Protocol errors and bad FastCGI environment variables are logged to syslog; the application then continues or exits non-zero.',
    check: 'untestable',
    how: "Not observable on the FastCGI connection: syslog is outside the wire protocol and the suite does not read the host's system log. The exit-status part is recorded by FCGI-7-exit-status.",
    draftIds: ['FCGI-7-4'],
  },

  // ── A. Properties of the record types ───────────────────────────────────────────────────────────────────
  'FCGI-A-record-direction': {
    section: 'A',
    side: 'both',
    level: 'must',
    quote:
      'WS->App: records of this type can only be sent by the Web server to the application. Records of other types can only be sent by the application to the Web server.',
    summary:
      'A web server sends only GET_VALUES, BEGIN_REQUEST, ABORT_REQUEST, PARAMS, STDIN and DATA; an application only GET_VALUES_RESULT, UNKNOWN_TYPE, END_REQUEST, STDOUT and STDERR.',
    check: 'bytes',
    how: "Every defined record type in a capture must belong to its sender's column of Appendix A; undefined types are recorded by FCGI-X-unknown-app-type-app and FCGI-X-unknown-app-type-web-server.",
    draftIds: ['FCGI-3.3-19'],
  },

  // ── B. Typical protocol message flow ────────────────────────────────────────────────────────────────────
  'FCGI-B-simple-request-app': {
    section: 'B',
    side: 'application',
    level: 'must',
    levelReason: 'An example, not a rule; it only combines rules stated in 3.3, 5.1, 5.5 and 6.2, so a deviation breaks one of them.',
    quote: '1. A simple request with no data on stdin, and a successful response:',
    summary: 'An application answers the spec\'s example 1 as shown: STDOUT data, an empty STDOUT, END_REQUEST {0, FCGI_REQUEST_COMPLETE}.',
    check: 'probe-app',
    how: "Replay example 1's web server records (BEGIN_REQUEST {FCGI_RESPONDER, 0}, PARAMS, empty PARAMS, empty STDIN): expect STDOUT data, one empty STDOUT, END_REQUEST {0, FCGI_REQUEST_COMPLETE}, then the application's close (flags 0).",
    draftIds: ['FCGI-B-1'],
  },
  'FCGI-B-simple-request-web-server': {
    section: 'B',
    side: 'web-server',
    level: 'must',
    levelReason: 'An example, not a rule; it only combines rules stated in 3.3, 5.1, 6.1 and 6.2, so a deviation breaks one of them.',
    quote: '1. A simple request with no data on stdin, and a successful response:',
    summary: "A web server's records for an HTTP GET take the shape of example 1, and it relays example 1's response.",
    check: 'probe-web-server',
    how: "For an HTTP GET without a body, the server sends BEGIN_REQUEST (role FCGI_RESPONDER), PARAMS records, one empty PARAMS and one empty STDIN; the harness answers with example 1's STDOUT and END_REQUEST, and the HTTP client gets the page.",
    draftIds: ['FCGI-B-1'],
  },
  'FCGI-B-split-params-app': {
    section: 'B',
    side: 'application',
    level: 'must',
    levelReason: 'An example, not a rule; it applies the stream rule of 3.3 to a pair cut inside its name.',
    quote:
      'The Web server chooses to send the parameters using more FCGI_PARAMS records than before: {FCGI_BEGIN_REQUEST, 1, {FCGI_RESPONDER, 0}} {FCGI_PARAMS, 1, "\\013\\002SERVER_PORT80\\013\\016SER"} {FCGI_PARAMS, 1, "VER_ADDR199.170.183.42 ... "}',
    summary: 'An application serves example 2: PARAMS cut inside the name SERVER_ADDR, and a body on STDIN.',
    check: 'probe-app',
    how: 'Replay example 2 byte for byte: a probe handler must report SERVER_PORT=80, SERVER_ADDR=199.170.183.42 and the body "quantity=100&item=3047936" intact.',
    draftIds: ['FCGI-B-2'],
  },
  'FCGI-B-body-web-server': {
    section: 'B',
    side: 'web-server',
    level: 'must',
    levelReason: 'An example, not a rule; it combines the STDIN rules of 5.3, 6.1 and 6.2.',
    quote: '2. Similar to example 1, but this time with data on stdin.',
    summary: "A web server's records for an HTTP POST take the shape of example 2.",
    check: 'probe-web-server',
    how: 'For an HTTP POST with the body "quantity=100&item=3047936", the server sends the body on STDIN records after the empty PARAMS record, followed by one empty STDIN record.',
    draftIds: ['FCGI-B-2'],
  },
  'FCGI-B-error-response-app': {
    section: 'B',
    side: 'application',
    level: 'must',
    levelReason: 'An example, not a rule; it combines 6.1 (interleaving), 6.2 (appStatus) and 7 (error reporting).',
    quote:
      '3. Similar to example 1, but this time the application detects an error. The application logs a message to stderr, returns a page to the client, and returns non-zero exit status to the Web server. The application chooses to send the page using more FCGI_STDOUT records:',
    summary: 'An application reports a handler error as in example 3: page on STDOUT, message on STDERR, both streams ended, non-zero appStatus.',
    check: 'probe-app',
    how: "Needs a probe handler that can be told to fail: expect STDOUT and STDERR (interleaving allowed), the empty STDOUT record (the STDERR one is graded by FCGI-X-stderr-terminated), and END_REQUEST with the handler's non-zero status and FCGI_REQUEST_COMPLETE. Skipped for targets without such a handler.",
    draftIds: ['FCGI-B-3'],
  },
  'FCGI-B-multiplexed-app': {
    section: 'B',
    side: 'application',
    level: 'must',
    levelReason: 'An example, not a rule; binding only on applications that answer FCGI_MPXS_CONNS "1".',
    quote:
      '4. Two instances of example 1, multiplexed onto a single connection. The first request is more difficult than the second, so the application finishes the requests out of order:',
    summary: 'An application that multiplexes serves example 4: two interleaved requests on one connection, finished in either order.',
    check: 'probe-app',
    how: 'Only for targets answering FCGI_MPXS_CONNS "1": replay example 4, interleaving the two requests\' records as shown; both must complete with the right output on the right id, in either order, and the connection must stay open (FCGI_KEEP_CONN).',
    draftIds: ['FCGI-B-4'],
  },
  'FCGI-B-multiplexed-web-server': {
    section: 'B',
    side: 'web-server',
    level: 'must',
    levelReason: 'An example, not a rule; binding only on web servers that multiplex.',
    quote:
      '4. Two instances of example 1, multiplexed onto a single connection. The first request is more difficult than the second, so the application finishes the requests out of order:',
    summary: 'A web server that multiplexes delivers each response to its own client when the application finishes requests out of order.',
    check: 'probe-web-server',
    how: 'Only for servers that multiplex: the harness answers FCGI_MPXS_CONNS "1", receives two concurrent requests on one connection and finishes the second first; each HTTP client must get its own response.',
    draftIds: ['FCGI-B-4'],
  },

  // ── X. Positions this suite takes where 1.0 is ambiguous or silent ───────────────────────────────────────
  'FCGI-X-version-not-1-app': {
    section: 'X',
    side: 'application',
    level: 'info',
    levelReason: 'Version 1.0 does not say how a receiver treats another version.',
    quote: 'version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1.',
    summary: 'Records what an application does with records whose version is not 1; closing is the position the suite considers safest.',
    check: 'probe-app',
    how: 'Send a request whose records carry version 0, then 2, then 255, each on a fresh connection; record whether the application closes, ignores the records or serves the request.',
    draftIds: ['FCGI-3.3-4', 'FCGI-X-5'],
  },
  'FCGI-X-version-not-1-web-server': {
    section: 'X',
    side: 'web-server',
    level: 'info',
    levelReason: 'Version 1.0 does not say how a receiver treats another version.',
    quote: 'version: Identifies the FastCGI protocol version. This specification documents FCGI_VERSION_1.',
    summary: 'Records what a web server does with application records whose version is not 1.',
    check: 'probe-web-server',
    how: 'The harness answers with STDOUT and END_REQUEST records carrying version 2; record whether the server rejects the response (error status, close) or relays it.',
    draftIds: ['FCGI-3.3-4', 'FCGI-X-5'],
  },
  'FCGI-X-unknown-app-type-app': {
    section: 'X',
    side: 'application',
    level: 'info',
    levelReason: 'FCGI_UNKNOWN_TYPE covers management records only; undefined or misdirected types on a request id have no stated handling.',
    quote:
      'When an application receives a management record whose type T it does not understand, the application responds with {FCGI_UNKNOWN_TYPE, 0, {T}}.',
    summary: 'Records what an application does with records of undefined or application-bound types on an active request id; the suite\'s position is that they are skipped.',
    check: 'probe-app',
    how: 'During an active request, send records of types 12 and 200 and an END_REQUEST on its id; record whether the application skips them, answers FCGI_UNKNOWN_TYPE or closes, and whether the request completes.',
    draftIds: ['FCGI-X-2'],
  },
  'FCGI-X-unknown-app-type-web-server': {
    section: 'X',
    side: 'web-server',
    level: 'info',
    levelReason:
      'The spec gives no handling for undefined or misdirected record types reaching a web server, nor for management records it did not ask for.',
    quote: 'The application responds by sending a record {FCGI_GET_VALUES_RESULT, 0, ...} with the values supplied.',
    summary:
      'Records what a web server does with records it does not expect: undefined or server-bound types on an active request id, and an unsolicited GET_VALUES_RESULT.',
    check: 'probe-web-server',
    how: "Before a response's STDOUT the harness sends a record of type 12 and a BEGIN_REQUEST on the request's id; between STDOUT records it sends an unsolicited GET_VALUES_RESULT on id 0 (pairs in both length forms). Record whether the server skips them (the suite's position), fails the request or closes the connection.",
    draftIds: ['FCGI-X-2', 'FCGI-4.1-11'],
  },
  'FCGI-X-variable-name': {
    section: 'X',
    side: 'web-server',
    level: 'info',
    levelReason: 'The example maps Variable-AUTH_METHOD to AUTH-METHOD, which reads as a typo; the exact naming rule is open.',
    quote:
      'For instance, the response header Variable-AUTH_METHOD: database lookup transmits the value "database lookup" with name AUTH-METHOD.',
    summary:
      'Records the name under which a Variable- header reaches later requests; the suite expects the text after the prefix, unchanged (AUTH_METHOD).',
    check: 'probe-web-server',
    how: 'In the FCGI-6.3-authorized-200 scenario, record the name the Responder receives: AUTH_METHOD, AUTH-METHOD, or another spelling such as an HTTP_ prefix.',
    draftIds: ['FCGI-X-3'],
  },
  'FCGI-X-wrong-id-class': {
    section: 'X',
    side: 'application',
    level: 'info',
    levelReason:
      'An application type on the null id, or a management type on a request id, fits neither class of record; the spec gives it no handling.',
    quote:
      'Management records have a requestId value of zero, also called the null request ID. Application records have a nonzero requestId.',
    summary:
      'Records what an application does with a BEGIN_REQUEST (and its streams) on requestId 0, and with FCGI_GET_VALUES on a non-zero id.',
    check: 'probe-app',
    how: 'With FCGI_KEEP_CONN: send {FCGI_BEGIN_REQUEST, 0, {FCGI_RESPONDER, FCGI_KEEP_CONN}} with PARAMS and STDIN on id 0; send {FCGI_GET_VALUES, 1, ...} with no request 1 active and again while request 1 is active. Record each answer (nothing, UNKNOWN_TYPE, GET_VALUES_RESULT, a served request, a close) and whether a valid request on the connection is still served.',
    draftIds: ['FCGI-3.3-13', 'FCGI-X-4'],
  },
  'FCGI-X-duplicate-params': {
    section: 'X',
    side: 'application',
    level: 'info',
    levelReason: 'The spec does not say whether a name may occur twice in FCGI_PARAMS.',
    quote: 'The name-value pairs are sent down the stream one after the other, in no specified order.',
    summary: 'Records which value an application exposes when a name occurs twice in PARAMS.',
    check: 'probe-app',
    how: 'Send PARAMS with FOO=first and later FOO=second; a probe handler reports which value (or both) the application exposes.',
    draftIds: ['FCGI-5.2-5', 'FCGI-X-6'],
  },
  'FCGI-X-stderr-terminated': {
    section: 'X',
    side: 'application',
    level: 'should',
    levelReason:
      'The stream definition asks for a terminator, but 6.1 makes STDERR optional, so the suite grades a missing STDERR terminator as a warning.',
    quote:
      'Use of the FCGI_STDERR stream is always optional. If an application has no errors to report, it sends either no FCGI_STDERR records or one zero-length FCGI_STDERR record.',
    summary:
      'STDERR is optional (no record, or a single empty one, when there is nothing to report), but once an application sent STDERR data for a request it ends that stream with an empty STDERR record before END_REQUEST.',
    check: 'bytes',
    how: 'Per request in the application capture: no STDERR record at all, or STDERR records ending with an empty one before END_REQUEST for R. Data without the empty record is a warning.',
    draftIds: ['FCGI-5.3-5', 'FCGI-X-7', 'FCGI-6.1-4'],
  },
  'FCGI-X-empty-params': {
    section: 'X',
    side: 'application',
    level: 'info',
    levelReason: 'An empty PARAMS stream is valid at the protocol level; what a handler does with no variables is open.',
    quote:
      'When a role protocol calls for transmitting a stream other than FCGI_STDERR, at least one record of the stream type is always transmitted, even if the stream is empty.',
    summary: 'Records how an application handles a request whose PARAMS stream holds no pair (only the empty record).',
    check: 'probe-app',
    how: 'Send BEGIN_REQUEST with FCGI_KEEP_CONN, one empty PARAMS record and one empty STDIN record; record whether the request ends with END_REQUEST (any appStatus, any page) and whether the connection stays usable.',
    draftIds: ['FCGI-X-12'],
  },
  'FCGI-X-invalid-response-web-server': {
    section: 'X',
    side: 'web-server',
    level: 'should',
    levelReason:
      'The spec says how an application ends a request but not what a web server makes of an answer that breaks off or holds no CGI response; relaying it as a complete success hides the failure, so the suite grades it as a warning.',
    quote:
      'The application sends a FCGI_END_REQUEST record to terminate a request, either because the application has processed the request or because the application has rejected the request.',
    summary:
      'A web server shows the HTTP client an error (a 5xx, or a message cut short) when the application closes the connection before FCGI_END_REQUEST, ends a request with no output at all, or sends records that end the body early; it does not relay what came as a complete success.',
    check: 'probe-web-server',
    how: 'The harness writes 16 KiB of output and closes the connection before FCGI_END_REQUEST (right away, and once the HTTP response head is out), and in another request sends FCGI_END_REQUEST with no output. The HTTP response must be a 5xx, or cut short (no last chunk, fewer bytes than Content-Length, no response); a whole 2xx or 3xx response is a warning. A body ended early by unexpected records and relayed as complete is graded here too.',
  },
  'FCGI-X-stall-timeout-web-server': {
    section: 'X',
    side: 'web-server',
    level: 'info',
    levelReason: 'The spec sets no time limit on a request; how long a web server waits for a silent application is its own policy.',
    quote: 'The Web server controls the lifetime of transport connections.',
    summary: 'Records how long a web server waits for an application that accepts a request and never answers, and how it gives up (HTTP status, FCGI_ABORT_REQUEST or a close).',
    check: 'probe-web-server',
    how: 'The harness reads the whole request and then sends nothing. Record the time until the HTTP client gets an answer and what it is, and whether the server sent FCGI_ABORT_REQUEST or closed the backend connection; if nothing came within the harness bound (8 s), record that the server had not given up.',
  },
} as const satisfies Record<string, Requirement>;

export type RequirementId = keyof typeof requirements;

/** Every id, in catalog order. */
export const requirementIds = Object.keys(requirements) as RequirementId[];

export function isRequirementId(s: string): s is RequirementId {
  return Object.hasOwn(requirements, s);
}

export function requirement(id: RequirementId): Requirement {
  return requirements[id];
}

/**
 * Ids of the draft catalog (`shared/reference/requirements.md`) that no entry covers, with the reason.
 * Every other draft id is listed in the `draftIds` of the entry that covers it.
 */
export const draftNotCovered: Readonly<Record<string, string>> = {
  'FCGI-X-1':
    'Editorial: the table of contents names "FCGI_RESULTS" under 5.2, but no such record type or type number exists; there is nothing to test.',
};
