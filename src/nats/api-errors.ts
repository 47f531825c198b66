/** The JetStream API error codes the orchestrator tells apart (the `err_code` of an API error). */
export const JsApiError = {
  ConsumerNotFound: 10014,
  StreamNotFound: 10059,
} as const;

/** The JetStream API error code of an error nats.js threw, if it carries one. */
export function jsApiErrorCode(error: unknown): number | undefined {
  return (error as { api_error?: { err_code?: number } } | undefined)?.api_error?.err_code;
}
