import {badRequest} from './status.js'

/**
 * Just enough of Kubernetes' protobuf encoding to read the small request bodies kubectl's typed clients send as
 * `application/vnd.kubernetes.protobuf` (access reviews, TokenRequest): the `k8s\0` envelope (runtime.Unknown) and
 * the wire format's fields. Everything else stays JSON-only.
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

  number(field: number): number | undefined {
    const v = this.values.get(field)?.at(-1)
    return typeof v === 'number' ? v : undefined
  }

  message(field: number): Fields | undefined {
    const v = this.values.get(field)?.at(-1)
    return Buffer.isBuffer(v) ? new Fields(v) : undefined
  }
}

/** The object inside kubectl's envelope, with the apiVersion and kind it names. */
export function unwrap(body: Buffer): {apiVersion?: string; kind?: string; object: Fields} {
  if (!body.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf: the body does not start with the k8s envelope')
  const unknown = new Fields(body.subarray(4))
  const type = unknown.message(1)
  return {apiVersion: type?.string(1), kind: type?.string(2), object: unknown.message(2) ?? new Fields(Buffer.alloc(0))}
}
