/**
 * defineKind: a kind's typed definition as the registry holds it. The registry is keyed by kind,
 * so a caller holding a `NotificationKind` cannot name the payload type of the kind it holds;
 * the module's functions therefore take the payload as `unknown`, and this is the one place that
 * narrows it back, on the promise (types.ts) that it is this kind's schema's output.
 */
import type { z } from 'zod'
import { parseWith } from '../payload.js'
import type { KindDefinition, NotificationKindModule } from './types.js'

export function defineKind<S extends z.ZodType> (def: KindDefinition<S>): NotificationKindModule {
  type P = z.output<S>
  return {
    kind: def.kind,
    label: def.label,
    writeBack: def.writeBack,
    stateWhenUnstated: def.stateWhenUnstated,
    uiPath: def.uiPath,
    bodyMark: def.bodyMark,
    plansNothing: def.plansNothing,
    schema: def.schema,
    parse: (body) => parseWith(def.schema, body),
    identity: (payload) => def.identity(payload as P),
    isTest: (payload) => def.isTest(payload as P),
    facts: (payload) => def.facts(payload as P),
  }
}
