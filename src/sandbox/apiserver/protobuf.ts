import {badRequest} from './status.js'

/**
 * Just enough of Kubernetes' protobuf encoding to read the small request bodies kubectl's typed clients send as
 * `application/vnd.kubernetes.protobuf` (access reviews, TokenRequest, and the objects of `kubectl create secret|
 * configmap|namespace|serviceaccount|role|rolebinding|clusterrole|clusterrolebinding`): the `k8s\0` envelope
 * (runtime.Unknown) and the wire format's fields. Answers stay JSON: kubectl asks with
 * `Accept: application/vnd.kubernetes.protobuf,application/json` and decodes by the answer's Content-Type.
 */

export const PROTOBUF = 'application/vnd.kubernetes.protobuf'
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00])

/** A message's fields by number: varints as numbers, length-delimited values as bytes. */
export class Fields {
  private readonly values = new Map<number, Array<number | Buffer>>()

  constructor(buf: Buffer) {
    let at = 0
    const varint = (): number => {
      let value = 0
      let shift = 0
      for (;;) {
        if (at >= buf.length) throw badRequest('protobuf: truncated varint')
        const byte = buf[at++]
        value += (byte & 0x7f) * 2 ** shift
        if ((byte & 0x80) === 0) return value
        shift += 7
      }
    }
    while (at < buf.length) {
      const tag = varint()
      const field = Math.floor(tag / 8)
      let value: number | Buffer
      switch (tag & 7) {
        case 0: value = varint(); break
        case 1: at += 8; continue
        case 2: {
          const length = varint()
          if (at + length > buf.length) throw badRequest('protobuf: truncated field')
          value = buf.subarray(at, at + length)
          at += length
          break
        }
        case 5: at += 4; continue
        default: throw badRequest(`protobuf: unsupported wire type ${tag & 7}`)
      }
      this.values.set(field, [...(this.values.get(field) ?? []), value])
    }
  }

  string(field: number): string | undefined {
    const v = this.values.get(field)?.at(-1)
    return Buffer.isBuffer(v) ? v.toString('utf8') : undefined
  }

  strings(field: number): string[] {
    return (this.values.get(field) ?? []).filter(Buffer.isBuffer).map((v) => v.toString('utf8'))
  }

  bytes(field: number): Buffer {
    const v = this.values.get(field)?.at(-1)
    return Buffer.isBuffer(v) ? v : Buffer.alloc(0)
  }

  number(field: number): number | undefined {
    const v = this.values.get(field)?.at(-1)
    return typeof v === 'number' ? v : undefined
  }

  message(field: number): Fields | undefined {
    const v = this.values.get(field)?.at(-1)
    return Buffer.isBuffer(v) ? new Fields(v) : undefined
  }

  messages(field: number): Fields[] {
    return (this.values.get(field) ?? []).filter(Buffer.isBuffer).map((v) => new Fields(v))
  }

  /** The field numbers that carry a value other than the encoding's zero (gogo writes every non-pointer field). */
  numbersSet(): number[] {
    return [...this.values].filter(([, vs]) => vs.some((v) => (Buffer.isBuffer(v) ? v.length > 0 : v !== 0))).map(([n]) => n)
  }
}

/**
 * How a message's fields map to its JSON names (the numbers of k8s.io/api's generated.proto). `bytes-map` is
 * map<string, bytes> (JSON: base64 values), `optional-bool` a pointer field whose false is kept.
 */
export type Schema = {[field: number]: [name: string, type: FieldType]}
type FieldType = 'string' | 'strings' | 'optional-bool' | 'string-map' | 'bytes-map' | Schema | [Schema]

/**
 * The JSON object a message stands for, with the zero values gogo writes left out as Go's `omitempty` leaves them
 * out of JSON, so that it is the object kubectl would have sent as JSON. A field the schema does not know is
 * refused rather than dropped.
 */
export function toJson(f: Fields, schema: Schema, where: string): Record<string, unknown> {
  const unknown = f.numbersSet().filter((n) => schema[n] === undefined)
  if (unknown.length > 0) throw badRequest(`protobuf: ${where}: field ${unknown.join(', ')} is not read by the sandbox; send the object as JSON`)
  const out: Record<string, unknown> = {}
  for (const [n, [name, type]] of Object.entries(schema)) {
    const value = fieldValue(f, Number(n), type, `${where}.${name}`)
    if (!isZero(value)) out[name] = value
  }
  return out
}

const isZero = (value: unknown): boolean => value === undefined || value === '' || value === 0 ||
  (typeof value === 'object' && value !== null && Object.keys(value).length === 0)

function fieldValue(f: Fields, n: number, type: FieldType, where: string): unknown {
  if (Array.isArray(type)) return f.messages(n).map((m) => toJson(m, type[0], where))
  if (typeof type === 'object') {
    const m = f.message(n)
    return m && toJson(m, type, where)
  }
  switch (type) {
    case 'string': return f.string(n)
    case 'strings': return f.strings(n)
    case 'optional-bool': return f.number(n) === undefined ? undefined : f.number(n) !== 0
    case 'string-map': return Object.fromEntries(f.messages(n).map((e) => [e.string(1) ?? '', e.string(2) ?? '']))
    case 'bytes-map': return Object.fromEntries(f.messages(n).map((e) => [e.string(1) ?? '', e.bytes(2).toString('base64')]))
  }
}

/** The object inside kubectl's envelope, with the apiVersion and kind it names. */
export function unwrap(body: Buffer): {apiVersion?: string; kind?: string; object: Fields} {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: the body does not start with the k8s envelope')
  const unknown = new Fields(body.subarray(4))
  const type = unknown.message(1)
  return {apiVersion: type?.string(1), kind: type?.string(2), object: unknown.message(2) ?? new Fields(Buffer.alloc(0))}
}
