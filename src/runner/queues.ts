/** The runner's queues, one worker each (./index.ts), and what a timer job carries. */
import { NOTIFICATION_QUEUE } from '../store/notifications.js'
import { WRITEBACK_QUEUE } from '../store/outbox.js'

export const QUEUES = {
  notification: NOTIFICATION_QUEUE,
  /** The next step of a ladder, planned afresh. */
  plan: 'plan',
  run: 'run',
  /** Verifications and approval expiries, due at a time. */
  timer: 'timer',
  writeback: WRITEBACK_QUEUE,
} as const

export type TimerJob = { readonly type: 'verify' | 'expire', readonly runId: string }
