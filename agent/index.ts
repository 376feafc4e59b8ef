// The node agent's entry: what cli/agent.ts starts. The agent binds each container to its profiles
// before its first instruction (README.md; CONTRACTS.md "Containers and the race-free bind").
export { Agent, kubeClient, type AgentOptions } from './agent.js';
export { AgentError } from './errors.js';
export type { BpfModeOption } from './loaders/bpf.js';
export { ourLoadedProfiles, uninstallNode, type NodeUninstallOptions, type NodeUninstallReport } from './uninstall.js';
