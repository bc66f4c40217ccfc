/**
 * The simulated tenant: model.ts (the vocabulary and the inputs that seed it), relationships.ts
 * (the relationship names and directions the simulator knows), tenant.ts (the state and every
 * change to it), world.ts (a Kubernetes workload seeded in one call), selectors.ts (the entity
 * selector) and render.ts (the API v2 shapes).
 */
export * from './model.js'
export { RELATIONSHIPS, relationshipProblem } from './relationships.js'
export type { Ends } from './relationships.js'
export { parseEntitySelector, selectEntities, SUPPORTED_CRITERIA } from './selectors.js'
export type { Criterion, EntityGraph } from './selectors.js'
export { REOPEN_WINDOW_MS, Tenant } from './tenant.js'
export type { ReopenOutcome } from './tenant.js'
export { addWorkload, DEFAULT_CLUSTER, DEPLOYMENT_TYPES } from './world.js'
export type { Workload, WorkloadInput, WorkloadKind } from './world.js'
export { entityProjection, fieldSet, problemTags, renderComment, renderEntity, renderEvent, renderProblem, renderSecurityProblem, renderStub } from './render.js'
export type { EntityProjection } from './render.js'
