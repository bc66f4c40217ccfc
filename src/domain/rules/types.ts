/**
 * The rules as the service holds them once a file has loaded: every default applied, every
 * override resolved into per-rule effective values, durations in milliseconds, regexes compiled.
 * Plain data but for the compiled `title` regex (its `source` is kept beside it for output).
 */
import type { z } from 'zod'
import type { Mode } from '../mode.js'

export interface Diagnostic {
  readonly file: string
  /** 1-based; 0 when the problem has no place in the file. */
  readonly line: number
  readonly column: number
  /** `rules[0].when.deployedWithin`; '' for the file as a whole. */
  readonly path: string
  readonly message: string
}

/** What the parser needs to know of an action (the SDK's ActionDefinition satisfies it). */
export interface ActionSpec {
  readonly name: string
  readonly entityTypes: readonly string[] | '*'
  readonly params: z.ZodType
  readonly needsTarget: boolean
  /** Parameters holding a URL whose host must be in DTR_HTTP_ALLOWED_HOSTS. */
  readonly urlParams?: readonly string[] | undefined
}

export interface ActionCatalog {
  get(name: string): ActionSpec | undefined
  names(): string[]
}

export type ModeSource = 'DTR_MODE' | 'rules file' | 'default'

export interface ProblemConditions {
  readonly entityTypes: readonly string[] | undefined
  readonly severities: readonly string[] | undefined
  readonly impacts: readonly string[] | undefined
  readonly tags: readonly string[] | undefined
  readonly managementZones: readonly string[] | undefined
  readonly title: { readonly source: string, readonly regex: RegExp } | undefined
  readonly deployedWithinMs: number | undefined
  readonly duplicates: 'skip' | 'include'
  readonly maintenance: 'skip' | 'include'
  /** `when.rootCause: true`: the root-cause entity is the one candidate. */
  readonly rootCause?: boolean | undefined
}

export interface SecurityConditions {
  readonly severities: readonly string[] | undefined
  readonly exposed: boolean | undefined
  readonly exploitAvailable: boolean | undefined
  readonly dataAssetsReachable: boolean | undefined
  readonly managementZones: readonly string[] | undefined
  readonly tags: readonly string[] | undefined
}

/** A step of the ladder: the action's name and its `with` as written (placeholders unsubstituted). */
export interface LadderStep {
  readonly use: string
  readonly with: Readonly<Record<string, unknown>>
}

interface RuleBase {
  readonly name: string
  /** Position in the file's `rules` list, and the line it starts on. */
  readonly index: number
  readonly line: number
  /** false when a `${env:…}` it uses is unset (a warning says so). */
  readonly enabled: boolean
  readonly disabledReason: string | undefined
  /** As written: placeholders unsubstituted. */
  readonly target: { readonly kind: string, readonly namespace: string, readonly name: string } | undefined
  readonly ladder: readonly LadderStep[]
  /** Effective values: the rule's own, else the file's defaults. */
  readonly approval: boolean
  readonly dryRun: boolean
  readonly cooldownMs: number
  readonly verifyAfterMs: number
  readonly timeoutMs: number
  readonly approvalTimeoutMs: number
  /** The recurrence gate (SPEC 9); count 0 is off. */
  readonly maxRecurrences: MaxRecurrences
  /** The environment variables its `with` reads. */
  readonly env: readonly string[]
}

export type LoadedRule =
  | (RuleBase & { readonly on: 'problem', readonly when: ProblemConditions })
  | (RuleBase & { readonly on: 'security', readonly when: SecurityConditions })

export interface MaxRecurrences {
  readonly count: number
  readonly perMs: number
}

export interface Budget {
  readonly scope: 'global' | 'namespace' | 'rule'
  readonly max: number
  readonly perMs: number
}

export interface LoadedRules {
  readonly file: string
  readonly mode: Mode
  readonly modeSource: ModeSource
  readonly defaults: {
    readonly cooldownMs: number
    readonly verifyAfterMs: number
    readonly timeoutMs: number
    readonly approvalTimeoutMs: number
    readonly maxTargetsPerProblem: number
    readonly maxRecurrences: MaxRecurrences
  }
  readonly budgets: readonly Budget[]
  readonly kubernetes: {
    readonly gitops: 'skip' | 'allow'
    readonly namespaces: { readonly allow: readonly string[] | undefined, readonly deny: readonly string[] }
  }
  /** `plugins:` as written (the loader resolves them). */
  readonly plugins: readonly string[]
  readonly rules: readonly LoadedRule[]
  /** The longest `deployedWithin` of any rule (0 when none): how far back enrichment reads events. */
  readonly longestDeployedWithinMs: number
}
