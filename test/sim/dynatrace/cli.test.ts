/**
 * `dt-remediator sim dynatrace`: prints its base URL first, serves the seeded state, and stops
 * cleanly on SIGTERM.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const state = fileURLToPath(new URL('../../fixtures/dynatrace/state.yaml', import.meta.url))

t.test('prints the base URL first, serves the state file, stops on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'sim', 'dynatrace', '--port', '0', '--state', state], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines = createInterface({ input: child.stdout })
  const [first] = await once(lines, 'line') as [string]
  t.match(first, /^http:\/\/127\.0\.0\.1:\d+$/, 'first line is the base URL')

  const res = await fetch(`${first}/api/v2/problems/${encodeURIComponent('-6386032669938507213_1634684083930V2')}`, { headers: { authorization: 'Api-Token dt0c01.FIXTURE.TOKEN' } })
  t.equal(res.status, 200)
  const problem = await res.json() as { problemId: string, impactedEntities: Array<{ name: string }> }
  t.equal(problem.problemId, '-6386032669938507213_1634684083930V2')
  t.equal(problem.impactedEntities[0]?.name, 'node-1')
  const stateRes = await fetch(`${first}/_sim/state`)
  const dump = await stateRes.json() as { entities: Array<{ type: string }> }
  t.ok(dump.entities.some((e) => e.type === 'CLOUD_APPLICATION'), 'the workload chain is seeded')

  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const [code] = await exited as [number | null]
  t.equal(code, 0, 'exits 0 on SIGTERM')
})

t.test('an invalid state file stops with exit code 2 and the reason', async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, 'src/cli.ts', 'sim', 'dynatrace', '--state', fileURLToPath(new URL('../../fixtures/dynatrace/invalid-state.json', import.meta.url))], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 2)
  t.match(stderr, /workloads\.0\.namespace/)
})
