/**
 * Watches (`GET …?watch=1`), streamed the way the API server streams them: a chunked
 * `application/json` response of `{"type":"ADDED"|"MODIFIED"|"DELETED"|"BOOKMARK"|"ERROR",
 * "object":…}` events, one per line. Without a resourceVersion (or with "0") the watch starts
 * with an ADDED event for every object that matches; with one it replays the store's changes
 * after it, so nothing between a LIST and its WATCH is lost, or answers an ERROR 410 Expired when
 * that version is no longer kept. `sendInitialEvents=true` (the watch-list protocol) sends the
 * current state and a BOOKMARK marked `k8s.io/initial-events-end`. Label and field selectors
 * apply; an object that stops matching is seen as DELETED. `timeoutSeconds` ends the stream.
 */
import type { ServerResponse } from 'node:http'
import type { ParsedPath } from './api.js'
import { objectMatcher } from './selectors.js'
import { statusErrors } from './status.js'
import type { Change, ChangeType, SimStore, StoredObject } from './store.js'
import { toTable } from './table.js'

export interface WatchOptions {
  readonly path: ParsedPath
  readonly query: Record<string, string>
  readonly asTable: boolean
  readonly now: () => number
}

export interface OpenWatch {
  readonly path: ParsedPath
  readonly query: Readonly<Record<string, string>>
  /** Ends the stream (the server closing, or the timeout). */
  close(): void
}

/** Streams a watch into `res` until the client goes away or close() is called. */
export function startWatch (store: SimStore, res: ServerResponse, options: WatchOptions): OpenWatch {
  const { path, query } = options
  const matches = objectMatcher(query.labelSelector, query.fieldSelector)
  const inScope = (c: { resource: unknown, object: StoredObject }): boolean => c.resource === path.type && (path.namespace === undefined || c.object.metadata.namespace === path.namespace)
  const visible = new Set<string>()
  const key = (o: StoredObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`
  let first = true

  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' })
  // The API server answers a watch at once; a client waits for these headers before it reads events.
  res.flushHeaders()
  const send = (type: ChangeType | 'BOOKMARK' | 'ERROR', object: unknown): void => {
    const shown = options.asTable && type !== 'ERROR' && type !== 'BOOKMARK'
      ? toTable(path.type, [object as StoredObject], { now: options.now(), resourceVersion: (object as StoredObject).metadata.resourceVersion, includeObject: query.includeObject, columns: first })
      : object
    if (shown !== object) first = false
    res.write(`${JSON.stringify({ type, object: shown })}\n`)
  }
  // Replayed changes of objects the watch has not seen yet: a MODIFIED or DELETED object that
  // matches was there at the starting version, so its deletion is still announced.
  const deliver = (change: Pick<Change, 'type' | 'object'>, replayed = false): void => {
    const was = visible.has(key(change.object)) || (replayed && change.type !== 'ADDED' && matches(change.object))
    const now = change.type !== 'DELETED' && matches(change.object)
    if (now) visible.add(key(change.object))
    else visible.delete(key(change.object))
    if (now) send(was ? 'MODIFIED' : 'ADDED', change.object)
    else if (was) send('DELETED', change.object)
  }

  const from = query.resourceVersion
  const initial = from === undefined || from === '' || from === '0' || query.sendInitialEvents === 'true'
  if (initial) {
    for (const object of store.list(path.type, path.namespace)) deliver({ type: 'ADDED', object })
    if (query.sendInitialEvents === 'true') {
      send('BOOKMARK', { kind: path.type.kind, apiVersion: path.type.group === '' ? path.type.version : `${path.type.group}/${path.type.version}`, metadata: { resourceVersion: store.listVersion(), annotations: { 'k8s.io/initial-events-end': 'true' } } })
    }
  } else {
    const since = Number(from)
    const replay = Number.isInteger(since) ? store.changesSince(since) : undefined
    if (replay === undefined) {
      send('ERROR', statusErrors.gone(`too old resource version: ${from} (${store.listVersion()})`).toStatus())
      res.end()
      return { path, query, close: () => {} }
    }
    // The objects in view at `from` are those that match now and have not changed since.
    for (const object of store.list(path.type, path.namespace)) {
      if (matches(object) && Number(object.metadata.resourceVersion) <= since) visible.add(key(object))
    }
    for (const change of replay) if (inScope(change)) deliver(change, true)
  }

  const unsubscribe = store.subscribe((change) => { if (inScope(change)) deliver(change) })
  const timeout = Number(query.timeoutSeconds)
  const timer = Number.isFinite(timeout) && timeout > 0 ? setTimeout(() => close(), timeout * 1000) : undefined
  function close (): void {
    unsubscribe()
    if (timer !== undefined) clearTimeout(timer)
    if (!res.writableEnded) res.end()
  }
  res.once('close', close)
  return { path, query, close }
}
