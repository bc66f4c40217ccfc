/** A target's lock is a lease (SPEC 9): one run acts on a target at a time, across replicas. */
import { targetKey } from '../domain/target.js'
import type { RunRecord } from '../store/runs.js'

/** The lease that is a target's lock; none for a run without a target. */
export const lockName = (run: Pick<RunRecord, 'target'>): string | undefined => (run.target === null ? undefined : `target:${targetKey(run.target)}`)
