# frozen_string_literal: true

require 'json'
require_relative 'record'

module Motia
  module Runner
    # The protocol socket: one JSON object per line in each direction.
    class Channel
      MAX_LINE = 64 * 1024 * 1024
      READ_SIZE = 256 * 1024
      NEWLINE = "\n".b
      # Objects are parsed straight into records, so frames, invoke inputs and the values
      # of call answers all arrive in the form handlers use.
      PARSE_OPTIONS = { object_class: Record, max_nesting: false }.freeze

      class ProtocolError < StandardError; end

      # on_broken runs once when a write fails: the server is gone.
      def initialize(io, &on_broken)
        @io = io
        @io.binmode
        @io.sync = true
        # Processes a handler starts must not hold the socket open after we exit.
        @io.close_on_exec = true
        @on_broken = on_broken
        @write_lock = Mutex.new
        # Generated under the write lock, so one generator state can be shared.
        @generator = JSON::State.new(max_nesting: 0)
        @broken = false
      end

      # Sends one frame; safe from any thread. Raises JSON::GeneratorError for values
      # that are not JSON; returns false when the socket is gone.
      def write(frame)
        @write_lock.synchronize do
          return false if @broken

          line = @generator.generate(frame)
          line << NEWLINE
          @io.write(line)
          true
        end
      rescue IOError, SystemCallError
        broken = @write_lock.synchronize { !@broken && (@broken = true) }
        @on_broken&.call if broken
        false
      end

      # Yields each frame until the server closes the socket. Lines are cut out of a
      # byte buffer, so frames may arrive split across reads or many to a read.
      def each_frame
        buffer = String.new(capacity: READ_SIZE, encoding: Encoding::BINARY)
        chunk = String.new(capacity: READ_SIZE, encoding: Encoding::BINARY)
        loop do
          begin
            @io.readpartial(READ_SIZE, chunk)
          rescue EOFError, IOError, SystemCallError
            return
          end
          buffer << chunk
          # A long line arrives in many chunks: look for its end in the new bytes only.
          unless chunk.include?(NEWLINE)
            too_long! if buffer.bytesize > MAX_LINE
            next
          end
          start = 0
          while (stop = buffer.index(NEWLINE, start))
            too_long! if stop - start > MAX_LINE
            frame = parse(buffer.byteslice(start, stop - start))
            start = stop + 1
            yield frame if frame
          end
          buffer = buffer.byteslice(start, buffer.bytesize - start)
          too_long! if buffer.bytesize > MAX_LINE
        end
      end

      private

      def parse(line)
        return nil if line.empty?

        JSON.parse(line.force_encoding(Encoding::UTF_8), PARSE_OPTIONS)
      rescue JSON::ParserError => e
        warn "motia ruby runner: ignored a frame that is not JSON (#{e.message[0, 200]})"
        nil
      end

      def too_long!
        raise ProtocolError, "a frame is longer than #{MAX_LINE} bytes (the protocol's limit)"
      end
    end
  end
end
