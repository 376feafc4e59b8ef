// Parses what varmor-hook sends: "<stage>\n<OCI state JSON>". Pure, so malformed input from a
// misconfigured runtime gets a clear error naming the field instead of a crash in the server.

import { AgentError } from '../errors.js';

export type HookStage = 'createRuntime' | 'poststop';

export interface OciState {
  id: string;
  pid: number;
  bundle: string;
  status: string;
  annotations: Record<string, string>;
}

export interface HookRequest {
  stage: HookStage;
  state: OciState;
  /** The container's unified cgroup path as the hook saw it from the host's cgroup namespace. */
  cgroupPath?: string;
}

export class HookRequestError extends AgentError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('VARMOR_ERR_HOOK_REQUEST', `hook request ${field}: ${message}`);
  }
}

export function parseHookRequest(raw: string): HookRequest {
  const nl = raw.indexOf('\n');
  if (nl < 0) throw new HookRequestError('stage', 'missing newline after the stage');
  const [stage, cgroupPath, ...extra] = raw.slice(0, nl).trim().split(' ');
  if (extra.length || (cgroupPath !== undefined && !/^\/[^\0]*$/.test(cgroupPath))) {
    throw new HookRequestError('stage', `malformed first line ${JSON.stringify(raw.slice(0, Math.min(nl, 200)))}`);
  }
  if (stage !== 'createRuntime' && stage !== 'poststop') {
    throw new HookRequestError('stage', `unknown stage ${JSON.stringify(stage)}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(raw.slice(nl + 1));
  } catch (e) {
    throw new HookRequestError('state', `not JSON: ${(e as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new HookRequestError('state', 'not an object');
  const s = doc as Record<string, unknown>;
  if (typeof s['id'] !== 'string' || !s['id']) throw new HookRequestError('state.id', 'missing');
  const pid = s['pid'] ?? 0;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0) throw new HookRequestError('state.pid', 'not a pid');
  if (stage === 'createRuntime' && pid === 0) throw new HookRequestError('state.pid', 'createRuntime without a pid');
  const annotations = (s['annotations'] ?? {}) as Record<string, unknown>;
  if (typeof annotations !== 'object' || Array.isArray(annotations)) {
    throw new HookRequestError('state.annotations', 'not a map');
  }
  const ann: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations)) if (typeof v === 'string') ann[k] = v;
  return {
    stage,
    ...(cgroupPath ? { cgroupPath } : {}),
    state: {
      id: s['id'],
      pid,
      bundle: typeof s['bundle'] === 'string' ? s['bundle'] : '',
      status: typeof s['status'] === 'string' ? s['status'] : '',
      annotations: ann,
    },
  };
}
