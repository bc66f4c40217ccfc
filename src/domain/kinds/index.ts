/**
 * The notification kinds, by name. A kind is one module (./problem.ts, ./security.ts) behind one
 * interface (./types.ts); everything that asks "which kind?" asks this registry instead of
 * comparing names. Adding a kind: its module here (and its runner half in src/runner/kinds/),
 * and one line in KINDS.
 */
import { normalizeState } from '../enrichment.js'
import type { NotificationKind } from '../payload.js'
import { problemKind } from './problem.js'
import { securityKind } from './security.js'
import type { NotificationKindModule } from './types.js'

export type { KindDefinition, NotificationFacts, NotificationIdentity, NotificationKindModule, WriteBackChannel } from './types.js'

export const KINDS: Readonly<Record<NotificationKind, NotificationKindModule>> = {
  problem: problemKind,
  security: securityKind,
}

/** Every kind, in the order the webhooks are registered and reconciliation lists them. */
export const ALL_KINDS: readonly NotificationKindModule[] = Object.values(KINDS)

export const kindOf = (kind: NotificationKind): NotificationKindModule => KINDS[kind]

/** Pure: the kind a body (a file, not a webhook's route) is of: the one whose mark it carries, else the default one. */
export function kindOfBody (body: object): NotificationKindModule {
  return ALL_KINDS.find((k) => k.bodyMark !== undefined && k.bodyMark in body) ?? ALL_KINDS.find((k) => k.bodyMark === undefined) ?? KINDS.problem
}

/** Pure: whether `name` is a kind's name (a run key read back from text, a URL segment). */
export const isNotificationKind = (name: string): name is NotificationKind => Object.hasOwn(KINDS, name)

/** Pure: how a person names a notification: `problem P-12`, `security problem S-3`. */
export const kindLabel = (kind: NotificationKind): string => KINDS[kind].label

/** Pure: the label at the start of a sentence or a heading (`Security problem`). */
export const kindTitle = (kind: NotificationKind): string => `${KINDS[kind].label.charAt(0).toUpperCase()}${KINDS[kind].label.slice(1)}`

/** Pure: whether a valid payload (its kind's schema output) is Dynatrace's test call. */
export const isTestNotification = (kind: NotificationKind, payload: unknown): boolean => KINDS[kind].isTest(payload)

/**
 * Pure: a stored notification's state, read as OPEN or RESOLVED where it can be. A notification
 * without State stands for what its kind says (a security notification: an OPEN, unless
 * reconciliation found the security problem resolved and said RESOLVED).
 */
export function notificationState (n: { readonly kind: NotificationKind, readonly state: string | null }): string | undefined {
  return n.state !== null ? normalizeState(n.state) : KINDS[n.kind].stateWhenUnstated
}
