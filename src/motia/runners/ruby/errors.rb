# frozen_string_literal: true

require_relative 'codec'

module Motia
  # Raised in a handler when the server answers one of its context calls with an error
  # (for example an emit to a topic the step does not declare).
  class CallError < StandardError
    # The error's class name on the server's side, when it sent one.
    attr_reader :remote_name

    def initialize(message, remote_name = nil)
      super(message)
      @remote_name = remote_name
    end
  end

  module Runner
    # A file that loads but is not a usable step (no config, config not a Hash).
    class StepError < StandardError; end

    # Exceptions as the protocol's error objects.
    module Errors
      RUNNER_DIR = "#{File.expand_path(__dir__)}/"

      module_function

      # Each step file is loaded into an anonymous module, so classes it defines are
      # named like `#<Module:0x...>::PaymentDeclined`; users know them as PaymentDeclined.
      ANONYMOUS = /#<Module:0x\h+>::/.freeze

      def describe(error)
        {
          'message' => message(error),
          'name' => class_name(error),
          'stack' => user_backtrace(error).join("\n")
        }
      end

      def class_name(error)
        (error.class.name || error.class.to_s).gsub(ANONYMOUS, '')
      end

      def message(error)
        Codec.string(error.message.to_s)
      rescue StandardError
        error.class.to_s
      end

      # The runner's own frames below the user's code (thread start, dispatch) say
      # nothing to the user; frames above it (a context call that failed) stay.
      def user_backtrace(error)
        frames = error.backtrace || []
        last = frames.rindex { |frame| !runner_frame?(frame) }
        last ? frames[0..last] : frames
      end

      def runner_frame?(frame)
        frame.start_with?(RUNNER_DIR, '<internal:')
      end

      # A file report's error: the line in the step file itself, when known, is taken
      # from a syntax error's message or else from the backtrace (require_relative of a
      # broken helper, an exception at load).
      def load_error(error, path)
        prefix = "#{path}:"
        line = line_after(error.message.to_s, prefix)
        unless line
          frame = (error.backtrace || []).find { |f| f.start_with?(prefix) }
          line = frame && line_after(frame, prefix)
        end
        text = message(error)
        text = "#{text} (#{class_name(error)})" unless error.is_a?(SyntaxError) || error.is_a?(StepError)
        stack = (error.backtrace || []).reject { |frame| runner_frame?(frame) }
        { 'message' => text, 'stack' => stack.join("\n"), 'line' => line }
      end

      def line_after(text, prefix)
        at = text.index(prefix)
        at && text[at + prefix.length..][/\A\d+/]&.to_i
      end
    end
  end
end
