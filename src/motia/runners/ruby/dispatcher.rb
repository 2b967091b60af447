# frozen_string_literal: true

require_relative 'codec'
require_relative 'context'
require_relative 'errors'
require_relative 'loader'

module Motia
  module Runner
    # Serves the server's requests. One reader thread takes frames off the socket: it
    # answers `load` itself, starts a thread per `invoke` (so many run at once and a
    # handler blocked on a context call holds up nobody), and hands `ok`/`err` answers
    # to the thread waiting for them.
    class Dispatcher
      PROTOCOL = 1

      def initialize(channel, loader = Loader.new)
        @channel = channel
        @loader = loader
        @calls = {} # call id => Queue the calling thread waits on
        @calls_lock = Mutex.new
        @next_call = 0
        @running = {} # invoke id => Thread
        @running_lock = Mutex.new
        @stopping = false
        @exit = Thread::Queue.new
      end

      # Runs until EOF, shutdown or a protocol error; returns the exit status.
      def run
        @channel.write({ 't' => 'hello', 'protocol' => PROTOCOL, 'runtime' => 'ruby',
                         'version' => RUBY_VERSION, 'pid' => Process.pid })
        Thread.new { read }
        @exit.pop
      end

      # The socket is gone (a write failed): nobody is left to answer.
      def broken
        @exit.push(0)
      end

      # A context call of invocation `inv`, made on the handler's thread.
      def call(inv, method, args)
        queue = Thread::Queue.new
        id = @calls_lock.synchronize do
          @next_call += 1
          @calls[@next_call] = queue
          @next_call
        end
        @channel.write({ 't' => 'call', 'id' => id, 'inv' => inv, 'method' => method,
                         'args' => Codec.value(args) })
        answer = queue.pop
        return answer['value'] if answer['t'] == 'ok'

        error = answer['error']
        raise CallError.new(error && error['message'] || "#{method} failed", error && error['name'])
      end

      def log(inv, level, message, fields)
        msg = message.is_a?(String) ? Codec.string(message) : message.to_s
        fields = Codec.value(fields)
        fields = { 'value' => fields } unless fields.nil? || fields.is_a?(Hash)
        @channel.write({ 't' => 'log', 'inv' => inv, 'level' => level, 'msg' => msg, 'fields' => fields })
        nil
      end

      private

      def read
        @channel.each_frame { |frame| dispatch(frame) if frame.is_a?(Record) }
        @exit.push(0)
      rescue Channel::ProtocolError => e
        warn "motia ruby runner: protocol error: #{e.message}; exiting"
        @exit.push(1)
      rescue Exception => e # rubocop:disable Lint/RescueException
        warn "motia ruby runner: internal error: #{e.class}: #{e.message}\n#{e.backtrace&.join("\n")}"
        @exit.push(70)
      end

      def dispatch(frame)
        case frame['t']
        when 'ok', 'err' then answered(frame)
        when 'invoke' then start(frame)
        when 'load' then load(frame)
        when 'ping' then @channel.write({ 't' => 'ok', 're' => frame['id'], 'value' => nil })
        when 'shutdown' then shutdown
        end
        # `cancel` is ignored: a Ruby thread cannot be stopped safely midway, and the
        # server no longer waits for the answer anyway. Unknown types are ignored too.
      end

      def answered(frame)
        queue = @calls_lock.synchronize { @calls.delete(frame['re']) }
        queue&.push(frame)
      end

      # Loads run on the reader thread: they are rare, and the server waits for the
      # reports before it invokes the files.
      def load(frame)
        reports = @loader.load_files(Array(frame['files']))
        @channel.write({ 't' => 'ok', 're' => frame['id'], 'value' => { 'files' => reports } })
      end

      def start(frame)
        id = frame['id']
        if @stopping
          @channel.write({ 't' => 'err', 're' => id,
                           'error' => { 'message' => 'the Ruby runner is shutting down' } })
          return
        end
        @running_lock.synchronize { @running[id] = Thread.new { invoke(frame) } }
      end

      def invoke(frame)
        id = frame['id']
        reply = begin
          { 't' => 'ok', 're' => id, 'value' => Invocation.new(self, @loader, frame).run }
        rescue Exception => e # rubocop:disable Lint/RescueException
          # Everything a handler raises, including `exit` and script errors, becomes the
          # invocation's error.
          { 't' => 'err', 're' => id, 'error' => Errors.describe(e) }
        end
        begin
          @channel.write(reply)
        rescue JSON::JSONError, EncodingError => e
          @channel.write({ 't' => 'err', 're' => id, 'error' => Errors.describe(e) })
        end
      ensure
        @running_lock.synchronize { @running.delete(id) }
      end

      # Finish the invocations in flight (their context calls are still answered, as the
      # reader keeps reading), then exit 0.
      def shutdown
        return if @stopping

        @stopping = true
        Thread.new do
          while (thread = @running_lock.synchronize { @running.each_value.first })
            begin
              thread.join
            rescue Exception # rubocop:disable Lint/RescueException
              nil # its error was reported as the invocation's answer
            end
          end
          @exit.push(0)
        end
      end
    end

    # Link between one invocation's context and the dispatcher.
    class Link
      def initialize(dispatcher, inv)
        @dispatcher = dispatcher
        @inv = inv
      end

      def call(method, args)
        @dispatcher.call(@inv, method, args)
      end

      def log(level, message, fields)
        @dispatcher.log(@inv, level, message, fields)
      end
    end

    # One `invoke`: finds the file's handler and calls it the way its kind asks for.
    class Invocation
      def initialize(dispatcher, loader, frame)
        @id = frame['id']
        @kind = frame['kind']
        @input = frame['input']
        @step = loader[frame['file']]
        raise ArgumentError, "#{frame['file']} is not loaded in the Ruby runner" unless @step

        @context = Context.new(Link.new(dispatcher, @id), frame['ctx'])
      end

      # Callables get as many leading arguments as they take, so `handler(req)` and
      # lambdas without the context work too.
      def self.fit(arity, args)
        arity >= 0 && args.length > arity ? args.first(arity) : args
      end

      def run
        case @kind
        when 'api' then api
        when 'event' then Codec.value(handle([@input, @context]))
        when 'cron' then Codec.value(handle(cron_args))
        when 'canAccess' then can_access
        else raise ArgumentError, "unknown invoke kind #{@kind.inspect}"
        end
      end

      private

      def handle(args)
        raise NoMethodError, "#{@step.file} does not define `handler`" unless @step.handler?

        @step.call_handler(Invocation.fit(@step.handler_arity, args))
      end

      # Classic cron handlers are `handler(context)`; a two-argument handler gets a nil input.
      def cron_args
        @step.handler? && @step.handler_arity == 2 ? [nil, @context] : [@context]
      end

      # The config's middleware run first, each as (req, context, next_handler).
      def api
        response = chain(0)
        body = response.is_a?(Hash) || response.is_a?(Record) ? Context.pick(response, 'body') : nil
        out = Codec.value(response)
        out['body'] = Codec.buffer(body) if Codec.binary?(body) && out.is_a?(Hash)
        out
      end

      def chain(index)
        request = [@input, @context]
        middleware = @step.middleware[index]
        return handle(request) unless middleware

        following = proc { chain(index + 1) }
        middleware.call(*Invocation.fit(middleware.arity, [*request, following]))
      end

      def can_access
        check = @step.can_access
        raise NoMethodError, "#{@step.file} has no can_access in its config" unless check

        input = @input || Record.new
        check.call(*Invocation.fit(check.arity, [input['subscription'], input['authContext']])) ? true : false
      end
    end
  end
end
