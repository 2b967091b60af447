# frozen_string_literal: true

require_relative 'codec'
require_relative 'errors'

module Motia
  module Runner
    # A loaded step or stream file.
    class Step
      attr_reader :file, :kind, :middleware, :can_access

      def initialize(file, kind, mod, config)
        @file = file
        @kind = kind
        @mod = mod
        @handler = Step.defines?(mod, :handler) ? mod.instance_method(:handler) : nil
        @middleware = Array(pick(config, 'middleware')).select { |m| Codec.callable?(m) }
        @can_access = pick(config, 'can_access') || pick(config, 'canAccess')
        @can_access = nil unless Codec.callable?(@can_access)
      end

      def handler?
        !@handler.nil?
      end

      def handler_arity
        @handler.arity
      end

      def call_handler(args)
        @handler.bind_call(@mod, *args)
      end

      # Defined by the file itself (or a module it includes), not inherited from Object:
      # a helper that defines a global `handler` must not give every file one.
      def self.defines?(mod, name)
        mod.method_defined?(name) || mod.private_method_defined?(name)
      end

      private

      def pick(config, key)
        config.fetch(key) { config[key.to_sym] }
      end
    end

    # Loads step and stream files, each into its own anonymous module, so that files
    # which all define top-level `config` and `handler` (the classic Ruby step form) do
    # not replace each other's methods. module_eval with the real path keeps __FILE__,
    # __dir__, require_relative and backtrace lines working. The module is extended with
    # itself and is the handler's receiver, so top-level @variables, constants and helper
    # methods of the file are visible to its handler, as they were in classic Motia.
    class Loader
      STREAM_FILE = /(?:_stream|\.stream)\.rb\z/.freeze

      def initialize
        @steps = {}
      end

      def [](file)
        @steps[file]
      end

      def load_files(files)
        files.map { |file| load_file(file.to_s) }
      end

      def load_file(file)
        kind = STREAM_FILE.match?(file) ? 'stream' : 'step'
        path = File.expand_path(file)
        mod = Module.new
        mod.module_eval(File.read(path, encoding: Encoding::UTF_8), path, 1)
        mod.extend(mod)
        raise StepError, "#{file} does not define `config`" unless Step.defines?(mod, :config)

        raw = mod.instance_method(:config).bind_call(mod)
        raw = raw.to_h if raw.is_a?(Record)
        raise StepError, "`config` of #{file} returned #{raw.class}, not a Hash" unless raw.is_a?(Hash)

        config, functions = Codec.config(raw)
        step = Step.new(file, kind, mod, raw)
        @steps[file] = step
        report(file, kind, config, step.handler?, functions, nil)
      # Not only StandardError: SyntaxError and LoadError are ScriptErrors, and a file that
      # calls `exit` at load must not end the runner either.
      rescue Exception => e # rubocop:disable Lint/RescueException
        @steps.delete(file)
        report(file, kind, nil, false, [], Errors.load_error(e, path))
      end

      private

      def report(file, kind, config, handler, functions, error)
        {
          'file' => file, 'kind' => kind, 'config' => config,
          'handler' => handler, 'functions' => functions, 'error' => error
        }
      end
    end
  end
end
