// The admission webhook's entry: what cli/webhook.ts starts (the HTTPS server, the policy sources
// and their metrics; the controller runs beside it as a companion).
export { startWebhook, type Companion, type StartedWebhook, type WebhookOptions } from './main.js';
export type { AppArmorStyle } from './mutate/mutate.js';
