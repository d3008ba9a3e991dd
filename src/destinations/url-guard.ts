import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * SSRF rule shared by create-time checks and the delivery pools' DNS lookup (so it applies after resolution, on
 * every new connection): only globally routable unicast addresses. Loopback, private, link-local (incl. 169.254.169.254),
 * CGNAT, unique-local, unspecified, multicast, reserved and IPv4-mapped/translated forms of them are refused.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return true;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range() !== 'unicast';
}

/** `[::1]` → `::1` */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

/** Why a URL may not be delivered to when private addresses are refused, or null when it may. Resolves DNS. */
export async function privateUrlProblem(url: URL): Promise<string | null> {
  const host = bareHost(url.hostname);
  if (isIP(host)) return isForbiddenAddress(host) ? `${host} is a private, loopback, link-local or metadata address` : null;
  let addresses: { address: string }[];
  try {
    addresses = await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    return `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? 'DNS error'})`;
  }
  const bad = addresses.find((a) => isForbiddenAddress(a.address));
  return bad ? `${host} resolves to ${bad.address}, a private, loopback, link-local or metadata address` : null;
}
