// The crd.varmor.org/v1beta1 API, field for field as vArmor defines it, so that a vArmor
// user's policies type-check and validate unchanged. The JSON Schema in ./schema.ts is the
// runtime twin of these types; ./types-schema.test.ts fails when the two disagree.

export const API_GROUP = 'crd.varmor.org';
export const API_VERSION = 'crd.varmor.org/v1beta1';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface LabelSelectorRequirement {
  key: string;
  operator: string; // In, NotIn, Exists, DoesNotExist
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

export type TargetKind = 'Deployment' | 'StatefulSet' | 'DaemonSet' | 'Pod';

export interface Target {
  kind: string; // TargetKind once validated
  name?: string;
  selector?: LabelSelector;
  containers?: string[];
}

export interface AppArmorRawRule {
  rules: string;
  targets?: string[];
}

export interface AttackProtectionRule {
  rules: string[];
  targets?: string[];
}

export interface SyscallArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string; // SCMP_CMP_*
}

export interface SyscallRawRule {
  names: string[];
  action: string; // SCMP_ACT_*
  errnoRet?: number;
  args?: SyscallArg[];
}

export interface FileRule {
  pattern: string;
  permissions: string[];
  qualifiers: string[];
}

export interface MountRule {
  sourcePattern: string;
  fstype: string;
  flags: string[];
  qualifiers: string[];
}

export interface PortRange {
  port: number;
  endPort?: number;
}

export interface DestinationRule {
  ip?: string;
  cidr?: string;
  ports?: PortRange[];
  qualifiers: string[];
}

export interface ServiceRule {
  name?: string;
  namespace?: string;
  serviceSelector?: LabelSelector;
  qualifiers: string[];
}

export interface PodRule {
  namespace?: string;
  podSelector: LabelSelector;
  ports?: PortRange[];
  qualifiers: string[];
}

export interface SocketRule {
  domains?: string[];
  types?: string[];
  protocols?: string[];
  qualifiers: string[];
}

export interface NetworkRules {
  sockets?: SocketRule[];
  egress?: {
    toDestinations?: DestinationRule[];
    toServices?: ServiceRule[];
    toPods?: PodRule[];
  };
}

export interface PtraceRule {
  permissions: string[];
  qualifiers: string[];
  strictMode?: boolean;
}

export interface BpfRawRules {
  files?: FileRule[];
  processes?: FileRule[];
  network?: NetworkRules;
  ptrace?: PtraceRule;
  mounts?: MountRule[];
}

export interface EnhanceProtect {
  hardeningRules?: string[];
  attackProtectionRules?: AttackProtectionRule[];
  vulMitigationRules?: string[];
  appArmorRawRules?: AppArmorRawRule[];
  bpfRawRules?: BpfRawRules;
  syscallRawRules?: SyscallRawRule[];
  networkProxyRawRules?: Record<string, unknown>; // NetworkProxy enforcer: accepted, not enforced
  privileged?: boolean;
  auditViolations?: boolean;
  allowViolations?: boolean;
}

export interface DefenseInDepthAppArmor {
  profileType: string; // BehaviorModel | Custom
  customProfile?: string;
  appArmorRawRules?: AppArmorRawRule[];
}

export interface DefenseInDepthSeccomp {
  profileType: string; // BehaviorModel | Custom
  customProfile?: string;
  syscallRawRules?: SyscallRawRule[];
}

export interface DefenseInDepth {
  allowViolations?: boolean;
  appArmor?: DefenseInDepthAppArmor;
  seccomp?: DefenseInDepthSeccomp;
  networkProxy?: Record<string, unknown>;
}

export type Mode = 'AlwaysAllow' | 'RuntimeDefault' | 'EnhanceProtect' | 'BehaviorModeling' | 'DefenseInDepth';
export type Enforcer = 'AppArmor' | 'BPF' | 'Seccomp';

export interface Policy {
  enforcer: string; // e.g. AppArmorBPFSeccomp; parsed by profiler/validate/enforcer.ts
  mode: string; // Mode once validated
  enhanceProtect?: EnhanceProtect;
  defenseInDepth?: DefenseInDepth;
  modelingOptions?: { duration: number };
  networkProxyConfig?: Record<string, unknown>;
}

export interface PolicySpec {
  target: Target;
  policy: Policy;
  updateExistingWorkloads?: boolean;
}

export interface PolicyCondition {
  type: string; // Created | Updated | Ready
  status: string; // True | False | Unknown
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export type PolicyPhase =
  | 'Pending'
  | 'Protecting'
  | 'Modeling'
  | 'Completed'
  | 'Error'
  | 'Failed'
  | 'Unknown'
  | 'Unchanged';

export interface PolicyStatus {
  profileName: string;
  ready: boolean;
  phase?: string;
  conditions?: PolicyCondition[];
}

export interface VarmorPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'VarmorPolicy';
  metadata: ObjectMeta;
  spec: PolicySpec;
  status?: PolicyStatus;
}

export interface VarmorClusterPolicy {
  apiVersion: typeof API_VERSION;
  kind: 'VarmorClusterPolicy';
  metadata: ObjectMeta;
  spec: PolicySpec;
  status?: PolicyStatus;
}

export type AnyPolicy = VarmorPolicy | VarmorClusterPolicy;

/** The compiled profiles of one policy, as the controller stores them and the agents read them. */
export interface ArmorProfileSpec {
  profile: {
    name: string;
    enforcer: string;
    mode: string;
    /** AppArmor profile text, base64 (as vArmor stores it). */
    content?: string;
    /** Seccomp profile JSON text (OCI/Docker format). */
    seccompContent?: string;
    /** BPF rule tables in the layout of native/varmor_tables.h, base64. */
    bpfContent?: string;
    /** Numeric BPF policy id (profiler/names.ts). */
    bpfPolicyId?: number;
  };
  target: Target;
  behaviorModeling?: { enable?: boolean; duration?: number };
  updateExistingWorkloads?: boolean;
}

export interface ArmorProfileNodeCondition {
  nodeName?: string;
  type: string;
  status: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface ArmorProfileStatus {
  desiredNumberLoaded?: number;
  currentNumberLoaded?: number;
  conditions?: ArmorProfileNodeCondition[];
}

export interface ArmorProfile {
  apiVersion: typeof API_VERSION;
  kind: 'ArmorProfile';
  metadata: ObjectMeta;
  spec: ArmorProfileSpec;
  status?: ArmorProfileStatus;
}

/** What BehaviorModeling recorded, merged over all nodes. */
export interface BehaviorData {
  files?: { path: string; permissions: string[] }[];
  executions?: string[];
  capabilities?: string[];
  network?: { domain?: string; type?: string; protocol?: string; address?: string; port?: number }[];
  ptrace?: { permissions: string[]; peer?: string }[];
  mounts?: { source?: string; fstype?: string; flags?: string[] }[];
  syscalls?: string[];
}

export interface ArmorProfileModel {
  apiVersion: typeof API_VERSION;
  kind: 'ArmorProfileModel';
  metadata: ObjectMeta;
  data: {
    dynamicResult?: { appArmor?: BehaviorData; seccomp?: { syscalls?: string[] }; bpf?: BehaviorData };
    staticResult?: Record<string, unknown>;
    profile?: { name: string; enforcer: string; mode: string; content?: string; seccompContent?: string };
  };
  storageType?: string; // CRDInternal | LocalDisk
  status?: { desiredNumber?: number; completedNumber?: number; ready?: boolean; conditions?: ArmorProfileNodeCondition[] };
}
