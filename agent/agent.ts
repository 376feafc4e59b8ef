// The agent process, put together: BPF (adopting pins), the API server sources, the hook socket,
// the runtime reconcile loop, the event pump, readiness and metrics. Start order matters for
// "enforcement never lapses": pinned programs and bindings stay in force while the process is
// down; profiles are synced before the hook socket opens (so a hook never sees a half-known
// world), pinned bindings are adopted before the first reconcile, and only then is it ready.

import { KernelLogReader } from './events/kernel-log.js';
import { ANNOTATION_PREFIX, type ArmorProfile, type Logger } from '../profiler/node.js';
import { CgroupResolver } from './cgroup/resolve.js';
import { HookServer } from './hook/server.js';
import { AppArmorLoader } from './loaders/apparmor.js';
import { openBpf, type BpfHandle, type BpfModeOption, type NativeModule } from './loaders/bpf.js';
import { SeccompLoader } from './loaders/seccomp.js';
import { AgentMetrics } from './metrics.js';
import { AgentHttp } from './http.js';
import { NodeAgent } from './node.js';
import type { ContainerSource } from './runtime/source.js';
import { decodeArmorProfile } from './profiles/decode.js';
import { armorProfileInformer, nodePodInformer, type PodLike } from './profiles/source.js';
import { KubeClient } from './kube/client.js';
import { accessFromKubeconfig, accessInCluster } from './kube/config.js';
import type { Informer } from './kube/informer.js';
import { CriClient } from './runtime/cri.js';
import { CriContainerSource } from './runtime/containers.js';
import { StatusWriter } from './status/writer.js';
import { ModelUploader } from './modeling/upload.js';
import { profileFromAnnotationValue } from './core/targets.js';
import { PodIndex } from './binding/pods.js';
import { PodEvents } from './kube/pod-events.js';

export interface AgentOptions {
  nodeName: string;
  kube: KubeClient;
  seccompRoot: string;
  containerdSocket: string;
  hookSocket: string;
  pinPath?: string;
  metricsPort: number;
  metricsAddress?: string;
  bpfMode: BpfModeOption;
  appArmorDir: string;
  /** Test seam: where AppArmor would be (the loader reports it unavailable when absent). */
  appArmorSecurityfs?: string;
  resyncMs?: number;
  eventPollMs?: number;
  /** Read Seccomp's and AppArmor's audit records from the kernel log (default true), every kernelLogPollMs (default 1000). */
  kernelLog?: boolean;
  kernelLogPollMs?: number;
  profileWaitMs?: number;
  /** Where the agent logs (the process's one logger, built by cli/agent.ts). */
  log: Logger;
  /** Test seam: the native module (so a test can open the addon once). */
  native?: NativeModule;
  /** Test seam: a container source other than CRI. */
  runtime?: ContainerSource;
  /** Where ArmorProfiles of cluster policies live (default DEFAULT_PRODUCT_NAMESPACE). */
  productNamespace?: string;
  /** The webhook's binding key (`--binding-key`): without it, pod-authored references of a namespace cannot be told from the webhook's. */
  bindingKey?: Buffer;
  /** How long the hook waits for the pod watch to know a container's pod (ephemeral containers). */
  podWaitMs?: number;
}

const BPF_ANNOTATION = ANNOTATION_PREFIX.BPF;

export class Agent {
  readonly node: NodeAgent;
  readonly metrics: AgentMetrics;
  readonly log: Logger;
  private readonly http: AgentHttp;
  private readonly hook: HookServer;
  private readonly status: StatusWriter;
  private readonly profileSource: Informer<ArmorProfile & { metadata?: object }>;
  private readonly podSource: Informer<PodLike>;
  private readonly pods = new PodIndex();
  private readonly cri: CriClient | undefined;
  private chain: Promise<void> = Promise.resolve();
  private timers: NodeJS.Timeout[] = [];
  private ready = false;
  metricsPort = 0;

  private constructor(
    private readonly opts: AgentOptions,
    readonly bpf: BpfHandle,
  ) {
    this.log = opts.log;
    this.metrics = new AgentMetrics(opts.nodeName);
    this.status = new StatusWriter(opts.kube, opts.nodeName, (t, e) =>
      this.log.error('status write failed', { namespace: t.namespace, profile: t.name, error: e.message }),
    );
    let runtime = opts.runtime;
    if (!runtime) {
      this.cri = new CriClient(opts.containerdSocket);
      runtime = new CriContainerSource(this.cri);
    }
    this.node = new NodeAgent({
      nodeName: opts.nodeName,
      seccomp: new SeccompLoader(opts.seccompRoot),
      appArmor: new AppArmorLoader({ profileDir: opts.appArmorDir, securityfs: opts.appArmorSecurityfs }),
      bpf,
      cgroups: new CgroupResolver(),
      runtime,
      log: this.log,
      metrics: this.metrics,
      status: this.status,
      models: new ModelUploader(opts.kube, opts.nodeName),
      profileWaitMs: opts.profileWaitMs,
      productNamespace: opts.productNamespace,
      bindingKey: opts.bindingKey,
      pods: this.pods,
      podWaitMs: opts.podWaitMs,
      podEvents: new PodEvents(opts.kube, opts.nodeName, this.log),
    });
    this.http = new AgentHttp(this.metrics, () => this.ready);
    this.hook = new HookServer(opts.hookSocket, (req) => this.node.handleHook(req), (e) =>
      this.log.warn('hook connection error', { error: e.message }),
    );
    this.profileSource = armorProfileInformer(opts.kube, this.log, {
      apply: (ap) => this.enqueue(() => this.applyArmorProfile(ap)),
      // By identity: the profile name is not one (two namespaces can claim it; only the holder unloads it).
      remove: (ap) => this.enqueue(() => this.node.removeProfile({ namespace: ap.metadata?.namespace ?? '', name: ap.metadata?.name ?? '' })),
    });
    this.podSource = nodePodInformer(opts.kube, this.log, opts.nodeName, {
      // The index is updated at once, outside the queue: a hook may be waiting for this pod.
      apply: (pod) => {
        this.pods.apply(pod);
        void this.enqueue(async () => this.node.prewarm(bpfProfilesOfPod(pod), pod.metadata?.namespace ?? ''));
      },
      remove: (pod) => {
        this.pods.remove(pod);
        void this.enqueue(async () => this.node.release(bpfProfilesOfPod(pod)));
      },
    });
  }

  static async start(opts: AgentOptions): Promise<Agent> {
    const bpf = await openBpf(opts.bpfMode, opts.pinPath, opts.native);
    const agent = new Agent(opts, bpf);
    try {
      await agent.run();
    } catch (e) {
      await agent.stop();
      throw e;
    }
    return agent;
  }

  private async run(): Promise<void> {
    const { log } = this;
    log.info('agent starting', { bpfMode: this.bpf.mode, bpfUnavailable: this.bpf.unavailable, pinPath: this.opts.pinPath });
    if (this.bpf.unpinned) log.warn('bpf not pinned', { reason: this.bpf.unpinned });
    const bpfVersion = this.bpf.backend?.versionInfo?.();
    if (bpfVersion?.upgradedFrom) log.info('bpf programs upgraded', { ...bpfVersion });
    if (!this.opts.bindingKey) {
      log.warn('no binding key', {
        reason: "--binding-key not set: a pod author's own profile references in its namespace cannot be told apart from the webhook's; only the namespace rule applies",
      });
    }
    this.metricsPort = await this.http.listen(this.opts.metricsPort, this.opts.metricsAddress ?? '127.0.0.1');
    await this.profileSource.start();
    await this.chain;
    // Profiles deleted while no agent ran left their files behind.
    await this.enqueue(async () => {
      this.node.removeStaleSeccompFiles();
    });
    await this.hook.listen();
    await this.podSource.start();
    await this.enqueue(async () => {
      await this.node.adoptPinnedBindings();
      await this.node.reconcileContainers();
      // An upgrade across a map layout change kept the old build's programs attached (with their
      // own tables) until this reconcile re-applied every binding to the new set: release them now.
      const bpf = this.bpf.backend;
      if (bpf?.versionInfo?.().previous) {
        bpf.releasePrevious?.();
        log.info('bpf previous build released', { pinPath: this.opts.pinPath });
      }
    });
    const resync = setInterval(() => {
      void this.enqueue(async () => {
        await this.node.reconcileContainers();
      });
    }, this.opts.resyncMs ?? 30_000);
    // Seccomp violations: the kernel's audit records (type=1326) in its log, where the kernel
    // prints them when no audit daemon takes them
    if (this.opts.kernelLog !== false) {
      try {
        const native = this.opts.native ?? (await import('../native/index.js'));
        const read = (native as { kernelLog?: () => Buffer }).kernelLog;
        if (!read) throw new Error('the native addon has no kernelLog');
        const kernelLog = new KernelLogReader(read);
        // its own, slower timer: each poll copies the whole log ring (128 KiB here)
        const poll = setInterval(() => {
          try {
            this.node.pumpKernelLog(kernelLog);
          } catch (e) {
            log.error('kernel log poll failed', { error: (e as Error).message });
          }
        }, this.opts.kernelLogPollMs ?? 1000);
        this.timers.push(poll);
      } catch (e) {
        log.warn('seccomp violations not reported: the kernel log cannot be read', { error: (e as Error).message });
      }
    }
    const pump = setInterval(() => {
      try {
        this.node.pumpEvents();
      } catch (e) {
        log.error('event pump failed', { error: (e as Error).message });
      }
    }, this.opts.eventPollMs ?? 200);
    this.timers.push(resync, pump);
    for (const t of this.timers) t.unref();
    this.ready = true;
    log.info('agent ready', { profiles: this.node.profileNames().length, containers: this.node.containerRecords().length, metricsPort: this.metricsPort });
  }

  /** Serialises profile, pod and reconcile work so their effects apply in arrival order. */
  enqueue(op: () => Promise<void>): Promise<void> {
    const next = this.chain.then(op).catch((e: Error) => {
      this.log.error('agent operation failed', { error: e.message, stack: e.stack });
    });
    this.chain = next;
    return next;
  }

  private async applyArmorProfile(ap: ArmorProfile): Promise<void> {
    let p;
    try {
      p = decodeArmorProfile(ap);
    } catch (e) {
      const name = ap.metadata?.name ?? '?';
      this.node.rejectProfile({ namespace: ap.metadata?.namespace ?? '', name }, ap.spec?.profile?.name || name, (e as Error).message);
      return;
    }
    await this.node.applyProfile(p);
  }

  /** `namespace/name` of the pods the node watch holds (only this node's). */
  podsOnNode(): string[] {
    return this.podSource.items().map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`);
  }

  isReady(): boolean {
    return this.ready;
  }

  /** Waits until queued work and status writes are done (tests). */
  async settle(): Promise<void> {
    await this.chain;
    await this.status.flush();
  }

  /**
   * Stops the process's work. BPF objects stay pinned and attached (protection continues through
   * a restart or upgrade) unless `detach` is set, which an uninstall uses.
   */
  async stop(opts: { detach?: boolean } = {}): Promise<void> {
    this.ready = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.hook.close().catch(() => undefined);
    await this.profileSource.stop().catch(() => undefined);
    await this.podSource.stop().catch(() => undefined);
    await this.chain.catch(() => undefined);
    await this.status.flush().catch(() => undefined);
    await this.http.close().catch(() => undefined);
    this.cri?.close();
    this.opts.kube.close();
    // Without unpin, the pinned programs and maps keep enforcing for the next agent to adopt.
    try {
      this.bpf.backend?.detach({ unpin: !!opts.detach });
    } catch (e) {
      this.log.warn('bpf detach failed', { error: (e as Error).message });
    }
    this.log.info('agent stopped', { detached: !!opts.detach });
  }
}

/** The BPF profile names a pod's annotations reference (what its containers will be bound to). */
export function bpfProfilesOfPod(pod: PodLike): string[] {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(pod.metadata?.annotations ?? {})) {
    if (!k.startsWith(BPF_ANNOTATION)) continue;
    const name = profileFromAnnotationValue(v);
    if (name) out.add(name);
  }
  return [...out];
}

export function kubeClient(kubeconfig?: string): KubeClient {
  return new KubeClient(kubeconfig ? accessFromKubeconfig(kubeconfig) : accessInCluster());
}
