// BehaviorModeling sessions on this node: a behaviour recorder per modelled profile while its
// ArmorProfile asks for modelling. When the run ends (modelling turned off, or the profile goes)
// the record is handed to the ModelSink (the per-node ArmorProfileModel, upload.ts) and the
// record-only BPF tables of an AppArmor/Seccomp profile are unbound and withdrawn.

import type { BehaviorData, Logger } from '../../profiler/node.js';
import type { NodeProfile } from '../profiles/decode.js';
import type { ProfileState, ProfileStore } from '../profiles/store.js';
import type { BpfPlacement } from '../profiles/placement.js';
import type { BoundCounter } from '../binding/registry.js';
import type { ContainerBinder } from '../binding/binder.js';
import { BehaviorRecorder } from './record.js';
import type { SyscallRecording } from './syscalls.js';
import { errMsg } from '../errors.js';

export interface ModelSink {
  /**
   * `syscalls`: the Seccomp record (names), when the profile models Seccomp and this node recorded;
   * `appArmor`: what the complain-mode AppArmor profile logged, when this node has AppArmor and it logged anything.
   */
  upload(profile: NodeProfile, data: { bpf: BehaviorData; dropped: number; syscalls?: string[]; appArmor?: BehaviorData }): Promise<void>;
}

/**
 * What a profile update does to its modelling run: start one when modelling is asked and none is
 * going; end the one going when it no longer is (on an update of a profile seen before). Pure.
 */
export function modelingStep(want: boolean, recording: boolean, seenBefore: boolean): 'start' | 'finish' | 'none' {
  if (want && !recording) return 'start';
  if (!want && recording && seenBefore) return 'finish';
  return 'none';
}

export interface ModelingSessionsDeps {
  log: Logger;
  models?: ModelSink;
  profiles: ProfileStore;
  containers: BoundCounter;
  binder: Pick<ContainerBinder, 'unbindPolicy'>;
  placement: Pick<BpfPlacement, 'removeBpfPolicy'>;
  /** Drains the ring buffer (the event pump) before the record is read. */
  drainEvents: () => void;
  /** The syscall recorder, for profiles that model Seccomp. */
  syscalls?: SyscallRecording;
}

const modelsSeccomp = (p: NodeProfile): boolean => p.enforcers.includes('Seccomp');
const modelsAppArmor = (p: NodeProfile): boolean => p.enforcers.includes('AppArmor');

export class ModelingSessions {
  constructor(private readonly d: ModelingSessionsDeps) {}

  /** The profile was applied (replacing `previous`): start or end its run as it asks. */
  sync(st: ProfileState, previous: NodeProfile | undefined): void {
    const p = st.profile!;
    const step = modelingStep(!!p.behaviorModeling?.enable, !!st.recorder, !!previous);
    if (step === 'start') {
      st.recorder = new BehaviorRecorder();
      if (modelsAppArmor(p)) st.appArmorRecorder = new BehaviorRecorder();
      if (modelsSeccomp(p)) this.d.syscalls?.start(p.bpfPolicyId);
      this.d.log.info('behaviour modelling started', { profile: p.profileName, syscalls: modelsSeccomp(p) && !!this.d.syscalls?.available });
    } else if (step === 'finish') {
      void this.finish(st, p);
    }
  }

  /** Ends the profile's run, if one is going: hands the record over, withdraws record-only tables. */
  async finish(st: ProfileState, p: NodeProfile): Promise<void> {
    const rec = st.recorder;
    if (!rec) return;
    this.d.drainEvents();
    const aa = st.appArmorRecorder;
    st.recorder = undefined;
    st.appArmorRecorder = undefined;
    const data = rec.data();
    // nothing logged (no AppArmor on this node): the controller falls back to the BPF record
    const appArmor = aa && aa.entries > 0 ? aa.data() : undefined;
    const sys = this.d.syscalls?.finish(p.bpfPolicyId);
    this.d.log.info('behaviour modelling ended', {
      profile: p.profileName,
      files: data.files?.length,
      executions: data.executions?.length,
      syscalls: sys?.names.length,
      appArmorEntries: aa?.entries,
      // numbers libseccomp has no name for on this architecture: left out of the model
      unnamedSyscalls: sys?.unknown.length ? sys.unknown : undefined,
      dropped: rec.dropped + (aa?.dropped ?? 0),
    });
    try {
      await this.d.models?.upload(p, { bpf: data, dropped: rec.dropped, ...(sys ? { syscalls: sys.names } : {}), ...(appArmor ? { appArmor } : {}) });
    } catch (e) {
      this.d.log.error('behaviour model upload failed', { profile: p.profileName, error: errMsg(e) });
    }
    // Record-only tables of an AppArmor/Seccomp profile: the run is over, unbind and withdraw.
    if (!p.bpfTables) this.d.binder.unbindPolicy(p.bpfPolicyId);
    if (this.d.containers.boundCount(p.bpfPolicyId) === 0 && st.bpfLoadedVersion !== undefined && this.d.profiles.get(p.profileName) === st) {
      this.d.placement.removeBpfPolicy(p.bpfPolicyId);
    }
  }
}
