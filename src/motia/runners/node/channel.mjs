// The protocol channel: newline-delimited JSON frames on the socket the server passed us as
// an inherited file descriptor. Frames never travel on stdout/stderr, so whatever a step prints
// cannot corrupt them.

import net from 'node:net'

// A line longer than this is a protocol error (docs/runner-protocol.md).
export const MAX_LINE_BYTES = 64 * 1024 * 1024

const NEWLINE = 0x0a

// Splits a byte stream into lines. Works on Buffers so that a multi-byte UTF-8 character cut
// between two chunks is decoded only once the whole line is there.
export class LineBuffer {
  constructor(onLine, maxLineBytes = MAX_LINE_BYTES) {
    this.onLine = onLine
    this.maxLineBytes = maxLineBytes
    this.pending = [] // pieces of the current, unfinished line
    this.pendingBytes = 0
  }

  // Feeds one chunk; calls onLine(Buffer) for every complete line. Throws when a line grows
  // past the cap.
  push(chunk) {
    let start = 0
    let end = chunk.indexOf(NEWLINE, start)
    while (end !== -1) {
      let line = chunk.subarray(start, end)
      if (this.pendingBytes > 0) {
        this.pending.push(line)
        line = Buffer.concat(this.pending, this.pendingBytes + line.length)
        this.pending = []
        this.pendingBytes = 0
      }
      if (line.length > this.maxLineBytes) throw this.tooLong(line.length)
      this.onLine(line)
      start = end + 1
      end = chunk.indexOf(NEWLINE, start)
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start)
      this.pending.push(rest)
      this.pendingBytes += rest.length
      if (this.pendingBytes > this.maxLineBytes) throw this.tooLong(this.pendingBytes)
    }
  }

  tooLong(bytes) {
    return new Error(
      `protocol error: a frame is longer than ${this.maxLineBytes} bytes (at least ${bytes} ` +
        'bytes without a newline)',
    )
  }
}

// Opens the socket on `fd`; `onFrame` gets each parsed frame, `onClose` is called once when the
// server's end goes away (end of stream, reset, or any socket error).
export function openChannel(fd, { onFrame, onClose, onFatal }) {
  const socket = new net.Socket({ fd, readable: true, writable: true })
  let closed = false
  const close = (reason) => {
    if (closed) return
    closed = true
    onClose(reason)
  }

  const lines = new LineBuffer((line) => {
    if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) return
    let frame
    try {
      frame = JSON.parse(line.toString('utf8'))
    } catch (error) {
      // Without a parseable frame there is no id to answer; say so and keep serving.
      process.stderr.write(
        `motia node runner: ignoring a frame that is not JSON (${error.message}): ` +
          `${line.subarray(0, 200).toString('utf8')}\n`,
      )
      return
    }
    if (frame === null || typeof frame !== 'object' || Array.isArray(frame)) {
      process.stderr.write('motia node runner: ignoring a frame that is not a JSON object\n')
      return
    }
    try {
      onFrame(frame)
    } catch (error) {
      // A failure to handle one frame is not a broken channel: report it and read on.
      const detail = error?.stack ?? error
      process.stderr.write(`motia node runner: handling a ${frame.t} frame failed: ${detail}\n`)
    }
  })

  socket.on('data', (chunk) => {
    try {
      lines.push(chunk)
    } catch (error) {
      onFatal(error)
    }
  })
  socket.on('end', () => close('the server closed the channel'))
  socket.on('close', () => close('the channel closed'))
  socket.on('error', (error) => close(`channel error: ${error.message}`))

  return {
    // Sends one frame. JSON.stringify escapes newlines inside strings, so a frame is one line.
    // Throws (TypeError) when `frame` cannot be encoded; callers decide what that means.
    send(frame) {
      if (closed) return
      socket.write(JSON.stringify(frame) + '\n')
    },
    // Flushes what is queued and closes our end; resolves when done (or after `timeoutMs`).
    end(timeoutMs = 2000) {
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        timer.unref()
        if (closed || socket.destroyed) return resolve()
        socket.end(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    },
  }
}
