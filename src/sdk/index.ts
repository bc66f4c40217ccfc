/** The action SDK: the contract, its one validation, the registry and the one execute path. */
export { isPlanSkip, skip } from './contract.js'
export type { ActionContext, ActionDefinition, ActionSettings, AnyAction, PlanContext, PlanSkip } from './contract.js'
export { assertAction, contractProblems, defineAction } from './define.js'
export { createActionRegistry } from './registry.js'
export type { ActionRegistry, RegisteredAction } from './registry.js'
export { describeIssues, executeAction, parseParams, planAction } from './execute.js'
export type { ExecuteInputs, PlanInputs, PlanResult } from './execute.js'
