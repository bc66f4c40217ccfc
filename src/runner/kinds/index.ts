/**
 * The notification kinds' runner halves, by name (the domain halves are src/domain/kinds/). The
 * runner asks `runnerKind(n.kind)` where it would otherwise compare kind names. Adding a kind:
 * its module here, and one line in RUNNER_KINDS_BY_NAME.
 */
import type { NotificationKind } from '../../domain/payload.js'
import { problemRunnerKind } from './problem.js'
import { securityRunnerKind } from './security.js'
import type { RunnerKind } from './types.js'

export type { BodyFacts, EnrichmentSource, ProblemRead, RunnerKind, StatusRead } from './types.js'
export { statusReadMark } from './problem.js'

const RUNNER_KINDS_BY_NAME: Readonly<Record<NotificationKind, RunnerKind>> = {
  problem: problemRunnerKind,
  security: securityRunnerKind,
}

/** Every kind, in the order reconciliation lists them. */
export const RUNNER_KINDS: readonly RunnerKind[] = Object.values(RUNNER_KINDS_BY_NAME)

export const runnerKind = (kind: NotificationKind): RunnerKind => RUNNER_KINDS_BY_NAME[kind]
