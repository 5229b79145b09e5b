// Which addresses an outbound webhook may be sent to (docs/webhooks.md, "Where Relais will not
// send"): a tenant registers a URL, and Relais's worker calls it from inside the operator's network,
// so a URL must never turn Relais into a way to reach that network (server-side request forgery).
// Checked twice: when the endpoint is registered (the URL's shape, and a host that is an address
// or a loopback name), and on every connection, on each address the host name resolves to then
// (so a name that later resolves inside, DNS rebinding, is refused too).
import { BlockList, isIP } from 'node:net';

interface Range {
  name: string;
  cidrs: string[];
  family: 'ipv4' | 'ipv6';
  privateNetwork: boolean;
}

/**
 * Special-purpose ranges (IANA registries). `privateNetwork` ones may be allowed by the operator
 * (WEBHOOK_ALLOW_PRIVATE_NETWORKS, for a receiver on the same network, and the tests' loopback);
 * the others never: link-local holds the cloud metadata service (169.254.169.254).
 */
const RANGES: Range[] = [
  { name: 'loopback', family: 'ipv4', cidrs: ['127.0.0.0/8'], privateNetwork: true },
  { name: 'private', family: 'ipv4', cidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'], privateNetwork: true },
  { name: 'shared address space (carrier-grade NAT)', family: 'ipv4', cidrs: ['100.64.0.0/10'], privateNetwork: true },
  { name: 'link-local (cloud metadata)', family: 'ipv4', cidrs: ['169.254.0.0/16'], privateNetwork: false },
  { name: 'this network', family: 'ipv4', cidrs: ['0.0.0.0/8'], privateNetwork: false },
  {
    name: 'reserved',
    family: 'ipv4',
    cidrs: ['192.0.0.0/24', '192.88.99.0/24', '198.18.0.0/15', '240.0.0.0/4'],
    privateNetwork: false,
  },
  {
    name: 'documentation',
    family: 'ipv4',
    cidrs: ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24'],
    privateNetwork: false,
  },
  { name: 'multicast', family: 'ipv4', cidrs: ['224.0.0.0/4'], privateNetwork: false },
  { name: 'loopback', family: 'ipv6', cidrs: ['::1/128'], privateNetwork: true },
  { name: 'unique local (private)', family: 'ipv6', cidrs: ['fc00::/7'], privateNetwork: true },
  { name: 'unspecified', family: 'ipv6', cidrs: ['::/128'], privateNetwork: false },
  { name: 'link-local', family: 'ipv6', cidrs: ['fe80::/10', 'fec0::/10'], privateNetwork: false },
  { name: 'multicast', family: 'ipv6', cidrs: ['ff00::/8'], privateNetwork: false },
  {
    name: 'reserved',
    family: 'ipv6',
    cidrs: ['100::/64', '2001::/32', '2001:db8::/32', '64:ff9b:1::/48'],
    privateNetwork: false,
  },
];
const LISTS = RANGES.map((range) => {
  const list = new BlockList();
  for (const cidr of range.cidrs) {
    const [net, prefix] = cidr.split('/');
    list.addSubnet(net, Number(prefix), range.family);
  }
  return { range, list };
});

/** The 8 groups of an IPv6 address as numbers. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1].split('.').map(Number);
    text = text.slice(0, -dotted[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, null];
  const part = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = part(head);
  const right = tail === null ? [] : part(tail);
  return [...left, ...Array(8 - left.length - right.length).fill(0), ...right];
}

/** An IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16), or null. */
function embeddedIpv4(address: string): string | null {
  const g = ipv6Groups(address);
  const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return v4(g[6], g[7]);
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return v4(g[6], g[7]);
  if (g[0] === 0x2002) return v4(g[1], g[2]);
  return null;
}

/**
 * Why Relais must not connect to this IP address, or null when it may. With `allowPrivateNetworks`,
 * loopback and private ranges are allowed; link-local, multicast, unspecified and reserved never.
 */
export function addressProblem(address: string, allowPrivateNetworks: boolean): string | null {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 6) {
    const inner = embeddedIpv4(address);
    if (inner) return addressProblem(inner, allowPrivateNetworks);
  }
  for (const { range, list } of LISTS) {
    if (range.family !== (family === 4 ? 'ipv4' : 'ipv6') || !list.check(address, range.family)) continue;
    if (range.privateNetwork && allowPrivateNetworks) return null;
    return `${address} is in a ${range.name} range, where Relais does not send webhooks${range.privateNetwork ? ' (an operator can allow private networks: WEBHOOK_ALLOW_PRIVATE_NETWORKS)' : ''}`;
  }
  return null;
}

/** Names that are loopback by definition (RFC 6761), whatever a resolver says. */
const LOOPBACK_NAME = /(^|\.)localhost\.?$/i;

export const MAX_ENDPOINT_URL_LENGTH = 2048;

/**
 * What is wrong with an endpoint URL, in words naming the problem, or null: an absolute http(s)
 * URL without credentials or fragment, whose host, when it is an address or a loopback name, is
 * one Relais may send to. Other host names are checked on each connection (`addressProblem` on
 * what they resolve to), since what a name resolves to can change after registration.
 */
export function endpointUrlProblem(raw: string, allowPrivateNetworks: boolean): string | null {
  if (raw.length > MAX_ENDPOINT_URL_LENGTH) return `at most ${MAX_ENDPOINT_URL_LENGTH} characters`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'not an absolute URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return `must be http or https (got ${url.protocol.slice(0, -1)})`;
  if (url.username || url.password) return 'must not carry a user name or password: the signature authenticates Relais';
  if (url.hash) return 'must not have a fragment (#…): it is never sent';
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return addressProblem(host, allowPrivateNetworks);
  if (LOOPBACK_NAME.test(host) && !allowPrivateNetworks)
    return `${host} is a loopback name, where Relais does not send webhooks (an operator can allow private networks: WEBHOOK_ALLOW_PRIVATE_NETWORKS)`;
  return null;
}
