// BehaviorModeling, the agent's half: folds the BPF events of a modelled profile's containers
// into the BehaviorData shape (profiler/api/types.ts) the controller merges across nodes:
// files with permissions, executions, capabilities, network. Deduplicated as it goes (memory
// stays bounded by distinct behaviours, not by event count) and sorted on output. Pure.

import type { BehaviorData } from '../../profiler/node.js';
import type { BpfEvent } from '../loaders/bpf.js';
import { capabilityName, eventKind, filePermissions } from '../events/names.js';

const MAX_ENTRIES = 20_000;

export class BehaviorRecorder {
  private readonly files = new Map<string, Set<string>>();
  private readonly execs = new Set<string>();
  private readonly caps = new Set<string>();
  private readonly net = new Map<string, { domain?: string; type?: string; protocol?: string; address?: string; port?: number }>();
  private readonly mounts = new Map<string, { source?: string; fstype?: string }>();
  private readonly ptrace = new Set<string>();
  /** Distinct behaviours dropped because the record is full (reported, never silently lost). */
  dropped = 0;

  private size(): number {
    return this.files.size + this.execs.size + this.caps.size + this.net.size + this.mounts.size + this.ptrace.size;
  }

  add(ev: BpfEvent): void {
    const kind = eventKind(ev.hook);
    const full = this.size() >= MAX_ENTRIES;
    const put = <T>(has: boolean, fn: () => T): void => {
      if (!has && full) this.dropped++;
      else fn();
    };
    switch (kind) {
      case 'exec':
        if (ev.path) put(this.execs.has(ev.path), () => this.execs.add(ev.path!));
        break;
      case 'file':
        if (ev.path) {
          const p = ev.path;
          put(this.files.has(p), () => {
            const s = this.files.get(p) ?? new Set<string>();
            for (const perm of filePermissions(ev.detail)) s.add(perm);
            this.files.set(p, s);
          });
        }
        break;
      case 'capability': {
        const c = capabilityName(ev.detail);
        put(this.caps.has(c), () => this.caps.add(c));
        break;
      }
      case 'network': {
        const entry = ev.address ? { address: ev.address, port: ev.port } : { type: ev.hook };
        const key = JSON.stringify(entry);
        put(this.net.has(key), () => this.net.set(key, entry));
        break;
      }
      case 'mount': {
        const [source, fstype] = (ev.path ?? '').split('\0');
        const entry = { source: source || undefined, fstype: fstype || undefined };
        const key = JSON.stringify(entry);
        put(this.mounts.has(key), () => this.mounts.set(key, entry));
        break;
      }
      case 'ptrace': {
        const p = (ev.detail ?? 0) & 0x4 ? 'read' : 'trace';
        put(this.ptrace.has(p), () => this.ptrace.add(p));
        break;
      }
      default:
        break;
    }
  }

  /** How many distinct behaviours the record holds. */
  get entries(): number {
    return this.size();
  }

  /**
   * Folds a behaviour fragment in (AppArmor's complain-mode records arrive as BehaviorData, see
   * events/apparmor-audit.ts), with the same bound and dedup as the BPF events.
   */
  merge(d: BehaviorData): void {
    const full = (has: boolean): boolean => {
      if (!has && this.size() >= MAX_ENTRIES) {
        this.dropped++;
        return true;
      }
      return false;
    };
    for (const f of d.files ?? []) {
      if (full(this.files.has(f.path))) continue;
      const s = this.files.get(f.path) ?? new Set<string>();
      for (const p of f.permissions) s.add(p);
      this.files.set(f.path, s);
    }
    for (const e of d.executions ?? []) if (!full(this.execs.has(e))) this.execs.add(e);
    for (const c of d.capabilities ?? []) if (!full(this.caps.has(c))) this.caps.add(c);
    for (const n of d.network ?? []) {
      const key = JSON.stringify(n);
      if (!full(this.net.has(key))) this.net.set(key, n);
    }
    for (const m of d.mounts ?? []) {
      const entry = { source: m.source, fstype: m.fstype };
      const key = JSON.stringify(entry);
      if (!full(this.mounts.has(key))) this.mounts.set(key, entry);
    }
    for (const p of d.ptrace ?? []) for (const perm of p.permissions) if (!full(this.ptrace.has(perm))) this.ptrace.add(perm);
  }

  data(): BehaviorData {
    const byKey = <T>(m: Map<string, T>): T[] => [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, v]) => v);
    return {
      files: [...this.files.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([path, s]) => ({ path, permissions: [...s].sort() })),
      executions: [...this.execs].sort(),
      capabilities: [...this.caps].sort(),
      network: byKey(this.net),
      ptrace: this.ptrace.size ? [{ permissions: [...this.ptrace].sort() }] : [],
      mounts: byKey(this.mounts),
    };
  }
}
