/**
 * The problem vocabulary actions and rules speak: the problem or security problem a run is for,
 * the impacted entity, and the deployment event a rule matched. Pure types.
 */
import type { NotificationKind } from './payload.js'

export interface EntityRef {
  readonly id: string
  readonly type: string
  readonly name: string
}

/** What an action knows about the notification that triggered it. */
export interface ProblemInfo {
  readonly kind: NotificationKind
  /** PID for problems (the v2 problemId), SecurityProblemId for security problems. */
  readonly id: string
  /** ProblemID (P-…) or the security display id (S-…), when known. */
  readonly displayId: string | undefined
  readonly title: string | undefined
  readonly severity: string | undefined
  readonly impact: string | undefined
  readonly url: string | undefined
  readonly tags: readonly string[]
  /** When the problem started (ms epoch), when known from enrichment. */
  readonly startTime: number | undefined
}

/** The CUSTOM_DEPLOYMENT event the rule matched (`deployedWithin`), if any. */
export interface DeploymentEvent {
  readonly eventId: string
  readonly startTime: number
  readonly title: string
  readonly properties: Readonly<Record<string, string>>
}
