import type { Verb } from './index.js'

const verb: Verb = {
  summary: 'run the service (default)',
  run: async () => (await import('../server.js')).serve(),
}
export default verb
