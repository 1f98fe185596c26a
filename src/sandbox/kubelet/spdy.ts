import {constants, createDeflate, createInflate, type Deflate, type Inflate} from 'node:zlib'

/**
 * The SPDY/3 header-compression dictionary (draft-mbelshe-httpbis-spdy-00, 2.6.10.1): length-prefixed header
 * names and common values, then a run of plain text. Built here from its parts rather than spelled out as bytes.
 */
const DICTIONARY_WORDS = [
  'options', 'head', 'post', 'put', 'delete', 'trace', 'accept', 'accept-charset', 'accept-encoding', 'accept-language',
  'accept-ranges', 'age', 'allow', 'authorization', 'cache-control', 'connection', 'content-base', 'content-encoding',
  'content-language', 'content-length', 'content-location', 'content-md5', 'content-range', 'content-type', 'date', 'etag',
  'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range', 'if-unmodified-since',
  'last-modified', 'location', 'max-forwards', 'pragma', 'proxy-authenticate', 'proxy-authorization', 'range', 'referer',
  'retry-after', 'server', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'user-agent', 'vary', 'via', 'warning',
  'www-authenticate', 'method', 'get', 'status', '200 OK', 'version', 'HTTP/1.1', 'url', 'public', 'set-cookie', 'keep-alive', 'origin',
]
const DICTIONARY_TAIL = '100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505' +
  '203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized403 Forbidden' +
  '404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable' +
  'Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT' +
  'chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,text/javascript,public' +
  'privatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.'

const SPDY_DICTIONARY = Buffer.concat([
  ...DICTIONARY_WORDS.map((w) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(w.length)
    return Buffer.concat([len, Buffer.from(w, 'latin1')])
  }),
  Buffer.from(DICTIONARY_TAIL, 'latin1'),
])

const VERSION = 3
const FLAG_FIN = 0x01
const FrameType = {synStream: 1, synReply: 2, rstStream: 3, settings: 4, ping: 6, goAway: 7, headers: 8, windowUpdate: 9} as const
const RST_CANCEL = 5
const RST_PROTOCOL_ERROR = 1

export type Headers = Record<string, string>

/** One SPDY stream as the server side sees it: data in, data out, half-close with FIN, reset with RST_STREAM. */
export interface SpdyStream {
  readonly id: number
  readonly headers: Headers
  /** Called with each DATA frame's payload, then with null once the peer half-closes (FIN). */
  onData: (data: Buffer | null) => void
  onReset: () => void
  write(data: Buffer): void
  /** Half-closes our side: an empty DATA frame with FIN. */
  end(): void
  reset(): void
}

type OpenStream = SpdyStream & {remoteClosed: boolean; localClosed: boolean}

/** A zlib stream whose output for each input is flushed (Z_SYNC_FLUSH) and collected, as SPDY header blocks need. */
async function pass(z: Deflate | Inflate, input: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = []
  const collect = (chunk: Buffer): void => {
    chunks.push(chunk)
  }
  z.on('data', collect)
  try {
    await new Promise<void>((resolve, reject) => {
      z.once('error', reject)
      z.write(input)
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('error', reject)
        resolve()
      })
    })
  } finally {
    z.off('data', collect)
  }
  return Buffer.concat(chunks)
}

function encodeHeaders(headers: Headers): Buffer {
  const parts: Buffer[] = []
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(n)
    return b
  }
  parts.push(u32(Object.keys(headers).length))
  for (const [k, v] of Object.entries(headers)) {
    const name = Buffer.from(k.toLowerCase())
    const value = Buffer.from(v)
    parts.push(u32(name.length), name, u32(value.length), value)
  }
  return Buffer.concat(parts)
}

function decodeHeaders(block: Buffer): Headers {
  const headers: Headers = {}
  let off = 0
  const count = block.readUInt32BE(off)
  off += 4
  for (let i = 0; i < count; i++) {
    const nameLength = block.readUInt32BE(off)
    const name = block.subarray(off + 4, off + 4 + nameLength).toString()
    off += 4 + nameLength
    const valueLength = block.readUInt32BE(off)
    headers[name] = block.subarray(off + 4, off + 4 + valueLength).toString()
    off += 4 + valueLength
  }
  return headers
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt16BE(0x8000 | VERSION, 0)
  head.writeUInt16BE(type, 2)
  head.writeUInt32BE(((flags & 0xff) << 24) | payload.length, 4)
  return Buffer.concat([head, payload])
}

function dataFrame(streamId: number, flags: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(streamId & 0x7fffffff, 0)
  head.writeUInt32BE(((flags & 0xff) << 24) | data.length, 4)
  return Buffer.concat([head, data])
}

const u32s = (...values: number[]): Buffer => {
  const b = Buffer.alloc(4 * values.length)
  values.forEach((v, i) => b.writeUInt32BE(v >>> 0, 4 * i))
  return b
}

const MAX_DATA = 0xffffff

/**
 * The server side of a SPDY/3.1 session, as Go's spdystream speaks it to kubectl: frames parsed from a byte stream,
 * header blocks through one shared zlib context per direction, every peer stream accepted with a SYN_REPLY, PINGs
 * echoed. Output goes out in order through one queue, because header compression is asynchronous here.
 */
export class SpdySession {
  private buffer = Buffer.alloc(0)
  private readonly inflate = createInflate({dictionary: SPDY_DICTIONARY})
  private readonly deflate = createDeflate({dictionary: SPDY_DICTIONARY, level: 9})
  private readonly streams = new Map<number, OpenStream>()
  private inbound: Promise<void> = Promise.resolve()
  private outbound: Promise<void> = Promise.resolve()
  private closed = false

  constructor(
    private readonly send: (chunk: Buffer) => void,
    private readonly onStream: (stream: SpdyStream) => void,
    private readonly onClose: () => void,
  ) {
    for (const z of [this.inflate, this.deflate]) z.on('error', () => this.close())
  }

  receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk])
    while (this.buffer.length >= 8) {
      const length = this.buffer.readUInt32BE(4) & 0xffffff
      if (this.buffer.length < 8 + length) break
      const frame = this.buffer.subarray(0, 8 + length)
      this.buffer = this.buffer.subarray(8 + length)
      this.inbound = this.inbound.then(() => this.handle(frame)).catch(() => this.close())
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const s of this.streams.values()) s.onReset()
    this.streams.clear()
    this.inflate.close()
    this.deflate.close()
    this.onClose()
  }

  private enqueue(frame: () => Promise<Buffer> | Buffer): void {
    this.outbound = this.outbound.then(async () => {
      if (this.closed) return
      this.send(await frame())
    }).catch(() => this.close())
  }

  private async handle(frame: Buffer): Promise<void> {
    if (this.closed) return
    const flags = frame[4]
    const payload = frame.subarray(8)
    if ((frame[0] & 0x80) === 0) {
      const stream = this.streams.get(frame.readUInt32BE(0) & 0x7fffffff)
      if (!stream) return
      if (payload.length > 0) stream.onData(Buffer.from(payload))
      if (flags & FLAG_FIN) this.remoteFin(stream)
      return
    }
    const type = frame.readUInt16BE(2)
    switch (type) {
      case FrameType.synStream: {
        const id = payload.readUInt32BE(0) & 0x7fffffff
        const headers = decodeHeaders(await pass(this.inflate, payload.subarray(10)))
        this.accept(id, headers, (flags & FLAG_FIN) !== 0)
        break
      }
      case FrameType.headers:
        await pass(this.inflate, payload.subarray(4))
        break
      case FrameType.rstStream: {
        const stream = this.streams.get(payload.readUInt32BE(0) & 0x7fffffff)
        if (stream) {
          this.streams.delete(stream.id)
          stream.onReset()
        }
        break
      }
      case FrameType.ping:
        this.enqueue(() => controlFrame(FrameType.ping, 0, Buffer.from(payload)))
        break
      case FrameType.goAway:
        this.close()
        break
      default:
        // SETTINGS and WINDOW_UPDATE: spdystream does no flow control, so neither does this server.
        break
    }
  }

  private accept(id: number, headers: Headers, fin: boolean): void {
    if (this.streams.has(id)) {
      this.enqueue(() => controlFrame(FrameType.rstStream, 0, u32s(id, RST_PROTOCOL_ERROR)))
      return
    }
    const stream: OpenStream = {
      id, headers, remoteClosed: false, localClosed: false,
      onData: () => {},
      onReset: () => {},
      write: (data) => {
        if (stream.localClosed || !this.streams.has(id)) return
        for (let off = 0; off < data.length; off += MAX_DATA) {
          const part = data.subarray(off, off + MAX_DATA)
          this.enqueue(() => dataFrame(id, 0, part))
        }
      },
      end: () => {
        if (stream.localClosed || !this.streams.has(id)) return
        stream.localClosed = true
        this.enqueue(() => dataFrame(id, FLAG_FIN, Buffer.alloc(0)))
        this.forgetIfDone(stream)
      },
      reset: () => {
        if (!this.streams.has(id)) return
        this.streams.delete(id)
        this.enqueue(() => controlFrame(FrameType.rstStream, 0, u32s(id, RST_CANCEL)))
      },
    }
    this.streams.set(id, stream)
    this.enqueue(async () => controlFrame(FrameType.synReply, 0, Buffer.concat([u32s(id), await pass(this.deflate, encodeHeaders({}))])))
    this.onStream(stream)
    if (fin) this.remoteFin(stream)
  }

  private remoteFin(stream: OpenStream): void {
    if (stream.remoteClosed) return
    stream.remoteClosed = true
    stream.onData(null)
    this.forgetIfDone(stream)
  }

  private forgetIfDone(stream: OpenStream): void {
    if (stream.remoteClosed && stream.localClosed) this.streams.delete(stream.id)
  }
}
