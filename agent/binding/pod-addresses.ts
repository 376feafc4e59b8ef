// A container's pod addresses, for BPF `pod-self` egress rules (vArmor's PodSelfIPMatch): read
// from the network namespace its first process is in when it is bound (from the createRuntime
// hook, the pod's sandbox network is already set up), so the rule is in force from the first
// instruction with no wait for the Pod's status to reach the API server. Read at every BPF bind
// (two small /proc files), so a policy update that adds a pod-self rule covers running containers.
//
//   IPv4  /proc/<pid>/net/fib_trie: the "/32 host LOCAL" entries, loopback left out
//   IPv6  /proc/<pid>/net/if_inet6: global-scope addresses, loopback left out

import { readFileSync } from 'node:fs';

/** At most this many (the kernel's vt_self_addrs holds 4; a dual-stack pod has two). */
export const MAX_POD_ADDRESSES = 4;

/** The local IPv4 addresses of a fib_trie listing, in order of first appearance. */
export function localIPv4(fibTrie: string): string[] {
  const out: string[] = [];
  let last = '';
  for (const line of fibTrie.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) {
      last = leaf[1];
      continue;
    }
    if (/^\s*\/32 host LOCAL/.test(line) && last && !last.startsWith('127.') && !out.includes(last)) out.push(last);
  }
  return out;
}

/** The global-scope IPv6 addresses of an if_inet6 listing. */
export function globalIPv6(ifInet6: string): string[] {
  const out: string[] = [];
  for (const line of ifInet6.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^[0-9a-f]{32}$/.test(f[0]) || f[3] !== '00' || f[5] === 'lo') continue;
    const groups = f[0].match(/.{4}/g) ?? [];
    const text = groups.map((g) => g.replace(/^0{1,3}/, '')).join(':');
    if (!out.includes(text)) out.push(text);
  }
  return out;
}

/** The addresses of the network namespace `pid` is in; [] when it cannot be read (the process is gone). */
export function podAddressesOf(pid: number, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const attempt = (path: string, parse: (text: string) => string[]): string[] => {
    try {
      return parse(read(path));
    } catch {
      return [];
    }
  };
  return [...attempt(`/proc/${pid}/net/fib_trie`, localIPv4), ...attempt(`/proc/${pid}/net/if_inet6`, globalIPv6)].slice(0, MAX_POD_ADDRESSES);
}
