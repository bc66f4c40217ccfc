/** How a write-back names the problem a run is for. */
import type { Run } from '../runs.js'
import { kindLabel } from '../kinds/index.js'

/** Pure: `problem P-240733`, `security problem S-17` (the display id when there is one). */
export const problemLabel = (run: Pick<Run, 'kind' | 'problemId' | 'displayId'>): string =>
  `${kindLabel(run.kind)} ${run.displayId ?? run.problemId}`
