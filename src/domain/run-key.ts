/**
 * A run's key (SPEC 8): kind, problem or security problem id, occurrence, rule, ladder step, and
 * the entity id — or `*` for an action that needs no target, which runs once per occurrence. The
 * store keeps it unique, so a resent, merged or duplicated notification never creates a second run.
 * Pure.
 */
import { isNotificationKind } from './kinds/index.js'
import type { NotificationKind } from './payload.js'

export interface RunKey {
  readonly kind: NotificationKind
  readonly problemId: string
  /** One open period of the problem, from 1. */
  readonly occurrence: number
  readonly rule: string
  /** The ladder step, from 0 (the step planned when the notification arrives). */
  readonly step: number
  /** The impacted entity, or `*` for an action with needsTarget false. */
  readonly entity: string
}

export const ANY_ENTITY = '*'

/**
 * Pure: the key as one string, `problem:-6386032669938507213_1634684083930V2:1:rollback-bad-deploy:0:SERVICE-1125C375A187D27A`.
 * Each part is URI-encoded, so a `:` inside a part cannot make two keys equal.
 */
export function formatRunKey (key: RunKey): string {
  return [key.kind, key.problemId, String(key.occurrence), key.rule, String(key.step), key.entity].map((p) => (p === ANY_ENTITY ? p : encodeURIComponent(p))).join(':')
}

/** Pure: the inverse of formatRunKey; undefined for a string that is not a run key. */
export function parseRunKey (text: string): RunKey | undefined {
  const parts = text.split(':')
  if (parts.length !== 6) return undefined
  const [kind, problemId, occurrence, rule, step, entity] = parts.map((p) => (p === ANY_ENTITY ? p : decodeURIComponent(p))) as [string, string, string, string, string, string]
  if (!isNotificationKind(kind) || !/^\d+$/.test(occurrence) || !/^\d+$/.test(step)) return undefined
  return { kind, problemId, occurrence: Number(occurrence), rule, step: Number(step), entity }
}
