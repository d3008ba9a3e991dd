import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Cidr = [ipaddr.IPv4 | ipaddr.IPv6, number];
const cidrs = (list: string[]): Cidr[] => list.map((c) => ipaddr.parseCIDR(c));
const within = (addr: ipaddr.IPv4 | ipaddr.IPv6, ranges: Cidr[]) => ranges.some((r) => addr.kind() === r[0].kind() && addr.match(r));

/** IPv4 that is not public unicast (RFC 6890 special-purpose and multicast/reserved, incl. 255.255.255.255). */
const IPV4_REFUSED = cidrs([
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
]);
/** Only global unicast IPv6 is allowed… */
const IPV6_GLOBAL = cidrs(['2000::/3']);
/** …minus IETF protocol assignments (Teredo, benchmarking, ORCHID, AMT, …) and documentation prefixes. */
const IPV6_REFUSED = cidrs(['2001::/23', '2001:db8::/32', '3fff::/20']);

/** IPv6 forms that carry an IPv4 address in their last 32 bits: mapped, IPv4-compatible, SIIT-translated, NAT64. */
const IPV6_LAST32_EMBEDS = cidrs(['::ffff:0:0/96', '::/96', '::ffff:0:0:0/96', '64:ff9b::/96']);
const SIX_TO_FOUR = cidrs(['2002::/16']);

function v4FromBytes(bytes: number[]): ipaddr.IPv4 {
  return new ipaddr.IPv4(bytes);
}

function forbiddenV6(a: ipaddr.IPv6): boolean {
  const bytes = a.toByteArray();
  if (within(a, IPV6_LAST32_EMBEDS)) return forbiddenV4(v4FromBytes(bytes.slice(12)));
  if (within(a, SIX_TO_FOUR)) return forbiddenV4(v4FromBytes(bytes.slice(2, 6)));
  return !within(a, IPV6_GLOBAL) || within(a, IPV6_REFUSED);
}

function forbiddenV4(a: ipaddr.IPv4): boolean {
  return within(a, IPV4_REFUSED);
}

/**
 * SSRF rule shared by create-time checks and the delivery pools' DNS lookup (so it applies after resolution, on
 * every new connection). An allow-list: public IPv4 unicast, and IPv6 global unicast (2000::/3) outside the special
 * ranges; every IPv6 form that embeds an IPv4 address (mapped, IPv4-compatible, NAT64, 6to4) is judged by that IPv4.
 * Teredo (2001::/32) is refused with the rest of 2001::/23. ipaddr.js's own `range()` is not used: it calls the
 * deprecated IPv4-compatible ::/96 "unicast", which let `[::127.0.0.1]` through.
 */
export function isForbiddenAddress(address: string): boolean {
  if (!ipaddr.isValid(address) || !isIP(address.split('%')[0])) return true;
  const parsed = ipaddr.parse(address);
  return parsed.kind() === 'ipv4' ? forbiddenV4(parsed as ipaddr.IPv4) : forbiddenV6(parsed as ipaddr.IPv6);
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
