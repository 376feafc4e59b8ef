// The six example policies of varmor-api.md, as objects (the YAML is engineer A's fixture), and
// a recorded behaviour model for example 6, shared by the compilers' golden tests.

import type { AnyPolicy, ArmorProfileModel } from '../../api/types.js';
import type { CompileInput } from '../../compiled.js';
import { bpfPolicyId, profileName } from '../../names.js';

export const EXAMPLES: AnyPolicy[] = [
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'web-hardening', namespace: 'shop' },
    spec: {
      target: { kind: 'Deployment', selector: { matchLabels: { app: 'web' } }, containers: ['nginx'] },
      policy: {
        enforcer: 'AppArmorBPFSeccomp',
        mode: 'EnhanceProtect',
        enhanceProtect: {
          auditViolations: true,
          hardeningRules: ['disallow-mount', 'disallow-umount', 'disable-cap-privileged', 'disallow-create-user-ns'],
          attackProtectionRules: [{ rules: ['disable-write-etc', 'mitigate-sa-leak', 'disable-shell'] }],
          vulMitigationRules: ['runc-override-mitigation', 'dirty-pipe-mitigation'],
        },
      },
    },
  },
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'api-bpf', namespace: 'shop' },
    spec: {
      target: { kind: 'StatefulSet', name: 'api' },
      updateExistingWorkloads: true,
      policy: {
        enforcer: 'BPF',
        mode: 'EnhanceProtect',
        enhanceProtect: {
          bpfRawRules: {
            files: [
              { pattern: '/etc/shadow', permissions: ['read', 'write'], qualifiers: ['deny', 'audit'] },
              { pattern: '/run/secrets/**', permissions: ['write'], qualifiers: ['deny'] },
              { pattern: '*.pem', permissions: ['r'], qualifiers: ['audit'] },
            ],
            processes: [{ pattern: '**/nc', permissions: ['exec'], qualifiers: ['deny'] }],
            network: {
              sockets: [{ domains: ['packet'], qualifiers: ['deny'] }],
              egress: {
                toDestinations: [
                  { cidr: '169.254.0.0/16', qualifiers: ['deny'] },
                  { ip: 'fd00::10', ports: [{ port: 6443 }], qualifiers: ['deny', 'audit'] },
                  { cidr: '10.0.0.0/8', ports: [{ port: 2379, endPort: 2380 }], qualifiers: ['deny'] },
                ],
              },
            },
            ptrace: { permissions: ['trace', 'read'], qualifiers: ['deny'], strictMode: true },
            mounts: [{ sourcePattern: 'cgroup', fstype: '*', flags: ['all'], qualifiers: ['deny'] }],
          },
        },
      },
    },
  },
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'worker-seccomp', namespace: 'jobs' },
    spec: {
      target: { kind: 'Pod', selector: { matchLabels: { role: 'worker' } } },
      policy: {
        enforcer: 'Seccomp',
        mode: 'EnhanceProtect',
        enhanceProtect: {
          hardeningRules: ['disallow-userfaultfd-creation'],
          attackProtectionRules: [{ rules: ['disable-chmod-x-bit'] }],
          syscallRawRules: [
            { names: ['keyctl', 'add_key', 'request_key'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 },
            { names: ['personality'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 4294967295, op: 'SCMP_CMP_NE' }] },
          ],
        },
      },
    },
  },
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorClusterPolicy',
    metadata: { name: 'agents-default' },
    spec: {
      target: { kind: 'DaemonSet', selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['node-agent'] }] } },
      policy: { enforcer: 'AppArmor', mode: 'RuntimeDefault' },
    },
  },
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'web-model', namespace: 'shop' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      policy: { enforcer: 'AppArmorSeccomp', mode: 'BehaviorModeling', modelingOptions: { duration: 30 } },
    },
  },
  {
    apiVersion: 'crd.varmor.org/v1beta1',
    kind: 'VarmorPolicy',
    metadata: { name: 'web-did', namespace: 'shop' },
    spec: {
      target: { kind: 'Deployment', name: 'web' },
      policy: {
        enforcer: 'AppArmorSeccomp',
        mode: 'DefenseInDepth',
        defenseInDepth: {
          allowViolations: true,
          appArmor: { profileType: 'BehaviorModel', appArmorRawRules: [{ rules: 'deny /proc/kcore r,' }] },
          seccomp: { profileType: 'BehaviorModel' },
        },
      },
    },
  },
];

/** What modelling an nginx Deployment for 30 minutes could have recorded (example 5 -> 6). */
export const WEB_MODEL: ArmorProfileModel = {
  apiVersion: 'crd.varmor.org/v1beta1',
  kind: 'ArmorProfileModel',
  metadata: { name: 'varmor-shop-web-did', namespace: 'shop' },
  data: {
    dynamicResult: {
      appArmor: {
        executions: ['/docker-entrypoint.sh', '/usr/sbin/nginx', '/bin/dash'],
        files: [
          { path: '/etc/nginx/nginx.conf', permissions: ['r'] },
          { path: '/etc/nginx/conf.d/default.conf', permissions: ['r'] },
          { path: '/var/log/nginx/access.log', permissions: ['w', 'a'] },
          { path: '/var/cache/nginx/client_temp', permissions: ['r', 'w'] },
          { path: '/run/nginx.pid', permissions: ['w', 'k'] },
          { path: '/usr/share/nginx/html/index.html', permissions: ['r'] },
          { path: '/usr/lib/x86_64-linux-gnu/libssl.so.3', permissions: ['r', 'm'] },
        ],
        capabilities: ['chown', 'setgid', 'setuid', 'net_bind_service', 'dac_override'],
        network: [{ domain: 'inet', type: 'stream', protocol: 'tcp' }],
      },
      seccomp: {
        syscalls: ['accept4', 'bind', 'epoll_wait', 'listen', 'sendfile', 'setsockopt', 'socket', 'writev', 'pread64', 'recvfrom', 'clone', 'wait4'],
      },
    },
  },
};

export function exampleInput(policy: AnyPolicy): CompileInput {
  const name = profileName({ kind: policy.kind, namespace: policy.metadata.namespace, name: policy.metadata.name ?? '' });
  return {
    profileName: name,
    bpfPolicyId: bpfPolicyId(name),
    mode: policy.spec.policy.mode as CompileInput['mode'],
    enforcers: [],
    policy: policy.spec.policy,
    model: policy.spec.policy.mode === 'DefenseInDepth' ? WEB_MODEL : undefined,
  };
}

export function selects(policy: AnyPolicy, enforcer: 'AppArmor' | 'Seccomp' | 'BPF'): boolean {
  return policy.spec.policy.enforcer.includes(enforcer);
}
