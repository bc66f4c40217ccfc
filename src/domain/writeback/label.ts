/** How a write-back names the problem a run is for. */
import type { Run } from '../runs.js'

/** Pure: `problem P-240733`, `security problem S-17` (the display id when there is one). */
export const problemLabel = (run: Pick<Run, 'kind' | 'problemId' | 'displayId'>): string =>
  `${run.kind === 'security' ? 'security problem' : 'problem'} ${run.displayId ?? run.problemId}`
