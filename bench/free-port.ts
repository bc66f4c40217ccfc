/** The benches' one way to find a port for a server that takes its port from the environment. */
import { once } from 'node:events'
import { createServer } from 'node:net'

/** A port nothing listens on now, for a server that takes its port from the environment. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  server.close()
  await once(server, 'close')
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}
