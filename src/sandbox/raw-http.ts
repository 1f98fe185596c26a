import {STATUS_CODES} from 'node:http'
import type {Duplex} from 'node:stream'

/** Answers an upgrade request that will not be upgraded: a whole HTTP response written on its raw socket, which then ends. */
export function endWithResponse(socket: Duplex, code: number, contentType: string, body: string): void {
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `Connection: close\r\n\r\n${body}`)
}
