// The shape of a guest scenario module: a suite name and a list of cases. Each case runs inside
// the guest and returns its observations; the host-side jest test makes the assertions, so a
// failure shows what the kernel actually did.

export interface GuestCase {
  name: string;
  /** Per-case limit inside the guest (default 60 s of guest time). */
  timeoutMs?: number;
  run(): Promise<unknown>;
}

export interface GuestSuiteModule {
  /** Runs once before the module's cases (attach the enforcer, create cgroups, ...). */
  setup?(): Promise<void>;
  /** How long setup may take (default 120 s). */
  setupTimeoutMs?: number;
  cases: GuestCase[];
  /** Runs once after the module's cases, even when a case failed. */
  teardown?(): Promise<void>;
}
