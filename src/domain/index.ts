/**
 * Lethe's domain: pure TypeScript, no I/O, importable from workflow code.
 *
 * Five words name a state; each belongs to one level and one audience:
 * - `RequestStep` (request.ts): where the request's workflow is, internally: accessing,
 *   awaiting_selection, deleting, closed. Everything else about a request is derived from it.
 * - `RequestState` (request.ts): the API's `state`, the seed's "Request State Summary" words
 *   ("Accessing data" … "Data deleted"), derived from the type and the step.
 * - `RequestStatus` (request.ts): the API's `status`, `pending` until the request closes, then `done`.
 * - `PhaseStatus` (integration-state.ts): what one integration is doing in one phase, as the
 *   workflows record it (submitted, awaiting_owner, error, complete with an outcome…). Stored, never shown as is.
 * - `IntegrationState` (integration-state.ts): the API's word for a phase ("Not Started",
 *   "Pending", "Processing", "Error", "Complete"), derived from a `PhaseStatus` with its detail.
 *
 * The request's life (which message may do what, and what it changes) is `RequestLifecycle`
 * (request-lifecycle.ts); an API integration's calls are `ApiCalls` (api-calls.ts).
 */
export * from './decisions';
export * from './duration';
export * from './errors';
export * from './integration-config';
export * from './integration-state';
export * from './owner-answer';
export * from './privacy-request';
export * from './request';
export * from './request-lifecycle';
export * from './api-calls';
export * from './request-view';
export * from './retry';
export * from './proof-record';
