/**
 * The package surface, `import { defineAction } from 'dt-remediator'`: what a platform team needs
 * to write a custom action. `dt-remediator/testing` has the test kit; `dt-remediator/sim` the
 * simulators and a harness built on them.
 */
export { z } from 'zod'
export { TerminalError } from './errors.js'
export { defineAction, skip } from './sdk/index.js'
export type { ActionContext, ActionDefinition, ActionSettings, CustomActionKit, PlanContext, PlanSkip } from './sdk/index.js'
export type { Outcome } from './domain/outcome.js'
export type { DeploymentEvent, EntityRef, ProblemInfo } from './domain/problem.js'
export type { Target, TargetKind } from './domain/target.js'
export type { DynatraceReader } from './dynatrace/reader.js'
export type { KubernetesReader, ObjectRef } from './kubernetes/reader.js'
