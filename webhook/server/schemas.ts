// Response schemas of the admission routes. fastify compiles them into serializers
// (fast-json-stringify), quicker than JSON.stringify on the hot path, and they pin the wire shape:
// a field not listed here is never sent.

const errorBody = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
  required: ['code', 'message'],
} as const;

const admissionReview = {
  type: 'object',
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        patchType: { type: 'string' },
        // base64 needs no JSON escaping: skip fast-json-stringify's per-character escape loop.
        patch: { type: 'string', format: 'unsafe' },
        status: {
          type: 'object',
          properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
        },
        warnings: { type: 'array', items: { type: 'string' } },
      },
      required: ['uid', 'allowed'],
    },
  },
  required: ['apiVersion', 'kind', 'response'],
} as const;

export const ADMISSION_ROUTE_SCHEMA = {
  response: { 200: admissionReview, '4xx': errorBody, '5xx': errorBody },
};
