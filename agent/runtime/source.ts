// What the agent asks of the container runtime: the node's containers with their pid, OCI
// annotations and cgroups path. CRI in production (runtime/containers.ts); a test may hand in
// its own list.

export interface RuntimeContainer {
  id: string;
  running: boolean;
  /** Exited (or unknown to the runtime): its bindings can go. A created, not yet running one stays. */
  exited?: boolean;
  pid: number;
  /** OCI spec annotations: containerd's CRI identity plus our pod annotations (pod_annotations). */
  annotations: Record<string, string>;
  /** OCI spec linux.cgroupsPath (resolves the cgroup when /proc is seen from a private cgroup namespace). */
  cgroupsPath?: string;
}

export interface ContainerSource {
  /** `known`: containers the agent already holds (the source may skip re-reading their details). */
  list(known: ReadonlySet<string>): Promise<RuntimeContainer[]>;
}
