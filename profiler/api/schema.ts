// The one JSON Schema of crd.varmor.org/v1beta1: the CRDs in manifests/crds are generated from
// it (scripts/gen-crds.ts) and ajv validates policies with it (profiler/validate). It is written
// as a Kubernetes *structural* schema (every node typed, no additionalProperties beside
// properties, x-kubernetes-preserve-unknown-fields only where vArmor has free-form objects), so
// the API server and our validator judge a policy by the same rules. Field names, required lists
// and int64 formats follow vArmor's CRDs; ./types.ts is the compile-time twin, held to this
// schema by ./types-schema.test.ts.

export type JsonSchema = {
  type?: 'object' | 'array' | 'string' | 'integer' | 'boolean' | 'number';
  description?: string;
  format?: string;
  enum?: readonly (string | number | boolean)[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  minimum?: number;
  maximum?: number;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

const str = (description?: string): JsonSchema => (description ? { type: 'string', description } : { type: 'string' });
const bool = (description?: string): JsonSchema => (description ? { type: 'boolean', description } : { type: 'boolean' });
const int = (description?: string): JsonSchema => (description ? { type: 'integer', description } : { type: 'integer' });
const int64 = (description?: string): JsonSchema => ({ ...int(description), format: 'int64' });
const strings = (description?: string): JsonSchema => ({ type: 'array', items: str(), ...(description ? { description } : {}) });
const arr = (items: JsonSchema, description?: string): JsonSchema => ({ type: 'array', items, ...(description ? { description } : {}) });
const obj = (properties: Record<string, JsonSchema>, required?: string[], description?: string): JsonSchema => ({
  type: 'object',
  ...(description ? { description } : {}),
  properties,
  ...(required && required.length > 0 ? { required } : {}),
});
/** A free-form object: the API server keeps it as is (vArmor's NetworkProxy fields, out of scope here). */
const freeObject = (description: string): JsonSchema => ({
  type: 'object',
  description,
  'x-kubernetes-preserve-unknown-fields': true,
});

export const TARGET_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet', 'Pod'] as const;
export const MODES = ['AlwaysAllow', 'RuntimeDefault', 'EnhanceProtect', 'BehaviorModeling', 'DefenseInDepth'] as const;

const labelSelector = (description?: string): JsonSchema =>
  obj(
    {
      matchExpressions: arr(obj({ key: str(), operator: str(), values: strings() }, ['key', 'operator'])),
      matchLabels: { type: 'object', additionalProperties: str() },
    },
    undefined,
    description,
  );

const ports = arr(obj({ endPort: int(), port: int() }, ['port']));

const syscallRawRules = arr(
  obj(
    {
      action: str('SCMP_ACT_* action'),
      args: arr(
        obj(
          {
            index: int('Argument index, 0..5'),
            op: str('SCMP_CMP_* comparison'),
            value: int64(),
            valueTwo: int64(),
          },
          ['index', 'op', 'value'],
        ),
      ),
      errnoRet: int(),
      names: strings('Syscall names'),
    },
    ['action', 'names'],
  ),
  'OCI LinuxSyscall rules',
);

const appArmorRawRules = arr(
  obj({ rules: str('AppArmor rules, one per line, each ending with a comma'), targets: strings('Executables (full paths) the rules apply to') }, ['rules']),
);

const fileRule = obj(
  {
    pattern: str('Absolute path or file name; one * (within a component) or one ** (across directories)'),
    permissions: strings('all(*), read(r), write(w), append(a), exec(e)'),
    qualifiers: strings('deny and/or audit'),
  },
  ['pattern', 'permissions', 'qualifiers'],
);

const bpfRawRules = obj({
  files: arr(fileRule),
  mounts: arr(
    obj(
      { flags: strings(), fstype: str(), qualifiers: strings(), sourcePattern: str() },
      ['flags', 'fstype', 'qualifiers', 'sourcePattern'],
    ),
  ),
  network: obj({
    egress: obj({
      toDestinations: arr(obj({ cidr: str(), ip: str(), ports, qualifiers: strings() }, ['qualifiers'])),
      toPods: arr(
        obj({ namespace: str(), podSelector: labelSelector(), ports, qualifiers: strings() }, ['podSelector', 'qualifiers']),
      ),
      toServices: arr(
        obj({ name: str(), namespace: str(), qualifiers: strings(), serviceSelector: labelSelector() }, ['qualifiers']),
      ),
    }),
    sockets: arr(obj({ domains: strings(), protocols: strings(), qualifiers: strings(), types: strings() }, ['qualifiers'])),
  }),
  processes: arr(fileRule),
  ptrace: obj({ permissions: strings(), qualifiers: strings(), strictMode: bool() }, ['permissions', 'qualifiers']),
});

const target = obj(
  {
    containers: strings('Containers to protect; empty means all (not init or ephemeral containers)'),
    kind: { type: 'string', enum: TARGET_KINDS, description: 'Deployment, StatefulSet, DaemonSet or Pod' },
    name: str('Name of the workload; exactly one of name and selector'),
    selector: labelSelector('Labels of the workloads; exactly one of name and selector'),
  },
  ['kind'],
);

export const POLICY_SPEC_SCHEMA: JsonSchema = obj(
  {
    policy: obj(
      {
        defenseInDepth: obj({
          allowViolations: bool(),
          appArmor: obj(
            { appArmorRawRules, customProfile: str(), profileType: str('BehaviorModel or Custom') },
            ['profileType'],
          ),
          networkProxy: freeObject('NetworkProxy enforcer settings (accepted, not enforced by varmor-ts)'),
          seccomp: obj(
            { customProfile: str(), profileType: str('BehaviorModel or Custom'), syscallRawRules },
            ['profileType'],
          ),
        }),
        enforcer: str('AppArmor, BPF, Seccomp or a combination such as AppArmorBPFSeccomp'),
        enhanceProtect: obj({
          allowViolations: bool(),
          appArmorRawRules,
          attackProtectionRules: arr(obj({ rules: strings(), targets: strings() }, ['rules'])),
          auditViolations: bool(),
          bpfRawRules,
          hardeningRules: strings(),
          networkProxyRawRules: freeObject('NetworkProxy enforcer rules (accepted, not enforced by varmor-ts)'),
          privileged: bool(),
          syscallRawRules,
          vulMitigationRules: strings(),
        }),
        mode: { type: 'string', enum: MODES },
        modelingOptions: obj({ duration: int('Minutes') }, ['duration']),
        networkProxyConfig: freeObject('NetworkProxy enforcer configuration (accepted, not enforced by varmor-ts)'),
      },
      ['enforcer', 'mode'],
    ),
    target,
    updateExistingWorkloads: bool(),
  },
  ['policy', 'target'],
);

const policyConditions = arr(
  obj(
    {
      lastTransitionTime: { type: 'string', format: 'date-time' },
      message: str(),
      reason: str(),
      status: str(),
      type: str(),
    },
    ['status', 'type'],
  ),
);

export const POLICY_STATUS_SCHEMA: JsonSchema = obj(
  { conditions: policyConditions, phase: str(), profileName: str(), ready: bool() },
  ['profileName', 'ready'],
);

const nodeConditions = arr(
  obj(
    {
      lastTransitionTime: { type: 'string', format: 'date-time' },
      message: str(),
      nodeName: str(),
      reason: str(),
      status: str(),
      type: str(),
    },
    ['status', 'type'],
  ),
);

export const ARMORPROFILE_SPEC_SCHEMA: JsonSchema = obj(
  {
    behaviorModeling: obj({ duration: int('Minutes'), enable: bool() }),
    profile: obj(
      {
        bpfContent: str('BPF rule tables (native/varmor_tables.h layout), base64'),
        bpfPolicyId: int64('Numeric BPF policy id (FNV-1a of the profile name)'),
        content: str('AppArmor profile text, base64'),
        enforcer: str(),
        mode: str(),
        name: str(),
        seccompContent: str('Seccomp profile JSON'),
      },
      ['enforcer', 'mode', 'name'],
    ),
    target,
    updateExistingWorkloads: bool(),
  },
  ['profile', 'target'],
);

export const ARMORPROFILE_STATUS_SCHEMA: JsonSchema = obj({
  conditions: nodeConditions,
  currentNumberLoaded: int(),
  desiredNumberLoaded: int(),
});

const behaviorData = obj({
  capabilities: strings(),
  executions: strings(),
  files: arr(obj({ path: str(), permissions: strings() }, ['path', 'permissions'])),
  mounts: arr(obj({ flags: strings(), fstype: str(), source: str() })),
  network: arr(obj({ address: str(), domain: str(), port: int(), protocol: str(), type: str() })),
  ptrace: arr(obj({ peer: str(), permissions: strings() }, ['permissions'])),
  syscalls: strings(),
});

/** ArmorProfileModel has no spec: data, storageType and status sit at the top level, as in vArmor. */
export const ARMORPROFILEMODEL_FIELDS: Record<string, JsonSchema> = {
  data: obj({
    dynamicResult: obj({ appArmor: behaviorData, bpf: behaviorData, seccomp: obj({ syscalls: strings() }) }),
    profile: obj({ content: str(), enforcer: str(), mode: str(), name: str(), seccompContent: str() }, [
      'enforcer',
      'mode',
      'name',
    ]),
    staticResult: freeObject('Static analysis results (reserved)'),
  }),
  status: obj({ completedNumber: int(), conditions: nodeConditions, desiredNumber: int(), ready: bool() }),
  storageType: str('CRDInternal or LocalDisk'),
};

const meta = { apiVersion: str(), kind: str(), metadata: { type: 'object' } as JsonSchema };

/** The whole-object schemas: the CRDs' openAPIV3Schema, and what ajv validates. */
export const OBJECT_SCHEMAS: Record<'VarmorPolicy' | 'VarmorClusterPolicy' | 'ArmorProfile' | 'ArmorProfileModel', JsonSchema> = {
  VarmorPolicy: obj({ ...meta, spec: POLICY_SPEC_SCHEMA, status: POLICY_STATUS_SCHEMA }, ['spec']),
  VarmorClusterPolicy: obj({ ...meta, spec: POLICY_SPEC_SCHEMA, status: POLICY_STATUS_SCHEMA }, ['spec']),
  ArmorProfile: obj({ ...meta, spec: ARMORPROFILE_SPEC_SCHEMA, status: ARMORPROFILE_STATUS_SCHEMA }, ['spec']),
  ArmorProfileModel: obj({ ...meta, ...ARMORPROFILEMODEL_FIELDS }, ['data']),
};

export type ObjectKind = keyof typeof OBJECT_SCHEMAS;
