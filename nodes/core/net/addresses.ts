/**
 * Which IP addresses a push may be posted to: every address except the special-purpose ones
 * (IANA's IPv4 and IPv6 Special-Purpose Address Registries, the entries not globally reachable,
 * plus multicast and reserved space). An IPv4 address embedded in an IPv6 one (mapped,
 * translated, compatible, NAT64, 6to4) is judged as the IPv4 it leads to, and IPv6 outside
 * global unicast (2000::/3) is refused whole, so unallocated space needs no entry of its own.
 */
import { isIP } from 'node:net';

type Range = { bytes: Uint8Array; bits: number; name: string };

const V4_RANGES: Array<[string, string]> = [
	['0.0.0.0/8', '"this network"'],
	['10.0.0.0/8', 'private-use'],
	['100.64.0.0/10', 'shared address space (carrier-grade NAT)'],
	['127.0.0.0/8', 'loopback'],
	['169.254.0.0/16', 'link-local'],
	['172.16.0.0/12', 'private-use'],
	['192.0.0.0/24', 'IETF protocol assignments'],
	['192.0.2.0/24', 'documentation (TEST-NET-1)'],
	['192.88.99.0/24', '6to4 relay anycast'],
	['192.168.0.0/16', 'private-use'],
	['198.18.0.0/15', 'benchmarking'],
	['198.51.100.0/24', 'documentation (TEST-NET-2)'],
	['203.0.113.0/24', 'documentation (TEST-NET-3)'],
	['224.0.0.0/4', 'multicast'],
	['240.0.0.0/4', 'reserved (and the limited broadcast 255.255.255.255)'],
];

const V6_RANGES: Array<[string, string]> = [
	['::/128', 'unspecified'],
	['::1/128', 'loopback'],
	['64:ff9b:1::/48', 'local-use IPv4/IPv6 translation'],
	['100::/64', 'discard-only'],
	['2001::/23', 'IETF protocol assignments (Teredo, benchmarking, ORCHID)'],
	['2001:db8::/32', 'documentation'],
	['3fff::/20', 'documentation'],
	['5f00::/16', 'segment routing (SRv6) SIDs'],
	['fc00::/7', 'unique local'],
	['fe80::/10', 'link-local'],
	['fec0::/10', 'site-local'],
	['ff00::/8', 'multicast'],
];

/** Prefixes whose IPv6 addresses carry an IPv4 one, and where it sits (byte offset). */
const EMBEDDING: Array<[string, number, string]> = [
	['::ffff:0:0/96', 12, 'IPv4-mapped'],
	['::ffff:0:0:0/96', 12, 'IPv4-translated'],
	['64:ff9b::/96', 12, 'NAT64'],
	['2002::/16', 2, '6to4'],
	['::/96', 12, 'IPv4-compatible'],
];

/** An address as its 4 or 16 bytes; null when it is not an IP address. */
export function ipBytes(address: string): Uint8Array | null {
	const ip = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
	const kind = isIP(ip);
	if (kind === 4) return Uint8Array.from(ip.split('.').map(Number));
	if (kind !== 6) return null;
	let text = ip.toLowerCase();
	const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
	if (dotted) {
		const [a, b, c, d] = dotted[1].split('.').map(Number);
		text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
	const left = head ? head.split(':') : [];
	const right = tail ? tail.split(':') : [];
	const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
	const bytes = new Uint8Array(16);
	groups.forEach((g, i) => {
		const n = parseInt(g, 16);
		bytes[2 * i] = n >> 8;
		bytes[2 * i + 1] = n & 255;
	});
	return bytes;
}

function range([cidr, name]: [string, string]): Range {
	const [ip, bits] = cidr.split('/');
	return { bytes: ipBytes(ip)!, bits: Number(bits), name };
}
const V4 = V4_RANGES.map(range);
const V6 = V6_RANGES.map(range);
const EMBEDDED = EMBEDDING.map(([cidr, offset, name]) => ({ ...range([cidr, name]), offset }));

function within(bytes: Uint8Array, r: Pick<Range, 'bytes' | 'bits'>): boolean {
	if (bytes.length !== r.bytes.length) return false;
	for (let bit = 0; bit < r.bits; bit += 8) {
		const mask = r.bits - bit >= 8 ? 0xff : (0xff << (8 - (r.bits - bit))) & 0xff;
		if ((bytes[bit / 8] & mask) !== (r.bytes[bit / 8] & mask)) return false;
	}
	return true;
}

/**
 * The special-purpose range an address is in (e.g. "loopback"), or null for a globally
 * reachable address. Anything that is not an IP address is refused too.
 */
export function specialPurposeRange(address: string): string | null {
	const bytes = ipBytes(address);
	if (!bytes) return 'not an IP address';
	if (bytes.length === 4) return V4.find((r) => within(bytes, r))?.name ?? null;
	const named = V6.find((r) => within(bytes, r));
	if (named) return named.name;
	const embedding = EMBEDDED.find((r) => within(bytes, r));
	if (embedding) {
		const v4 = bytes.slice(embedding.offset, embedding.offset + 4).join('.');
		const inner = specialPurposeRange(v4);
		return inner && `${embedding.name} ${v4}: ${inner}`;
	}
	return (bytes[0] & 0xe0) === 0x20 ? null : 'outside IPv6 global unicast (2000::/3)';
}
