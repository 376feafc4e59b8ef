// The scenario sets the guest can run, by name. One initramfs holds them all (one cache
// entry); the kernel command line picks the suite. To add a case, add it to a scenario module
// listed here (or add a module), and assert on its result in the suite's *.guest.test.ts.

export const SUITES: Record<string, string[]> = {
  smoke: ['native/guest/scenarios/smoke.ts'],
  enforcement: [
    'native/guest/scenarios/smoke.ts',
    'native/guest/scenarios/hooks.ts',
    'native/guest/scenarios/container.ts',
    'native/guest/scenarios/detach.ts',
  ],
  bench: ['bench/bpf/scenario.ts'],
  // The node agent's OCI hook path (agent/hook.guest.test.ts asserts on it).
  agent: ['agent/guest/hook-scenario.ts'],
};
