/**
 * What a notification kind is (problem, security problem): one module behind this interface, the
 * way job-queue's storages are, registered in ./index.ts by its name. Everything that differs
 * between kinds on the ground floor is here: the payload schema the webhook validates with, who
 * the notification is about (its identity for the store), whether it is Dynatrace's test call,
 * the facts its body gives, how a person names it, and which channel its results are written
 * back on. The runner's half (status read, API read, reconciliation listing) is
 * src/runner/kinds/, over this.
 *
 * Pure: no Fastify, no I/O.
 */
import type { z } from 'zod'
import type { ImpactedEntity, ProblemFacts } from '../enrichment.js'
import type { NotificationKind, ParseResult } from '../payload.js'

/** Who a notification is about, as the store keys it. */
export interface NotificationIdentity {
  /** PID, or the SecurityProblemId as notified. */
  readonly problemId: string
  readonly displayId: string | undefined
  /** The notification's State as sent (undefined when its kind carries none). */
  readonly state: string | undefined
}

/** The facts a notification's body gives on its own, before any API read. */
export interface NotificationFacts {
  readonly problem: ProblemFacts
  readonly entities: ImpactedEntity[]
  /**
   * The body's own copy of the API's problem (ProblemDetailsJSONv2), still in the API's shape:
   * the runner reads it with the API's schema (src/dynatrace/schemas.ts, a floor above this one).
   */
  readonly apiDetails: Readonly<Record<string, unknown>> | undefined
}

/**
 * Where results, verdicts and approval requests go: a comment on the problem, or — security
 * problems have no comments — a CUSTOM_INFO event on the affected entities.
 */
export type WriteBackChannel = 'comment' | 'event'

/** A kind as its module defines it, typed by its schema's output. */
export interface KindDefinition<S extends z.ZodType> {
  readonly kind: NotificationKind
  /** How a person names one: `problem`, `security problem`. */
  readonly label: string
  readonly writeBack: WriteBackChannel
  /** The State a stored notification without one stands for (a security notification carries none: an OPEN). */
  readonly stateWhenUnstated: string | undefined
  /** Where Dynatrace's web UI shows one, after the environment URL (the id URI-encoded). */
  uiPath(problemId: string): string
  /** The field only this kind's bodies carry, telling a body file's kind (`simulate`); undefined for the default kind. */
  readonly bodyMark: string | undefined
  /** Validates the body at the route and when the runner reads a stored one. */
  readonly schema: S
  /**
   * Why a notification of this kind plans nothing whatever the rules say (resolved, closed,
   * muted in Dynatrace), from its facts; undefined when it may plan.
   */
  plansNothing(problem: ProblemFacts): string | undefined
  identity(payload: z.output<S>): NotificationIdentity
  /** Dynatrace's "Send test notification" call (SPEC 4). */
  isTest(payload: z.output<S>): boolean
  facts(payload: z.output<S>): NotificationFacts
}

/**
 * A kind as the registry holds it. `payload` is always the output of this kind's own `schema`
 * (the route's validation, or `parse`): the one place that promise is taken is defineKind.
 */
export interface NotificationKindModule {
  readonly kind: NotificationKind
  readonly label: string
  readonly writeBack: WriteBackChannel
  readonly stateWhenUnstated: string | undefined
  uiPath(problemId: string): string
  readonly bodyMark: string | undefined
  plansNothing(problem: ProblemFacts): string | undefined
  readonly schema: z.ZodType
  /** The body validated by `schema`, with describeIssues' messages when it is refused. */
  parse(body: unknown): ParseResult<unknown>
  identity(payload: unknown): NotificationIdentity
  isTest(payload: unknown): boolean
  facts(payload: unknown): NotificationFacts
}
