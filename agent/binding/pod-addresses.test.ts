// The pod addresses pod-self rules compare with, read as the agent reads them at bind.

import { describe, expect, it } from '@jest/globals';
import { globalIPv6, localIPv4, podAddressesOf } from './pod-addresses.js';

const FIB_TRIE = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.244.0.0/24 2 0 2
        |-- 10.244.0.0
           /24 link UNICAST
        |-- 10.244.0.7
           /32 host LOCAL
     +-- 127.0.0.0/8 2 0 2
        |-- 127.0.0.1
           /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     |-- 10.244.0.7
        /32 host LOCAL
     |-- 10.244.0.255
        /32 link BROADCAST
`;

const IF_INET6 = `fe8000000000000000fc00fffe000001 04 40 20 80     eth0
fd000000000000000000000000000008 04 40 00 82     eth0
00000000000000000000000000000001 01 80 10 80       lo
`;

describe('pod addresses', () => {
  it('IPv4: the local host entries of fib_trie, once each, loopback and broadcast left out', () => {
    expect(localIPv4(FIB_TRIE)).toEqual(['10.244.0.7']);
  });

  it('IPv6: global-scope addresses of if_inet6 (not link-local, not lo)', () => {
    expect(globalIPv6(IF_INET6)).toEqual(['fd00:0:0:0:0:0:0:8']);
  });

  it('reads a live network namespace (this process), and [] for a process that is gone', () => {
    const mine = podAddressesOf(process.pid);
    expect(mine.every((a) => !a.startsWith('127.') && a !== '0:0:0:0:0:0:0:1')).toBe(true);
    expect(podAddressesOf(process.pid, (p) => (p.endsWith('fib_trie') ? FIB_TRIE : IF_INET6))).toEqual(['10.244.0.7', 'fd00:0:0:0:0:0:0:8']);
    expect(podAddressesOf(2 ** 22 + 1)).toEqual([]);
  });
});
