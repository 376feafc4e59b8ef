// Test support: the policy the controller's unit tests start from (a Deployment hardened by
// AppArmorBPF in EnhanceProtect), with parts replaced per case.

import type { PolicySpec } from '../../profiler/api/types.js';

export const policySpec = (extra: Partial<PolicySpec> = {}): PolicySpec => ({
  target: { kind: 'Deployment', name: 'web' },
  policy: {
    enforcer: 'AppArmorBPF',
    mode: 'EnhanceProtect',
    enhanceProtect: { hardeningRules: ['disallow-mount'] },
  },
  ...extra,
});
