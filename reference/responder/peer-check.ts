/**
 * FCGI_WEB_SERVER_ADDRS: the addresses a web server may connect from. @see §3.2
 *
 * "If FCGI_WEB_SERVER_ADDRS was bound, the application checks the peer IP address of the new connection for
 * membership in the list. If the check fails (including the possibility that the connection didn't use
 * TCP/IP transport), the application responds by closing the connection." (§3.2)
 */

/**
 * Parses the variable's value: comma-separated addresses. Entries are trimmed and empty ones dropped
 * (spaces and IPv6 literals are extensions; the spec writes dotted-quad IPv4 only). A bound but empty
 * variable gives an empty list, which admits no one, as the spec reads.
 */
export function parseWebServerAddrs(value: string): ReadonlySet<string> {
  const out = new Set<string>();
  for (const part of value.split(',')) {
    const entry = normalizeAddress(part.trim());
    if (entry) out.add(entry);
  }
  return out;
}

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) becomes `1.2.3.4`; IPv6 is lower-cased. */
export function normalizeAddress(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && lower.includes('.') ? lower.slice(7) : lower;
}

/** Whether a peer passes the check: a TCP peer (it has an IP address) whose address is in the list. */
export function peerAllowed(remoteAddress: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (!remoteAddress) return false; // not TCP/IP (a Unix socket): the check fails
  return allowed.has(normalizeAddress(remoteAddress));
}
