// The API's well-known names: the annotations, labels and finalizers that the webhook, the
// controller and the agent write and read on Kubernetes objects, and the capability names of
// the policy language. Declared once here, beside the types, and imported by every room (as the
// Security Profiles Operator keeps them in api/*/v1*/..._types.go), so two rooms cannot drift.

import type { Enforcer } from './types.js';

// --- Pod annotations the webhook writes and the agent reads --------------------------------

/** Per-enforcer annotation prefix; the container's name follows it. As in vArmor. */
export const ANNOTATION_PREFIX: Readonly<Record<Enforcer, string>> = {
  AppArmor: 'container.apparmor.security.beta.varmor.org/',
  BPF: 'container.bpf.security.beta.varmor.org/',
  Seccomp: 'container.seccomp.security.beta.varmor.org/',
};

/** The annotation keys of one container, by enforcer. */
export const ANNOTATION = {
  bpf: (container: string) => `${ANNOTATION_PREFIX.BPF}${container}`,
  appArmor: (container: string) => `${ANNOTATION_PREFIX.AppArmor}${container}`,
  seccomp: (container: string) => `${ANNOTATION_PREFIX.Seccomp}${container}`,
  /** Kubernetes' own AppArmor annotation, the only AppArmor switch before 1.30. */
  legacyAppArmor: (container: string) => `container.apparmor.security.beta.kubernetes.io/${container}`,
} as const;

/**
 * containerd's `pod_annotations` glob that copies every one of our container annotations into
 * the OCI spec, where the createRuntime hook reads them.
 */
export const POD_ANNOTATIONS_PASSTHROUGH: readonly string[] = ['container.*.security.beta.varmor.org/*'];

/** An annotation value that names a profile loaded on the node: `localhost/<profile name>`. */
export const PROFILE_REF_PREFIX = 'localhost/';

/** The annotation value by which a pod author opts a container out of one enforcer. */
export const UNCONFINED = 'unconfined';

// --- Labels ---------------------------------------------------------------------------------

/** The namespace (or object) label that opts workloads in, as in vArmor. */
export const OPT_IN_LABEL = 'sandbox.varmor.org/enable';

/** On an ArmorProfile: the policy it was compiled from (`<namespace>/<name>` parts below). */
export const LABEL_POLICY = 'varmor.org/policy';
export const LABEL_POLICY_KIND = 'varmor.org/policy-kind';
export const LABEL_POLICY_NAME = 'varmor.org/policy-name';
export const LABEL_POLICY_NAMESPACE = 'varmor.org/policy-namespace';

/** On a per-node ArmorProfileModel: the profile it records, and the node that recorded it. */
export const LABEL_MODEL_OF = 'varmor.org/model-of';
export const LABEL_NODE = 'varmor.org/node';

// --- Node entries of an ArmorProfile's status (CONTRACTS.md) ------------------------------------

/** A node entry's reason when none of the profile's enforcers can enforce on that node. */
export const NODE_REASON_NOT_PROTECTED = 'NotProtected';

// --- Finalizers -------------------------------------------------------------------------------

/** On an ArmorProfile: agents still hold its profiles; removed when the controller deletes it. */
export const AP_FINALIZER = 'varmor.org/ap-protection';
/** On the policy: deleting it waits until the controller has removed its ArmorProfile and rolled workloads. */
export const POLICY_FINALIZER = 'varmor.org/policy-cleanup';

// --- The controller's bookkeeping annotations -------------------------------------------------

/** The enforcer the ArmorProfile was built for; the basis of the immutability check. */
export const ANN_ENFORCER = 'controller.varmor.org/enforcer';
/** The mode the policy had when the ArmorProfile was built (not the compiled mode, which modelling changes). */
export const ANN_MODE = 'controller.varmor.org/mode';
/** `<generation>@<stamp>`: a restart of existing workloads is due for that policy generation. */
export const ANN_RESTART = 'controller.varmor.org/restart';
/** Generation whose restart has been done. */
export const ANN_RESTARTED = 'controller.varmor.org/restarted';
export const ANN_POLICY_GENERATION = 'controller.varmor.org/policy-generation';
/** On a workload's pod template: set to roll its pods (as `kubectl rollout restart` does). */
export const RESTARTED_AT_ANNOTATION = 'controller.varmor.org/restartedAt';
/** When the current BehaviorModeling run started. */
export const ANN_MODELING_START = 'controller.varmor.org/modeling-start';
/** The modelling run whose DefenseInDepth model has been built. */
export const ANN_MODEL_BUILT = 'controller.varmor.org/model-built';

// --- The policy language ----------------------------------------------------------------------

/** Linux capabilities by number (CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40), lower-case without CAP_. */
export const CAPABILITIES: readonly string[] = [
  'chown', 'dac_override', 'dac_read_search', 'fowner', 'fsetid', 'kill', 'setgid', 'setuid', 'setpcap',
  'linux_immutable', 'net_bind_service', 'net_broadcast', 'net_admin', 'net_raw', 'ipc_lock', 'ipc_owner',
  'sys_module', 'sys_rawio', 'sys_chroot', 'sys_ptrace', 'sys_pacct', 'sys_admin', 'sys_boot', 'sys_nice',
  'sys_resource', 'sys_time', 'sys_tty_config', 'mknod', 'lease', 'audit_write', 'audit_control', 'setfcap',
  'mac_override', 'mac_admin', 'syslog', 'wake_alarm', 'block_suspend', 'audit_read', 'perfmon', 'bpf',
  'checkpoint_restore',
];

// --- Tenancy ----------------------------------------------------------------------------------

/**
 * On a VarmorClusterPolicy, set by a cluster administrator (tenants cannot write cluster policies):
 * `"true"` makes the policy binding. For the containers it targets, neither a namespaced policy nor
 * a pod author's opt-out annotation, `Unconfined` or other Localhost securityContext weakens it: the
 * webhook writes its profiles over them.
 */
export const BINDING_POLICY_ANNOTATION = 'sandbox.varmor.org/binding';
