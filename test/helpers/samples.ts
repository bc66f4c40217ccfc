/**
 * The real notification bodies in ../shared/dynatrace/samples (beside the repository, as in CI).
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const samplesDir = fileURLToPath(new URL('../../../shared/dynatrace/samples/', import.meta.url))

export function sampleText (name: string): string {
  return readFileSync(samplesDir + name, 'utf8')
}

/** A sample body without its `_about` note, as Dynatrace would send it. */
export function sample (name: string): Record<string, unknown> {
  const { _about: _, ...body } = JSON.parse(sampleText(name)) as Record<string, unknown>
  return body
}

export interface RecordedCall {
  method: string
  headers: Record<string, string>
  body: string
}

/** The seed article's logged "Send test notification" call: headers and body verbatim. */
export function seedTestCall (): RecordedCall {
  return JSON.parse(sampleText('test-notification-seed.json')) as RecordedCall
}
