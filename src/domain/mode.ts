/** The two modes of SPEC section 3: dry-run never changes a target. */
export const MODES = ['dry-run', 'live'] as const
export type Mode = (typeof MODES)[number]
