/**
 * Every migration, in order. To change the schema, add `NNN_name.ts` beside these (copy
 * 001_intake.ts) and list it here; never edit one that has shipped. Each is written once, with
 * Kysely's schema builder, and asks the Dialect for what differs per engine (id and JSON column
 * types). Rolling updates: add in one release, remove in a later one (README, "Store").
 */
import type { Migration } from './migration.js'
import { migration as intake } from './001_intake.js'
import { migration as runner } from './002_runner.js'
import { migration as reconcile } from './003_reconcile.js'
import { migration as poisonJobs } from './004_poison_jobs.js'
import { migration as evidence } from './005_evidence.js'
import { migration as gates } from './006_gates.js'
import { migration as oneStartedIndex } from './007_one_started_index.js'

export const MIGRATIONS: readonly Migration[] = [intake, runner, reconcile, poisonJobs, evidence, gates, oneStartedIndex]
