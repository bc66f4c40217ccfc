/**
 * Everything the service loads with import() from outside its own code: packages it needs only on
 * first use, and custom actions' files. The start-up bundle (scripts/bundle.mjs) leaves this module
 * out, as a module Node loads, and the bundle calls it: the bundle runs as a vm.Script
 * (src/cli/bundle.ts), whose own import() needs an experimental flag on Node 20 and is lost when
 * V8 starts the script from its code cache. The build stops if the bundle has an import() left.
 */
import type * as Inspector from 'node:inspector/promises'
import type * as KubernetesLibrary from '@kubernetes/client-node'
import type * as Undici from 'undici'

/** undici, for Dynatrace's API and outbound HTTP (the first call, not the start). */
export const importUndici = async (): Promise<typeof Undici> => await import('undici')

/** @kubernetes/client-node (~73 MB of RSS once loaded), for the kubeconfigs the direct transport does not read. */
export const importKubernetesLibrary = async (): Promise<typeof KubernetesLibrary> => await import('@kubernetes/client-node')

/** An in-process inspector session (src/memory.ts). */
export const importInspector = async (): Promise<typeof Inspector> => await import('node:inspector/promises')

/** A custom action's module, by its file: URL (src/sdk/loader.ts). */
export const importFile = async (href: string): Promise<unknown> => await import(href)
