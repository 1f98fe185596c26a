/**
 * JSON as Go's encoding/json writes a Kubernetes object: keys sorted, `<`, `>`, `&`, U+2028 and U+2029 escaped, Go's
 * RFC 3339 timestamps, and the fields a typed Go object would omit (`omitempty`: null, empty strings and lists, empty
 * maps) left out while empty structs stay. The StatefulSet controller hashes its pod template in this form, so the
 * same template gives the same revision name here as on a real cluster. Without the Go types at hand, maps are known
 * by their field names (the ones a pod template has).
 */

const MAP_FIELDS = new Set(['labels', 'annotations', 'nodeSelector', 'limits', 'requests', 'data', 'binaryData'])

export function goJson(value: unknown): string {
  return encode(value, undefined) ?? 'null'
}

function encode(value: unknown, field: string | undefined): string | undefined {
  if (value === undefined) return undefined
  if (value === null) return 'null'
  if (value instanceof Date) return encodeString(value.toISOString().replace(/\.\d{3}Z$/, 'Z'))
  if (typeof value === 'string') return encodeString(value)
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map((item) => encode(item, undefined) ?? 'null').join(',')}]`
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .flatMap(([k, v]) => {
        if (k === 'creationTimestamp' && (v === null || v === undefined)) return [`${encodeString(k)}:null`]
        const encoded = omitted(v) ? undefined : encode(v, k)
        return encoded === undefined ? [] : [`${encodeString(k)}:${encoded}`]
      })
    return entries.length === 0 && field !== undefined && MAP_FIELDS.has(field) ? undefined : `{${entries.join(',')}}`
  }
  return undefined
}

/**
 * What `omitempty` drops from a struct field. An empty object stays (a struct), except under a map's field name
 * (encode); metav1.Time has no empty form, so creationTimestamp is always written, as null when unset.
 */
function omitted(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0)
}

function encodeString(text: string): string {
  return JSON.stringify(text).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
