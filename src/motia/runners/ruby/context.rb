# frozen_string_literal: true

require 'time'
require_relative 'record'

module Motia
  # The `context` a handler receives. Every call blocks until the server answers and
  # returns the answered value (JSON objects as Motia::Record); an error answer raises
  # Motia::CallError in the handler.
  class Context
    attr_reader :trace_id, :flows, :attempt, :event_id, :step

    alias traceId trace_id
    alias eventId event_id

    # link: the runner's side of this invocation; it sends the calls (converting their
    # arguments to JSON) and the log lines.
    def initialize(link, ctx)
      @link = link
      ctx ||= Record.new
      @trace_id = ctx['traceId']
      @flows = ctx['flows'] || []
      @attempt = ctx['attempt']
      @event_id = ctx['eventId']
      @step = ctx['step']
      @stream_names = ctx['streams']
    end

    # emit(topic: 'x', data: {...}) or emit({ 'topic' => 'x', ... }); a message group
    # may be given as messageGroupId or message_group_id. `delay` (seconds), `at` (a Time
    # or an ISO-8601 string with an offset) and `key` schedule it. Returns the message id.
    def emit(event)
      unless event.is_a?(Hash) || event.is_a?(Record)
        raise ArgumentError, "emit takes a Hash such as { topic: 'x', data: {} }, not #{event.class}"
      end

      topic = Context.pick(event, 'topic')
      raise ArgumentError, 'emit needs a topic' if topic.nil?

      out = { 'topic' => topic, 'data' => Context.pick(event, 'data') }
      group = Context.pick(event, 'messageGroupId')
      group = Context.pick(event, 'message_group_id') if group.nil?
      out['messageGroupId'] = group unless group.nil?
      %w[delay at key].each do |field|
        value = Context.pick(event, field)
        value = value.iso8601(6) if value.respond_to?(:iso8601) && !value.is_a?(String)
        out[field] = value unless value.nil?
      end
      @link.call('emit', [out])
    end

    # cancel(message_id) or cancel(key: 'k', topic: 'optional.topic'): cancels a pending
    # scheduled emit; true when one was cancelled.
    def cancel(message_id = nil, key: nil, topic: nil)
      if message_id.nil? == key.nil?
        raise ArgumentError, 'cancel takes a message id or key: ..., exactly one'
      end

      target = message_id.nil? ? { 'key' => key, 'topic' => topic }.compact : message_id
      @link.call('cancel', [target])
    end

    def state
      @state ||= State.new(@link)
    end

    def streams
      @streams ||= Streams.new(@link, @stream_names)
    end

    def logger
      @logger ||= Logger.new(@link)
    end

    def inspect
      "#<Motia::Context trace_id=#{@trace_id.inspect} step=#{@step.inspect}>"
    end

    def self.pick(hash, key)
      return hash[key] if hash.is_a?(Record)

      hash.fetch(key) { hash[key.to_sym] }
    end
  end

  # context.state: values grouped by a group id (often the trace id).
  class State
    def initialize(link)
      @link = link
    end

    def get(group_id, key)
      @link.call('state.get', [group_id, key])
    end

    def set(group_id, key, value)
      @link.call('state.set', [group_id, key, value])
    end

    def delete(group_id, key)
      @link.call('state.delete', [group_id, key])
    end

    def get_group(group_id)
      @link.call('state.getGroup', [group_id])
    end
    alias getGroup get_group

    def clear(group_id)
      @link.call('state.clear', [group_id])
      nil
    end
  end

  # context.streams: `streams.todos`, `streams.resource_updates` (for the stream named
  # resource-updates) or `streams['resource-updates']`.
  class Streams
    def initialize(link, names)
      @link = link
      @names = names
      @streams = {}
    end

    def [](name)
      name = name.to_s
      @streams[name] ||= Stream.new(@link, name)
    end

    def method_missing(name, *args)
      return super unless args.empty?

      found = resolve(name.to_s)
      found ? self[found] : super
    end

    def respond_to_missing?(name, include_private = false)
      (@names && resolve(name.to_s)) || super
    end

    private

    # Without the step's list of streams any name is taken as it is.
    def resolve(key)
      return key unless @names

      [key, key.tr('_', '-'), Record.camel(key)].find { |candidate| @names.include?(candidate) }
    end
  end

  # One stream; items are stored by group id and id.
  class Stream
    attr_reader :name

    def initialize(link, name)
      @link = link
      @name = name
    end

    def get(group_id, id)
      @link.call('streams.get', [@name, group_id, id])
    end

    def set(group_id, id, data)
      @link.call('streams.set', [@name, group_id, id, data])
    end

    def delete(group_id, id)
      @link.call('streams.delete', [@name, group_id, id])
    end

    def get_group(group_id)
      @link.call('streams.getGroup', [@name, group_id])
    end
    alias getGroup get_group

    # send({ group_id: 'room', id: 'optional' }, { type: 'typing', data: {...} }) sends an
    # ephemeral event to the stream's subscribers; send('room', event) for a whole group.
    # (This replaces Object#send on streams; use __send__ for reflection.)
    def send(channel, event)
      channel = { 'groupId' => channel } unless channel.is_a?(Hash) || channel.is_a?(Record)
      group = Context.pick(channel, 'groupId')
      group = Context.pick(channel, 'group_id') if group.nil?
      target = { 'groupId' => group }
      id = Context.pick(channel, 'id')
      target['id'] = id unless id.nil?
      @link.call('streams.send', [@name, target, event])
      nil
    end

    def update(group_id, id, ops)
      @link.call('streams.update', [@name, group_id, id, ops])
    end
  end

  # context.logger: log lines go to the server's log with the invocation's trace.
  class Logger
    def initialize(link)
      @link = link
    end

    def debug(message, fields = nil)
      @link.log('debug', message, fields)
    end

    def info(message, fields = nil)
      @link.log('info', message, fields)
    end

    def warn(message, fields = nil)
      @link.log('warn', message, fields)
    end
    alias warning warn

    def error(message, fields = nil)
      @link.log('error', message, fields)
    end
    alias fatal error
  end
end
