/**
 * The rules file (SPEC 5) as one zod schema: the source of validation, of the TypeScript type
 * (`RulesFile`) and of the reference in docs/rules.md (test/docs/rules-reference.test.ts renders
 * it from this schema and fails when the page drifts). Every object is strict, so an unknown key
 * is an error (parse.ts suggests the nearest valid one); every field carries a description for
 * the reference.
 *
 * What zod cannot see — placeholders, `${env:…}`, each action's own parameters, allowed hosts,
 * the dispatcher's entity types — parse.ts checks after this schema, with the same positions.
 */
import { z } from 'zod'
import { MODES } from '../mode.js'
import { TARGET_KINDS } from '../target.js'
import { DURATION_HINT, DURATION_PATTERN, parseDuration } from './duration.js'

const described = <S extends z.ZodType>(schema: S, description: string): S => schema.meta({ description })

/** A duration, parsed to milliseconds. */
const durationSchema = z.string({ error: `expected a duration: ${DURATION_HINT}` })
  .regex(DURATION_PATTERN, { error: (issue) => `${JSON.stringify(issue.input)} is not a duration: use ${DURATION_HINT}` })
  .transform((text) => parseDuration(text) as number)
  .meta({ format: 'duration' })

const nonEmpty = (what: string) => z.string({ error: `expected ${what}` }).trim().min(1, { error: `${what} must not be empty` })

const PROBLEM_SEVERITIES = ['AVAILABILITY', 'ERROR', 'PERFORMANCE', 'RESOURCE_CONTENTION', 'CUSTOM_ALERT', 'INFO', 'MONITORING_UNAVAILABLE'] as const
/** ProblemImpact as the notification writes it (SERVICE) and the v2 API (SERVICES); both match both. */
const PROBLEM_IMPACTS = ['APPLICATION', 'SERVICE', 'SERVICES', 'INFRASTRUCTURE', 'ENVIRONMENT'] as const
const SECURITY_SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'NONE'] as const

const entityType = z.string({ error: 'expected a Dynatrace entity type such as SERVICE' })
  .regex(/^[A-Z][A-Z0-9_]*$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a Dynatrace entity type (upper case, e.g. SERVICE, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION)` })

const upperEnum = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.string({ error: `expected one of ${values.join(', ')}` }).transform((s) => s.toUpperCase()).pipe(z.enum(values, { error: (issue) => `${JSON.stringify(issue.input)} is not one of ${values.join(', ')}` }))

const tagCondition = z.string({ error: 'expected a tag: key, key:value or [context]key:value' }).trim().min(1, { error: 'a tag must not be empty' })

const list = <S extends z.ZodType>(item: S, description: string) => described(z.array(item, { error: 'expected a list' }).min(1, { error: 'an empty list would match nothing: leave the key out instead' }).optional(), description)

const skipOrInclude = (description: string) => described(z.enum(['skip', 'include'], { error: 'expected skip or include' }).default('skip'), description)

export const problemWhenSchema = z.strictObject({
  entityTypes: list(entityType, 'Impacted entity types this rule handles (SERVICE, PROCESS_GROUP_INSTANCE, CLOUD_APPLICATION…). Every action of the rule must handle each of them.'),
  severities: list(upperEnum(PROBLEM_SEVERITIES), `ProblemSeverity: ${PROBLEM_SEVERITIES.join(', ')}.`),
  impacts: list(upperEnum(PROBLEM_IMPACTS), 'ProblemImpact: APPLICATION, SERVICE, INFRASTRUCTURE, ENVIRONMENT.'),
  tags: list(tagCondition, 'Tags (`key`, `key:value`, `[context]key:value`); each must be on the problem or on the impacted entity.'),
  managementZones: list(nonEmpty('a management zone name'), 'Management zone names; one of them must be the problem\'s or the entity\'s.'),
  title: described(z.string({ error: 'expected a regular expression' }).min(1).optional(), 'Regular expression matched against the problem title, case-insensitively. Compiled when the file loads.'),
  rootCause: described(z.boolean({ error: 'expected true or false' }).optional(), '`true`: the problem\'s root-cause entity (rootCauseEntity of the Problems API v2, root_cause_entity_id of a Gen 3 body) is the one candidate, also when it is not impacted; a problem without an identified root cause matches nothing.'),
  deployedWithin: described(durationSchema.optional(), 'A CUSTOM_DEPLOYMENT event on the entity (or its process group instances) at most this long before the problem started.'),
  duplicates: skipOrInclude('`skip`: problems Dynatrace flags as duplicates of another do not match. `include`: they do.'),
  maintenance: skipOrInclude('`skip`: entities under maintenance do not match. `include`: they do.'),
}, { error: 'expected a map of conditions' })

export const securityWhenSchema = z.strictObject({
  severities: list(upperEnum(SECURITY_SEVERITIES), `Severity (case-insensitive): ${SECURITY_SEVERITIES.join(', ')}.`),
  exposed: described(z.boolean({ error: 'expected true or false' }).optional(), 'Whether the affected entities are exposed to a public network (`Exposed`).'),
  exploitAvailable: described(z.boolean({ error: 'expected true or false' }).optional(), 'Whether a public exploit is known (`ExploitAvailable`).'),
  dataAssetsReachable: described(z.boolean({ error: 'expected true or false' }).optional(), 'Whether sensitive data assets are reachable (`DataAssetsReachable` / `SensitiveDataReachable`).'),
  managementZones: list(nonEmpty('a management zone name'), 'Management zone names; one of them must be the security problem\'s.'),
  tags: list(tagCondition, 'Tags; each must be on the security problem or on the affected entity.'),
}, { error: 'expected a map of conditions' })

export const targetSchema = z.strictObject({
  kind: described(z.string({ error: `expected ${TARGET_KINDS.join(', ')} or a placeholder` }).refine((k) => (TARGET_KINDS as readonly string[]).includes(k) || k.includes('${'), { error: (issue) => `${JSON.stringify(issue.input)} is not ${TARGET_KINDS.join(', ')} (or a placeholder)` }), 'Deployment, StatefulSet or DaemonSet.'),
  namespace: described(nonEmpty('a namespace'), 'The workload\'s namespace; placeholders allowed, e.g. `${tag:k8s.namespace.name}`.'),
  name: described(nonEmpty('a workload name'), 'The workload\'s name; placeholders allowed, e.g. `${event:dt.event.deployment.name}`.'),
}, { error: 'expected a map with kind, namespace and name' })

export const actionStepSchema = z.strictObject({
  use: described(nonEmpty('an action name'), 'The action: kubernetes.rollback, kubernetes.restart, kubernetes.scale, http.request, notify.slack, or a custom action\'s name.'),
  with: described(z.record(z.string(), z.unknown(), { error: 'expected a map of parameters' }).optional(), 'The action\'s parameters, checked against its own schema when the file loads. Placeholders allowed; `${env:NAME}` only here.'),
}, { error: 'expected a map with use (and with)' })

const maxRecurrencesSchema = z.strictObject({
  count: described(z.int({ error: 'expected a whole number' }).min(0, { error: 'must be 0 (off) or more' }), 'Successful live runs of the same action on the same target, for other problems, that make the next one stop. 0 turns the gate off.'),
  per: described(durationSchema, 'The window they are counted in.'),
}, { error: 'expected a map with count and per' })

const RULE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/

const ruleCommon = {
  name: described(z.string({ error: 'expected a rule name' }).regex(RULE_NAME, { error: (issue) => `${JSON.stringify(issue.input)} is not a rule name: letters, digits, ".", "_" and "-", at most 100` }), 'Unique in the file; named in every run, comment and log line.'),
  target: described(targetSchema.optional(), 'The workload to act on; when absent it is resolved from the entity (SPEC 6).'),
  actions: described(z.array(actionStepSchema, { error: 'expected a list of actions' }).min(1, { error: 'a rule needs at least one action' }), 'The escalation ladder: the first action runs; each next one when the problem is still open `verifyAfter` after the previous succeeded, or at once when the previous was skipped by the action itself.'),
  approval: described(z.boolean({ error: 'expected true or false' }).default(false), '`true`: each run waits for POST /api/runs/:id/approve (needs DTR_ADMIN_TOKENS).'),
  dryRun: described(z.boolean({ error: 'expected true or false' }).default(false), '`true`: this rule runs in dry-run even in live mode.'),
  cooldown: described(durationSchema.optional(), 'Overrides defaults.cooldown for this rule.'),
  verifyAfter: described(durationSchema.optional(), 'Overrides defaults.verifyAfter for this rule.'),
  timeout: described(durationSchema.optional(), 'Overrides defaults.timeout for this rule.'),
  approvalTimeout: described(durationSchema.optional(), 'Overrides defaults.approvalTimeout for this rule.'),
  maxRecurrences: described(maxRecurrencesSchema.optional(), 'Overrides defaults.maxRecurrences for this rule.'),
}

export const problemRuleSchema = z.strictObject({
  on: described(z.literal('problem'), '`problem` (problem notifications) or `security` (security notifications).'),
  ...ruleCommon,
  when: described(problemWhenSchema.prefault({}), 'Conditions; all given must hold.'),
})

const securityRuleSchema = z.strictObject({
  on: described(z.literal('security'), '`problem` (problem notifications) or `security` (security notifications).'),
  ...ruleCommon,
  when: described(securityWhenSchema.prefault({}), 'Conditions; all given must hold.'),
})

const ruleSchema = z.discriminatedUnion('on', [problemRuleSchema, securityRuleSchema], { error: 'on must be problem or security' })

export const budgetSchema = z.strictObject({
  scope: described(z.enum(['global', 'namespace', 'rule'], { error: 'expected global, namespace or rule' }), '`global`, `namespace` (per namespace) or `rule` (per rule).'),
  max: described(z.int({ error: 'expected a whole number' }).positive({ error: 'must be at least 1' }), 'Live runs that reached `running` within the window.'),
  per: described(durationSchema, 'The sliding window.'),
}, { error: 'expected a map with scope, max and per' })

export const defaultsSchema = z.strictObject({
  cooldown: described(durationSchema.default(30 * 60_000), 'Per (target, action): no second run within this window. Default 30m.'),
  verifyAfter: described(durationSchema.default(10 * 60_000), 'Check the problem this long after a successful action. Default 10m.'),
  timeout: described(durationSchema.default(2 * 60_000), 'Per action run, retries included. Default 2m.'),
  maxTargetsPerProblem: described(z.int({ error: 'expected a whole number' }).positive({ error: 'must be at least 1' }).default(5), 'A problem resolving to more distinct targets than this (across rules) acts on none. Default 5.'),
  approvalTimeout: described(durationSchema.default(60 * 60_000), 'A run awaiting approval this long becomes `expired`. Default 1h.'),
  maxRecurrences: described(maxRecurrencesSchema.prefault({ count: 3, per: '24h' }), 'The recurrence gate: when the same action already succeeded live on the same target for `count` other problems within `per`, the run is skipped (the fix does not last). Default { count: 3, per: 24h }; count 0 turns it off.'),
}, { error: 'expected a map' })

const namespaceName = z.string({ error: 'expected a namespace name' }).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, { error: (issue) => `${JSON.stringify(issue.input)} is not a Kubernetes namespace name` })

export const kubernetesSchema = z.strictObject({
  gitops: described(z.enum(['skip', 'allow'], { error: 'expected skip or allow' }).default('skip'), '`skip`: workloads managed by Argo CD or Flux are left alone. `allow`: they are changed anyway.'),
  namespaces: described(z.strictObject({
    allow: described(z.array(namespaceName).optional(), 'Only these namespaces. Default: every namespace but the denied ones.'),
    deny: described(z.array(namespaceName).default(['kube-system']), 'Never these (deny wins over allow). Default [kube-system].'),
  }, { error: 'expected a map with allow and deny' }).prefault({}), 'Where actions may act. A workload annotated dt-remediator.io/skip: "true" is never acted on.'),
}, { error: 'expected a map' })

export const rulesFileSchema = z.strictObject({
  mode: described(z.enum(MODES, { error: 'expected dry-run or live' }).optional(), '`dry-run` or `live`; DTR_MODE overrides it. Default dry-run.'),
  defaults: described(defaultsSchema.prefault({}), 'Defaults for every rule.'),
  budgets: described(z.array(budgetSchema, { error: 'expected a list of budgets' }).default([]), 'Live runs allowed per sliding window; a run over budget is skipped.'),
  kubernetes: described(kubernetesSchema.prefault({}), 'Kubernetes scope settings.'),
  plugins: described(z.array(nonEmpty('a module path or package name'), { error: 'expected a list of modules' }).default([]), 'Custom actions: paths relative to this file, or package names (resolved from this file\'s directory, then from the service\'s installation).'),
  rules: described(z.array(ruleSchema, { error: 'expected a list of rules' }).default([]), 'The rules.'),
}, { error: 'the rules file must be a YAML map' })

export type RulesFile = z.output<typeof rulesFileSchema>
export type RuleSpec = z.output<typeof ruleSchema>
export type ProblemWhenSpec = z.output<typeof problemWhenSchema>
export type SecurityWhenSpec = z.output<typeof securityWhenSchema>
export type TargetSpec = z.output<typeof targetSchema>
export type BudgetSpec = z.output<typeof budgetSchema>
