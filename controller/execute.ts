// Performs a Plan (plan.ts) through the KubeClient, step by step, in order. It decides nothing
// the plan did not, apart from what only the API server's answers can tell: a create that finds
// the object already there converges that one instead, a refused clear of node entries (409:
// an agent has reported since; 403: no permission) leaves them, a missing model status or
// permission is not fatal, an Event is best effort. It returns the objects as it left them.

import { type AnyPolicy, API_VERSION, type ArmorProfile, type ArmorProfileModel, type Logger } from '../profiler/index.js';
import type { Clock } from './clock.js';
import { ControllerError, isConflict, isForbidden, isNotFound } from './errors.js';
import type { KubeClient } from './kube.js';
import {
  armorProfileSteps,
  markRestarted,
  nodeEntriesDiffer,
  statusStep,
  withoutNodeEntries,
  type Plan,
  type Step,
  type StatusEvent,
} from './plan.js';

export const EVENT_COMPONENT = 'varmor-controller';

export interface ExecutorOptions {
  client: KubeClient;
  log: Logger;
  /** The time of Events sent during the steps (the status's Events carry the plan's time). */
  clock: Clock;
}

/** The objects a plan works on: as read before it, then as each write left them. */
export interface Objects {
  policy?: AnyPolicy;
  armorProfile?: ArmorProfile;
  model?: ArmorProfileModel;
}

export async function execute(plan: Plan, start: Objects, o: ExecutorOptions): Promise<Objects> {
  const cur: Objects = { ...start };
  for (const step of plan.steps) await run(step, cur, o);
  return cur;
}

async function run(step: Step, cur: Objects, o: ExecutorOptions): Promise<void> {
  const c = o.client;
  switch (step.op) {
    case 'replacePolicy':
      cur.policy = await c.replace<AnyPolicy>(step.object.kind, step.object);
      return;
    case 'replaceArmorProfile':
      cur.armorProfile = await c.replace<ArmorProfile>('ArmorProfile', step.object);
      return;
    case 'createArmorProfile':
      try {
        cur.armorProfile = await c.create<ArmorProfile>('ArmorProfile', step.object);
      } catch (err) {
        // Created by an earlier run whose reply we never saw (or by a racing replica): converge it instead.
        if (!isConflict(err)) throw err;
        const m = step.object.metadata;
        const again = await c.get<ArmorProfile>('ArmorProfile', m.namespace, m.name ?? '');
        if (!again) throw err;
        cur.armorProfile = again;
        for (const s of armorProfileSteps(again, step.object).steps) await run(s, cur, o);
      }
      return;
    case 'updateArmorProfile': {
      const written = await c.replace<ArmorProfile>('ArmorProfile', step.object);
      cur.armorProfile = written;
      if (!step.clearNodeEntries) return;
      try {
        // Guarded by the resourceVersion of our own write: if an agent has reported since, its
        // entry is about the new profile and must stay, so a 409 means "leave it".
        cur.armorProfile = await c.replaceStatus<ArmorProfile>('ArmorProfile', withoutNodeEntries(written));
      } catch (err) {
        if (isForbidden(err)) {
          o.log.warn('cannot clear stale node entries: no update permission on armorprofiles/status', {
            profile: written.metadata.name,
          });
        } else if (!isConflict(err)) {
          throw err;
        }
      }
      return;
    }
    case 'markRestarted':
      if (!cur.armorProfile)
        throw new ControllerError('VARMOR_ERR_PLAN_INVALID', 'markRestarted without an ArmorProfile');
      cur.armorProfile = await c.replace<ArmorProfile>(
        'ArmorProfile',
        markRestarted(cur.armorProfile, step.generation),
      );
      return;
    case 'createModel':
      try {
        cur.model = await c.create<ArmorProfileModel>('ArmorProfileModel', step.object);
      } catch (err) {
        if (!isConflict(err)) throw err;
        const m = step.object.metadata;
        const again = await c.get<ArmorProfileModel>('ArmorProfileModel', m.namespace, m.name ?? '');
        if (!again) throw err;
        cur.model = again;
      }
      return;
    case 'buildModel': {
      const built = await c.replace<ArmorProfileModel>('ArmorProfileModel', step.object);
      cur.model = built;
      try {
        // The CRD has a status subresource: the main-resource write above ignored `status`.
        cur.model = await c.replaceStatus<ArmorProfileModel>('ArmorProfileModel', {
          ...built,
          status: step.status,
        });
      } catch (err) {
        // The build is recorded by annotation; the status is for people, so a missing permission is not fatal.
        if (isForbidden(err))
          o.log.warn('cannot write the model status: no update permission on armorprofilemodels/status', {
            model: built.metadata.name,
          });
        else if (!isNotFound(err)) throw err;
      }
      return;
    }
    case 'delete':
      await c.delete(step.kind, step.namespace, step.name);
      return;
    case 'restartWorkload':
      if ((await c.restartWorkload(step.kind, step.namespace, step.name, step.stamp)) && step.announce)
        o.log.info('restarted workload', step.announce);
      return;
    case 'event':
      await sendEvent(step, o.clock.now(), cur, o);
      return;
    case 'log':
      o.log.info(step.msg, step.fields);
      return;
    case 'status': {
      let s = step;
      const out = s.basis.outcome;
      if (out.kind === 'applied' && cur.armorProfile && nodeEntriesDiffer(cur.armorProfile, out.ap))
        s = statusStep({ ...s.basis, outcome: { ...out, ap: cur.armorProfile } });
      if (!s.changed) return;
      const policy = requirePolicy(cur);
      cur.policy = await c.replaceStatus<AnyPolicy>(policy.kind, { ...policy, status: s.status });
      for (const e of s.events) await sendEvent(e, s.basis.now, cur, o);
      return;
    }
    case 'writeStatus': {
      const policy = requirePolicy(cur);
      cur.policy = await c.replaceStatus<AnyPolicy>(policy.kind, { ...policy, status: step.status });
      for (const e of step.events) await sendEvent(e, o.clock.now(), cur, o);
      return;
    }
    case 'fail':
      throw new ControllerError(step.code, step.message);
  }
}

function requirePolicy(cur: Objects): AnyPolicy {
  if (!cur.policy) throw new ControllerError('VARMOR_ERR_PLAN_INVALID', 'a policy step without the policy');
  return cur.policy;
}

async function sendEvent(e: StatusEvent, now: Date, cur: Objects, o: ExecutorOptions): Promise<void> {
  const policy = requirePolicy(cur);
  try {
    await o.client.createEvent(
      {
        apiVersion: API_VERSION,
        kind: policy.kind,
        name: policy.metadata.name ?? '',
        ...(policy.kind === 'VarmorPolicy' ? { namespace: policy.metadata.namespace } : {}),
        uid: policy.metadata.uid,
      },
      e.type,
      e.reason,
      e.message,
      now,
      EVENT_COMPONENT,
    );
  } catch (err) {
    // Events are best effort: losing one must not fail (and so repeat) the reconcile.
    o.log.warn('could not record an event', {
      policy: policy.metadata.name,
      reason: e.reason,
      error: (err as Error).message,
    });
  }
}
