// The agent's errors: each a named class with a stable `code`, so callers and logs can branch
// on the code and the object concerned rather than on message text.

export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bad command-line or configuration input; `field` names the flag or field. */
export class ConfigError extends AgentError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('VARMOR_ERR_AGENT_CONFIG', `${field}: ${message}`);
  }
}

/** The container runtime (CRI, cgroups, /proc) did not answer as expected. */
export class RuntimeError extends AgentError {}

/** A profile could not be decoded or loaded; `profile` and `enforcer` say which. */
export class LoadError extends AgentError {
  constructor(
    code: string,
    readonly profile: string,
    readonly enforcer: string,
    message: string,
  ) {
    super(code, message);
  }
}

/** A profile's BPF tables hold more entries than one policy may in a kernel table kind (nothing loaded). */
export class BpfQuotaError extends AgentError {
  constructor(
    readonly profile: string,
    readonly excess: readonly { table: string; entries: number; max: number }[],
  ) {
    super('VARMOR_ERR_AGENT_BPF_QUOTA', `BPF tables of ${profile} over the per-policy quota: ${excess.map((x) => `${x.table} ${x.entries} > ${x.max}`).join(', ')}`);
  }
}

/** Another namespace's profile, or a reference the webhook did not sign: the container is not bound. */
export class BindingRefusedError extends AgentError {
  constructor(
    readonly container: string,
    readonly profile: string,
    message: string,
  ) {
    super('VARMOR_ERR_AGENT_BINDING_REFUSED', message);
  }
}

/** An enforcer the kernel cannot provide here (no AppArmor, no BPF LSM): reported, not failed. */
export class EnforcerUnavailableError extends AgentError {
  constructor(
    readonly enforcer: string,
    message: string,
  ) {
    super('VARMOR_ERR_ENFORCER_UNAVAILABLE', message);
  }
}

/** The message of whatever was thrown (loaders and the addon throw Errors; anything else is printed). */
export function errMsg(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
