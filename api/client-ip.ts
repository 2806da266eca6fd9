// Which address a request comes from. X-Forwarded-For is written by whoever sends the request, so it is
// believed only as far as configured proxies vouch for it (TRUST_PROXY), as Express's `trust proxy` does:
// off by default, a hop count, or the proxies' addresses and CIDRs.
import { BlockList, isIP } from 'node:net';

export type TrustProxy = { hops: number } | { proxies: BlockList; text: string };

export const TRUST_NONE: TrustProxy = { hops: 0 };

/** '' or 'false' trusts no proxy; '2' trusts two hops; '10.0.0.0/8, 127.0.0.1' trusts those addresses. */
export function parseTrustProxy(text: string): TrustProxy {
  const t = text.trim();
  if (t === '' || t === 'false' || t === '0') return TRUST_NONE;
  if (/^\d+$/.test(t)) return { hops: Number(t) };
  const proxies = new BlockList();
  for (const entry of t
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const prefix = bits === undefined ? (family === 6 ? 128 : 32) : Number(bits);
    if (!family || extra !== undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > (family === 6 ? 128 : 32)) {
      throw new Error(`"${entry}" is neither an IP address nor a CIDR like 10.0.0.0/8`);
    }
    proxies.addSubnet(address!, prefix, family === 6 ? 'ipv6' : 'ipv4');
  }
  return { proxies, text: t };
}

/** "::ffff:10.1.2.3" is the IPv4 address 10.1.2.3 arriving on an IPv6 socket. */
function normalize(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address;
}

function trusted(proxies: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && proxies.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * The client's address: the socket's peer, then X-Forwarded-For read from the right (nearest hop first),
 * stepping past each address the configuration trusts. What a client wrote itself is never reached.
 */
export function clientAddress(socket: string | undefined, forwardedFor: string | undefined, trust: TrustProxy): string {
  const chain = [normalize(socket ?? 'unknown')];
  if (forwardedFor && !('hops' in trust && trust.hops === 0)) {
    chain.push(
      ...forwardedFor
        .split(',')
        .map((a) => normalize(a.trim()))
        .filter(Boolean)
        .reverse(),
    );
  }
  let i = 0;
  if ('hops' in trust) i = Math.min(trust.hops, chain.length - 1);
  else while (i < chain.length - 1 && trusted(trust.proxies, chain[i]!)) i++;
  return chain[i]!.slice(0, 64);
}
