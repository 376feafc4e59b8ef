// The two admission routes as fastify plugins with one job each: decode, call the handler, count,
// log, answer. A failure inside the webhook fails closed for that request: an AdmissionReview with
// allowed: false, code 500 and the error code, so a Pod is never admitted unsandboxed (nor a policy
// stored unvalidated) because of a webhook bug, as failurePolicy Fail does when the webhook is down.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { deny } from '../admission/review.js';
import {
  EPHEMERAL_UNCONFINED,
  handleMutate,
  handleValidate,
  POD_MALFORMED,
  type MutationState,
  type PolicyValidator,
} from '../admission/handlers.js';
import type { WebhookMetrics } from './metrics.js';
import { ADMISSION_ROUTE_SCHEMA } from './schemas.js';

/** Levels at which info lines are written: the 'pod mutated' line is only built for them. */
const LOGS_INFO = new Set(['trace', 'debug', 'info']);

/**
 * Sends the answer and records its latency. send() serializes and hands the bytes to the socket
 * synchronously, so the time read after it is "request received to response sent", without the
 * promise and hook machinery an onResponse hook costs on every request. Refusals that never reach
 * the handler (unparsable body, too large) are timed by the server's error handler.
 */
export function sendTimed(reply: FastifyReply, timer: { observe(v: number): void }, statusCode: number, body: unknown): FastifyReply {
  reply.code(statusCode).send(body);
  timer.observe(reply.elapsedTime / 1000);
  return reply;
}

function uidOf(body: unknown): string | undefined {
  const req = (body as { request?: { uid?: unknown } } | null)?.request;
  return typeof req?.uid === 'string' && req.uid !== '' ? req.uid : undefined;
}

const INTERNAL = 'VARMOR_ERR_SERVER_INTERNAL';
const REFUSED: Record<string, string> = { mutate: 'pod not admitted', validate: 'policy not stored' };

function failClosed(
  handler: string,
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  metrics: WebhookMetrics,
) {
  metrics.errors.inc({ handler, code: INTERNAL });
  metrics.countRequest(handler, 'error');
  request.log.error({ err, handler }, `admission handler failed; answering not allowed (${REFUSED[handler]})`);
  const uid = uidOf(request.body);
  const timer = metrics.duration.labels(handler);
  if (!uid) return sendTimed(reply, timer, 500, { code: INTERNAL, message: 'internal error' });
  return sendTimed(reply, timer, 200, deny(uid, `varmor: internal error (${INTERNAL}), ${REFUSED[handler]}`, 500, 'InternalError'));
}

export interface MutatePluginOptions {
  state: MutationState;
  metrics: WebhookMetrics;
}

export async function mutatePlugin(app: FastifyInstance, opts: MutatePluginOptions): Promise<void> {
  const { state, metrics } = opts;
  const timer = metrics.duration.labels('mutate');
  app.post('/mutate', { schema: ADMISSION_ROUTE_SCHEMA }, async (request, reply) => {
    try {
      const answer = handleMutate(request.body, state);
      metrics.countRequest('mutate', answer.outcome);
      const req = answer.request;
      if (answer.outcome === 'bad-review' || answer.outcome === 'malformed') {
        const message = 'code' in answer.body ? answer.body.message : answer.body.response.status?.message;
        metrics.errors.inc({
          handler: 'mutate',
          code: 'code' in answer.body ? answer.body.code : POD_MALFORMED,
        });
        request.log.warn(
          { uid: req?.uid, namespace: req?.namespace, reason: message },
          'malformed admission review',
        );
      }
      if (answer.outcome === 'denied' && req && !('code' in answer.body)) {
        metrics.errors.inc({ handler: 'mutate', code: EPHEMERAL_UNCONFINED });
        request.log.warn(
          { uid: req.uid, namespace: req.namespace, pod: req.name, reason: answer.body.response.status?.message },
          'ephemeral container refused',
        );
      }
      const m = answer.mutation;
      if (m && req) {
        const pod =
          req.name || (req.object as { metadata?: { generateName?: string } }).metadata?.generateName || '';
        for (const c of m.conflicts) {
          metrics.conflicts.inc();
          request.log.warn(
            { namespace: req.namespace, pod, container: c.container, policy: c.winner, losers: c.losers },
            'several policies target one container; the first by priority applies',
          );
        }
        for (const d of m.decisions) for (const s of d.skipped) metrics.skipped.inc({ enforcer: s.enforcer });
        if (m.ops.length) {
          metrics.podsPatched.inc();
          metrics.patchOps.inc(m.ops.length);
          if (LOGS_INFO.has(request.log.level))
            request.log.info(
              {
                uid: req.uid,
                namespace: req.namespace,
                pod,
                dryRun: req.dryRun,
                containers: m.decisions.map((d) => ({
                  container: d.container,
                  policy: d.policy,
                  profile: d.profileName,
                  enforcers: d.applied,
                  skipped: d.skipped,
                  ...(d.overrides ? { overrides: d.overrides } : {}),
                })),
              },
              'pod mutated',
            );
        }
      }
      return sendTimed(reply, timer, answer.statusCode, answer.body);
    } catch (err) {
      return failClosed('mutate', err, request, reply, metrics);
    }
  });
}

export interface ValidatePluginOptions {
  validator: PolicyValidator;
  metrics: WebhookMetrics;
}

export async function validatePlugin(app: FastifyInstance, opts: ValidatePluginOptions): Promise<void> {
  const { validator, metrics } = opts;
  const timer = metrics.duration.labels('validate');
  app.post('/validate', { schema: ADMISSION_ROUTE_SCHEMA }, async (request, reply) => {
    try {
      const answer = handleValidate(request.body, validator);
      metrics.countRequest('validate', answer.outcome);
      const req = answer.request;
      if (answer.outcome === 'bad-review')
        metrics.errors.inc({
          handler: 'validate',
          code: 'code' in answer.body ? answer.body.code : 'VARMOR_ERR_REVIEW_BAD',
        });
      if (answer.outcome === 'denied' && req && !('code' in answer.body))
        request.log.info(
          {
            uid: req.uid,
            namespace: req.namespace,
            policy: req.name,
            kind: req.kind.kind,
            reason: answer.body.response.status?.message,
          },
          'policy rejected',
        );
      return sendTimed(reply, timer, answer.statusCode, answer.body);
    } catch (err) {
      // A policy nobody could check must not reach the controller (failurePolicy Fail semantics).
      return failClosed('validate', err, request, reply, metrics);
    }
  });
}
