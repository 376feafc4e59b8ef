// The scenario sets the guest can run, by name. One initramfs holds them all (one cache
// entry); the kernel command line picks the suite. To add a case, add it to a scenario module
// listed here (or add a module), and assert on its result in the suite's *.guest.test.ts.

export const SUITES: Record<string, string[]> = {
  smoke: ['testing/guest/scenarios/smoke.ts'],
  enforcement: [
    'testing/guest/scenarios/smoke.ts',
    'testing/guest/scenarios/hooks.ts',
    'testing/guest/scenarios/container.ts',
    'testing/guest/scenarios/detach.ts',
    'testing/guest/scenarios/upgrade.ts',
    'testing/guest/scenarios/bypass.ts',
  ],
  // The attacker's roads around the hooks (issue 17) alone, for a quicker boot while working on them.
  bypass: ['testing/guest/scenarios/smoke.ts', 'testing/guest/scenarios/bypass.ts'],
  // The programs across agents (issue 17): upgrade swap and uninstall, for a quicker boot.
  lifecycle: ['testing/guest/scenarios/smoke.ts', 'testing/guest/scenarios/upgrade.ts'],
  // Every built-in rule attacked, on AppArmor and BPF, and AppArmor in runc containers (modes,
  // child profiles, the loader): rules.guest.test.ts asserts on it.
  rules: ['testing/guest/scenarios/smoke.ts', 'testing/guest/scenarios/apparmor.ts', 'testing/guest/scenarios/rules.ts'],
  bench: ['bench/bpf/scenario.ts'],
  // The node agent's OCI hook path (agent/hook.guest.test.ts asserts on it).
  agent: ['testing/guest/scenarios/agent-hook.ts'],
};
