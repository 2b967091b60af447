# frozen_string_literal: true

# The Ruby runner: a long-lived process that loads a project's Ruby step files and runs
# their handlers for the Motia server, which talks to it over the socket whose file
# descriptor is in MOTIA_RUNNER_FD (see docs/runner-protocol.md). stdout and stderr are
# the server's to log; frames never go there.
#
#   MOTIA_RUNNER_FD=3 MOTIA_PROJECT_DIR=/path/to/project ruby runner.rb

require_relative 'channel'
require_relative 'dispatcher'

module Motia
  module Runner
    def self.main
      # Lines a handler prints reach the server's log as they are written.
      $stdout.sync = true
      $stderr.sync = true
      # Ruby files and protocol text are UTF-8 even where the locale says ASCII (Docker).
      if [Encoding::US_ASCII, Encoding::BINARY].include?(Encoding.default_external)
        Encoding.default_external = Encoding::UTF_8
      end
      # Ctrl-C in a terminal reaches the whole process group; the server ends the runner
      # with `shutdown` (or by closing the socket), so in-flight work can finish.
      trap('INT') {}

      socket = begin
        IO.for_fd(Integer(ENV.fetch('MOTIA_RUNNER_FD')), 'r+', autoclose: true)
      rescue KeyError, ArgumentError, SystemCallError => e
        abort "motia ruby runner: MOTIA_RUNNER_FD must hold the file descriptor of the " \
              "protocol socket (#{e.message}); the runner is started by the Motia server"
      end
      dispatcher = nil
      channel = Channel.new(socket) { dispatcher&.broken }
      dispatcher = Dispatcher.new(channel)
      dispatcher.run
    end
  end
end

exit(Motia::Runner.main) if $PROGRAM_NAME == __FILE__
