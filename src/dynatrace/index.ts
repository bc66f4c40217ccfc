/**
 * The Dynatrace API client: `createDynatraceClient` and the types the service works with.
 */
export { createDynatraceClient, entityIdSelector, eventTypeSelector } from './client.js'
export type { CommentPostOutcome, DynatraceClient, DynatraceClientOptions, EntityQuery, EventQuery, Listing, ProblemListQuery, SecurityProblemListQuery } from './client.js'
export { DynatraceApiError, isDynatraceApiError } from './errors.js'
export type { DynatraceConstraintViolation, DynatraceErrorBody } from './errors.js'
export { defaultRetryOptions } from './retry.js'
export type { RetryOptions } from './retry.js'
export type { Comment, CommentRequest, Entity, EntityStub, EntityTag, Event, EventIngest, EventIngestResults, Problem, ProblemCloseResult, SecurityProblem, SecurityProblemDetails } from './schemas.js'
export { criterion, quoteSelectorValue } from './selectors.js'
export { parseEnvironmentUrl } from './url.js'
export type { EnvironmentUrl } from './url.js'
