import type {V1ControllerRevision} from '@kubernetes/client-node'

import {toTime} from './api.js'
import {goJson} from './go-json.js'

/**
 * ControllerRevision bookkeeping as kubernetes pkg/controller/history does it: hash, name, order and equality of
 * revisions. A revision's name is `<owner>-<hash>`; the hash covers the revision's data and the owner's collision count.
 */

export const HASH_LABEL = 'controller.kubernetes.io/hash'

/** HashControllerRevision: FNV-1 32 over the data and the collision count, written safe (no vowels, no look-alikes). */
export function hashRevision(data: string, collisionCount: number): string {
  return safeEncode(String(fnv32(`${data}${collisionCount}`)))
}

/** ControllerRevisionName: the prefix is cut to 223 bytes so that the name stays within 253. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.slice(0, 223)}-${hash}`
}

/** The bytes a revision's data has on the wire, as hashed and compared. */
export function revisionBytes(revision: V1ControllerRevision): string {
  return goJson(revision.data)
}

/** EqualRevision: the same data (hash labels are not numbers here, so only the data decides, as in Go). */
export function equalRevision(a: V1ControllerRevision, b: V1ControllerRevision): boolean {
  return revisionBytes(a) === revisionBytes(b)
}

/** SortControllerRevisions: by revision number, then creation time, then name. */
export function sortRevisions(revisions: readonly V1ControllerRevision[]): V1ControllerRevision[] {
  return [...revisions].sort(
    (a, b) =>
      a.revision - b.revision ||
      (toTime(a.metadata?.creationTimestamp) ?? 0) - (toTime(b.metadata?.creationTimestamp) ?? 0) ||
      (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  )
}

/** nextRevision: one above the highest, 1 for the first. */
export function nextRevision(sorted: readonly V1ControllerRevision[]): number {
  return (sorted.at(-1)?.revision ?? 0) + 1
}

/** FNV-1 32-bit, the hash Go's hash/fnv.New32 computes. */
function fnv32(text: string): number {
  let hash = 0x811c9dc5
  for (const byte of Buffer.from(text, 'utf8')) {
    hash = Math.imul(hash, 0x01000193) >>> 0
    hash = (hash ^ byte) >>> 0
  }
  return hash
}

/** k8s.io/apimachinery/pkg/util/rand.SafeEncodeString. */
function safeEncode(text: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789'
  return [...text].map((c) => alphabet[c.charCodeAt(0) % alphabet.length]).join('')
}
